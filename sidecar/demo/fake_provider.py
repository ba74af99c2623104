"""A fake LLM provider speaking OpenAI Chat Completions and Anthropic Messages.

This docstring is the contract the tests, the demo and the benchmarks rely on.

Endpoints
    POST /v1/chat/completions      OpenAI Chat Completions; ``stream`` honoured; with
                                   ``stream_options.include_usage`` every chunk carries
                                   ``"usage": null`` and a final chunk with ``choices: []``
                                   carries usage (``prompt_tokens_details.cached_tokens``);
                                   the stream ends with ``data: [DONE]``.
    POST /v1/messages              Anthropic Messages (``?beta=true`` accepted); requires
                                   ``model``, ``messages``, ``max_tokens`` and the
                                   ``anthropic-version`` header (400 otherwise, as the real
                                   API). Streams message_start (usage with
                                   cache_read_input_tokens / cache_creation_input_tokens),
                                   content_block_start, ping, content_block_delta (text_delta
                                   or input_json_delta), content_block_stop, message_delta
                                   (stop_reason, full usage), message_stop.
    POST /v1/messages/count_tokens ``{"input_tokens": N}``.
    A malformed body (not JSON, a missing field, a wrongly typed one such as ``"tools": 5``)
    gets a 400 ``invalid_request_error`` in the protocol's error shape, never a 500.
    GET  /v1/models                OpenAI list shape; Anthropic shape when the request has
                                   ``anthropic-version``. Models: ``build_fake_app(models=...)``.
    GET  /_fake/requests           every received /v1 request, oldest first (bounded):
                                   ``{"method","path","query","headers","body","behavior"}``
                                   (header names lower-cased; body parsed JSON or null).
    DELETE /_fake/requests         clear the recorded requests.
    POST /_fake/script             queue scripted replies: a JSON list, or
                                   ``{"model": M, "replies": [...]}`` to key them to one model.
                                   Each item: ``{"text": "..."}``, ``{"tool_calls": [{"name":
                                   N, "arguments": {..} or "json"}]}`` (both may be combined),
                                   optionally ``"behavior": SPEC`` (e.g. ``"error503"``). A
                                   request takes the next item for its model, else the next
                                   unkeyed item, else answers normally.
    DELETE /_fake/script           drop every queued scripted reply.
    POST /_fake/reset              clear requests, scripts, failure counters and cache state.

Tokens (deterministic): every prompt part (tool, system block, message) counts
``ceil(len(compact JSON) / 4)``; output counts the same over the answer text and tool
arguments. Prompt caching: Anthropic caches the prefix up to each ``cache_control``
breakpoint (tools, system, messages order): the first time a prefix is seen it is
reported as ``cache_creation_input_tokens``, later as ``cache_read_input_tokens``.
OpenAI caches automatically at message boundaries: the longest prefix seen before is
reported as ``cached_tokens`` (included in ``prompt_tokens``).

Behaviour: the spec is the ``x-fake-behavior`` header followed by the model name,
matched as whole words, case-insensitive (``fake-tool``, ``claude-slow-200-tool`` ...):
    (default)         fixed text answer: "Hello from the fake {model}. ..."
    chunks-N          the text streamed as exactly N content chunks (benchmarks)
    echo              answer with the last user message text
    tool / tools      a tool call to the first tool in the request's ``tools`` (arguments
                      built from its JSON schema's required properties); OpenAI streams the
                      arguments as fragments; Anthropic as input_json_delta. No tools: text.
    slow[-MS]         wait MS (default 1000) before the response starts
    stall[-MS]        send the first events (2; ``after-N``: N), then go silent for MS
                      (default 30000), then finish (non-streaming: headers and half the
                      body, then silence)
    disconnect[-N]    send N events (default 2; non-streaming: half the body), then drop
                      the connection
    ratelimit         429 with ``Retry-After`` (default 1; ``retry-after-S`` changes it)
    ratelimit-once    429 for the first request per model, then success
    errorNNN          that status (e.g. error500, error503); error529 / overloaded[529]: 529
    context[-N]       context overflow in the protocol's wording (OpenAI 400
                      ``context_length_exceeded``; Anthropic 400 "prompt is too long: ...");
                      with N: only when the prompt has more than N tokens
    auth / forbidden  401 / 403 with the protocol's error body
    notfound          404 (OpenAI ``model_not_found``, Anthropic ``not_found_error``)
    badrequest        400 invalid_request_error
    fail-N            the error above (default 503) only for the first N requests per model
API keys (``Authorization: Bearer K`` or ``x-api-key: K``): a key containing ``bad-key``
gets 401, ``limited-key`` 429, ``forbidden-key`` 403, whatever the spec. The header
``x-fake-fail-times: N`` is the same as ``fail-N``. Failure counters, scripts, cache
state and recorded requests live in the app (``FAKE_STATE``), never in the module.
Responses carry ``x-request-id`` (OpenAI) / ``request-id`` (Anthropic).
"""

from __future__ import annotations

import argparse
import asyncio
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from sidecar.demo import fake_wire as wire
from sidecar.demo.fake_behavior import Behavior, parse_behavior
from sidecar.demo.fake_control import FAKE_STATE, FakeState, add_control_routes, dumps, record
from sidecar.errors import InvalidRequest
from sidecar.ingress.shapes import check_shape

DEFAULT_MODELS = ("fake-model", "fake-small", "fake-large", "fake-tool")
MAX_CACHE_PREFIXES = 10_000
__all__ = ["DEFAULT_MODELS", "FAKE_STATE", "FakeState", "build_fake_app", "main", "run_fake"]


@dataclass(frozen=True)
class _Call:
    """One parsed chat request."""

    protocol: str
    model: str
    body: dict[str, Any]
    stream: bool
    rid: str


def build_fake_app(
    *, models: Sequence[str] = DEFAULT_MODELS, max_requests: int = 1000
) -> web.Application:
    """A fresh fake provider app; every instance has its own state."""
    app = web.Application()
    app[FAKE_STATE] = FakeState(models=tuple(models), requests=deque(maxlen=max_requests))
    app.router.add_post("/v1/chat/completions", _openai)
    app.router.add_post("/v1/messages", _anthropic)
    app.router.add_post("/v1/messages/count_tokens", _count_tokens)
    add_control_routes(app)
    return app


# --- the chat endpoints ------------------------------------------------------------------


async def _openai(request: web.Request) -> web.StreamResponse:
    return await _chat(request, "openai")


async def _anthropic(request: web.Request) -> web.StreamResponse:
    return await _chat(request, "anthropic")


def _validate(protocol: str, body: dict[str, Any] | None, headers: Mapping[str, str]) -> str:
    """The real API's 400 message for a malformed request, or ''."""
    if body is None:
        return "request body is required"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: field required"
    if not isinstance(body.get("messages"), list):
        return "messages: field required (a list)"
    try:  # wrongly typed fields, as the real APIs' schema validation would find them
        check_shape(protocol, body)
    except InvalidRequest as exc:
        return exc.message
    if protocol == "anthropic":
        if not isinstance(body.get("max_tokens"), int):
            return "max_tokens: field required"
        if "anthropic-version" not in headers:
            return "anthropic-version: header is required"
    return ""


async def _chat(request: web.Request, protocol: str) -> web.StreamResponse:
    spec_header = request.headers.get("x-fake-behavior", "")
    body, error = await record(request, spec_header)
    state = request.app[FAKE_STATE]
    rid = f"fake{next(state.ids):06d}"
    error = error or _validate(protocol, body, request.headers)
    if error or body is None:
        return _error(protocol, "badrequest", 400, error, rid)
    call = _Call(protocol, body["model"], body, bool(body.get("stream")), rid)
    item = _next_script(state, call.model)
    spec = " ".join((spec_header, str(item.get("behavior", "")), call.model))
    behavior = parse_behavior(spec, _api_key(request), request.headers.get("x-fake-fail-times"))
    behavior = _apply_fail_count(state, call.model, behavior)
    if behavior.delay_ms:
        await asyncio.sleep(behavior.delay_ms / 1000)
    try:  # whatever the checks above let through, a malformed body is a 400, as upstream
        answer = _answer(state, call, behavior, item)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return _error(protocol, "badrequest", 400, f"malformed request: {exc}", rid)
    if isinstance(answer, web.Response):
        return answer
    behavior, reply, tokens = answer
    if call.stream:
        return await _stream(request, call, behavior, reply, tokens)
    return await _respond(request, call, behavior, reply, tokens)


def _answer(
    state: FakeState, call: _Call, behavior: Behavior, item: Mapping[str, Any]
) -> web.Response | tuple[Behavior, wire.Reply, wire.Tokens]:
    """The behaviour's error response, or the reply with its usage."""
    prompt = wire.prompt_tokens(call.protocol, call.body)
    if behavior.error == "context" and prompt <= behavior.context_limit:
        behavior = behavior.succeeded()
    b = behavior
    if b.error:
        message = wire.error_message(call.protocol, b.error, b.status, call.model, prompt)
        return _error(call.protocol, b.error, b.status, message, call.rid, b.retry_after)
    reply = _reply(call, behavior, item)
    return behavior, reply, _tokens(state, call, reply, prompt)


def _api_key(request: web.Request) -> str:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key", "")


def _next_script(state: FakeState, model: str) -> dict[str, Any]:
    for key in (model, "*"):
        queue = state.scripts.get(key)
        if queue:
            return queue.popleft()
    return {}


def _apply_fail_count(state: FakeState, model: str, behavior: Behavior) -> Behavior:
    """Errors with ``fail_times`` apply to the first N requests per model only."""
    if behavior.fail_times is None or behavior.error is None:
        return behavior
    seen = state.fail_counts.get(model, 0) + 1
    state.fail_counts[model] = seen
    return behavior if seen <= behavior.fail_times else behavior.succeeded()


def _reply(call: _Call, behavior: Behavior, item: Mapping[str, Any]) -> wire.Reply:
    if "text" in item or "tool_calls" in item:
        calls = tuple(
            (str(c.get("name", "tool")), _arguments(c.get("arguments", {})))
            for c in item.get("tool_calls") or []
        )
        return wire.Reply(text=str(item.get("text") or ""), tool_calls=calls)
    if behavior.shape == "tool":
        tool = wire.first_tool(call.protocol, call.body.get("tools") or [])
        if tool is not None:
            return wire.Reply(tool_calls=((tool[0], _arguments(tool[1])),))
    if behavior.shape == "echo":
        return wire.Reply(text=_last_user_text(call.body) or "(nothing to echo)")
    if behavior.chunks:
        return wire.Reply(text="".join(f"tok{i} " for i in range(behavior.chunks)))
    return wire.Reply(text=f"Hello from the fake {call.model}. This is a deterministic answer.")


def _arguments(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _last_user_text(body: Mapping[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            texts = [b.get("text", "") for b in content if isinstance(b, dict)]
            return " ".join(t for t in texts if t)
    return ""


def _tokens(state: FakeState, call: _Call, reply: wire.Reply, prompt: int) -> wire.Tokens:
    """Usage with prompt-cache accounting (see the module docstring)."""
    prefixes = wire.cache_prefixes(call.protocol, call.body)
    # OpenAI never reports the newest message as cached; Anthropic caches up to breakpoints.
    candidates = prefixes[:-1] if call.protocol == "openai" else prefixes
    seen = state.cache_seen
    read = next((tokens for digest, tokens in reversed(candidates) if digest in seen), 0)
    write = 0
    if call.protocol == "anthropic" and prefixes:
        write = max(0, prefixes[-1][1] - read)
    for digest, _ in prefixes:
        seen[digest] = None
        seen.move_to_end(digest)
    while len(seen) > MAX_CACHE_PREFIXES:
        seen.popitem(last=False)
    output = wire.reply_tokens(reply)
    rest = max(0, prompt - read - write)
    return wire.Tokens(input=rest, output=output, cache_read=read, cache_write=write)


# --- writing responses -------------------------------------------------------------------


def _headers(protocol: str, rid: str) -> dict[str, str]:
    return {"request-id" if protocol == "anthropic" else "x-request-id": f"req_{rid}"}


def _error(
    protocol: str, kind: str, status: int, message: str, rid: str, retry_after: str = "1"
) -> web.Response:
    headers = _headers(protocol, rid)
    if status == 429:
        headers["retry-after"] = retry_after
    if protocol == "anthropic":
        body = wire.anthropic_error(kind, message, f"req_{rid}")
    else:
        body = wire.openai_error(kind, message)
    return web.json_response(body, status=status, headers=headers, dumps=dumps)


async def _respond(
    request: web.Request, call: _Call, behavior: Behavior, reply: wire.Reply, tokens: wire.Tokens
) -> web.StreamResponse:
    if call.protocol == "anthropic":
        body = wire.anthropic_body(call.model, call.rid, reply, tokens)
    else:
        body = wire.openai_body(call.model, call.rid, reply, tokens)
    data = orjson.dumps(body)
    if behavior.shape not in ("disconnect", "stall"):
        return web.Response(
            body=data, content_type="application/json", headers=_headers(call.protocol, call.rid)
        )
    response = web.StreamResponse(headers=_headers(call.protocol, call.rid))
    response.content_type = "application/json"
    response.content_length = len(data)
    await response.prepare(request)
    await response.write(data[: len(data) // 2])
    if behavior.shape == "stall":
        await asyncio.sleep(behavior.stall_ms / 1000)
        await response.write(data[len(data) // 2 :])
        await response.write_eof()
        return response
    return _drop(request, response)


async def _stream(
    request: web.Request, call: _Call, behavior: Behavior, reply: wire.Reply, tokens: wire.Tokens
) -> web.StreamResponse:
    if call.protocol == "anthropic":
        events = wire.anthropic_events(call.model, call.rid, reply, tokens, chunks=behavior.chunks)
    else:
        options = call.body.get("stream_options") or {}
        include = isinstance(options, dict) and bool(options.get("include_usage"))
        events = wire.openai_events(
            call.model, call.rid, reply, tokens, include_usage=include, chunks=behavior.chunks
        )
    headers = _headers(call.protocol, call.rid) | {"cache-control": "no-cache"}
    response = web.StreamResponse(headers=headers)
    response.content_type = "text/event-stream"
    await response.prepare(request)
    for index, event in enumerate(events):
        if index == behavior.cut_after and behavior.shape == "disconnect":
            return _drop(request, response)
        if index == behavior.cut_after and behavior.shape == "stall":
            await asyncio.sleep(behavior.stall_ms / 1000)
        await response.write(event)
    await response.write_eof()
    return response


def _drop(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """Drop the connection mid-response (the client sees a truncated body)."""
    response.force_close()
    if request.transport is not None:
        request.transport.close()
    return response


# --- other endpoints ---------------------------------------------------------------------


async def _count_tokens(request: web.Request) -> web.Response:
    body, error = await record(request)
    if body is not None and not error:
        error = _validate("anthropic", {"max_tokens": 1, **body}, {"anthropic-version": "-"})
    if error or body is None:
        return _error("anthropic", "badrequest", 400, error or "body required", "count")
    try:
        return web.json_response({"input_tokens": wire.prompt_tokens("anthropic", body)})
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return _error("anthropic", "badrequest", 400, f"malformed request: {exc}", "count")


# --- manual use --------------------------------------------------------------------------


def run_fake(host: str = "127.0.0.1", port: int = 9999) -> None:
    """Serve the fake provider until interrupted."""
    web.run_app(build_fake_app(), host=host, port=port, print=None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sidecar.demo.fake_provider")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999)
    args = parser.parse_args(argv)
    print(f"fake provider on http://{args.host}:{args.port}/v1", flush=True)
    run_fake(args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
