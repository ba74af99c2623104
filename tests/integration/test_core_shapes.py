"""Wrongly typed fields are a 400 in the client's shape naming the field path, for every
client protocol and both provider kinds (every translator pair), never a 500."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from aiohttp import ClientSession

from sidecar.errors import InvalidRequest
from sidecar.ingress.shapes import check_shape

USER = {"role": "user", "content": "hi"}
MALFORMED: dict[str, list[tuple[dict[str, Any], str]]] = {
    "openai": [
        ({"messages": [USER, {"role": "assistant", "tool_calls": 5}]}, "messages[1].tool_calls"),
        ({"messages": [USER, {"role": "assistant", "tool_calls": [{"id": "a", "function": 5}]}]},
         "messages[1].tool_calls[0].function"),
        ({"messages": [USER], "tools": [{"type": "function", "function": "s"}]},
         "tools[0].function"),
        ({"messages": [{"role": "user", "content": [5]}]}, "messages[0].content[0]"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"messages": [USER], "tools": 5}, "tools"),
        ({"messages": [USER], "max_tokens": "x"}, "max_tokens"),
        ({"messages": [USER], "max_completion_tokens": 1.5}, "max_completion_tokens"),
    ],
    "anthropic": [
        ({"messages": [{"role": "user", "content": [5]}]}, "messages[0].content[0]"),
        ({"messages": [USER], "tools": [5]}, "tools[0]"),
        ({"messages": [USER], "system": 5}, "system"),
        ({"messages": [{"role": "assistant", "content": [{"type": "tool_use", "input": "x"}]}]},
         "messages[0].content[0].input"),
        ({"messages": [{"role": "user", "content": [{"type": "tool_result", "content": [7]}]}]},
         "messages[0].content[0].content[0]"),
    ],
    "responses": [
        ({"input": [5]}, "input[0]"),
        ({"input": "hi", "tools": "x"}, "tools"),
        ({"input": [{"type": "message", "role": "user", "content": [{"type": "input_text",
                                                                     "text": 5}]}]},
         "input[0].content[0].text"),
        ({"input": [{"type": "function_call", "call_id": "c", "name": 5}]}, "input[0].name"),
        ({"input": "hi", "max_output_tokens": "x"}, "max_output_tokens"),
    ],
}  # fmt: skip
PATHS = {
    "openai": "/v1/chat/completions",
    "anthropic": "/v1/messages",
    "responses": "/v1/responses",
}
CASES = [(p, body, field) for p, cases in MALFORMED.items() for body, field in cases]


@pytest.mark.parametrize("model", ["gpt-good", "claude-good"])  # openai-kind, anthropic-kind
@pytest.mark.parametrize(("protocol", "body", "field"), CASES)
async def test_malformed_body_is_a_400_in_the_clients_shape(
    tierline: Any, model: str, protocol: str, body: dict[str, Any], field: str
) -> None:
    server = await tierline()
    for stream in (False, True):
        data = orjson.dumps({"model": model, "max_tokens": 20, "stream": stream, **body})
        async with ClientSession() as session:
            async with session.post(server.make_url(PATHS[protocol]), data=data) as resp:
                status, answer = resp.status, await resp.json()
        assert status == 400, answer
        if protocol == "anthropic":
            assert answer["type"] == "error"
            error = answer["error"]
        else:
            error = answer["error"]
            assert error["param"] == field
        assert error["type"] == "invalid_request_error"
        assert error["message"].startswith(f"`{field}`: must be ")


def test_well_formed_bodies_pass_and_nulls_are_absent() -> None:
    call = {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    check_shape(
        "openai", {"messages": [{"role": "assistant", "content": None, "tool_calls": [call]}]}
    )
    check_shape("anthropic", {"system": [{"type": "text", "text": "s"}], "tools": None,
                              "messages": [{"role": "user", "content": "x"}]})  # fmt: skip
    check_shape("responses", {"input": "hi", "instructions": "be brief"})
    with pytest.raises(InvalidRequest) as info:
        check_shape("anthropic", {"messages": [{"role": 5, "content": "x"}]})
    assert info.value.param == "messages[0].role"
