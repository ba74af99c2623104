"""The access log's direct line writer: same line as the logging formatters, same levels."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import orjson
import pytest

from sidecar.access_log import AccessEncoder, AccessLog, access_fields
from sidecar.exchange import Attempt, Exchange, Usage
from sidecar.logs import JsonFormatter, configure_logging
from sidecar.routing.plan import RoutePlan

EXCHANGE = Exchange(
    request_id="req_1",
    session_id="s1",
    client_protocol="openai",
    stream=False,
    requested_model="gpt-5",
    model="m",
    provider="p",
    upstream_model="m-up",
    attempts=(Attempt("m", "p", 200, "", "", 0.01),),
    usage=Usage(input_tokens=3, output_tokens=5),
    tool_calls=(),
    finish_reason="stop",
    error_type=None,
    status=200,
    started_at=0.0,
    duration_s=0.0123,
    ttft_s=None,
    harness="unknown",
    subagent=False,
)


@pytest.fixture
def out() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


def _isolated(out: io.StringIO) -> None:
    """Only tierline's handler listening (pytest's own capture handlers removed)."""
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if h.get_name() == "tierline"]


def test_direct_json_line_equals_the_formatter_line(out: io.StringIO) -> None:
    configure_logging("info", "json", out)
    _isolated(out)
    AccessLog().on_exchange(EXCHANGE, None)
    direct = json.loads(out.getvalue())
    record = logging.LogRecord("tierline.access", logging.INFO, "", 0, {}, (), None)
    record.msg = dict(direct)  # the formatter's rendering of the same fields
    via_logging = json.loads(JsonFormatter().format(record))
    assert direct.keys() == via_logging.keys()
    assert direct["logger"] == "tierline.access" and direct["level"] == "info"
    assert direct["ts"].endswith("Z") and len(direct["ts"]) == len("2026-01-01T00:00:00.000Z")
    assert direct["status"] == 200 and direct["attempts"] == ["m@p:200:ok"]
    assert direct["duration_ms"] == 12.3 and direct["session_id"] == "s1"


def test_text_format_and_levels(out: io.StringIO) -> None:
    configure_logging("info", "text", out)
    _isolated(out)
    AccessLog().on_exchange(EXCHANGE, None)
    line = out.getvalue()
    assert " INFO tierline.access: event=request request_id=req_1 " in line
    assert line.endswith("\n") and line.count("\n") == 1
    configure_logging("warning", "json", out)
    _isolated(out)
    AccessLog().on_exchange(EXCHANGE, None)
    assert out.getvalue() == line  # nothing at warning level


def test_other_handlers_get_a_record(out: io.StringIO, caplog: pytest.LogCaptureFixture) -> None:
    configure_logging("info", "json", out)
    with caplog.at_level(logging.INFO, logger="tierline.access"):
        AccessLog().on_exchange(EXCHANGE, None)
    (record,) = [r for r in caplog.records if r.name == "tierline.access"]
    assert record.msg["request_id"] == "req_1"  # type: ignore[index]
    assert json.loads(out.getvalue())["request_id"] == "req_1"


def test_encoded_line_is_orjson_of_the_fields_for_every_request_of_a_kind() -> None:
    """The template of a kind is filled per request: each line equals orjson's encoding
    of ``access_fields`` byte for byte, also on the second and later use of a template,
    with quotes, ``%`` and a stand-in look-alike among the values."""
    plan = RoutePlan("gpt-5", (), tier="coding", profile="debugger", method="heuristic",
                     confidence=0.82, tags=("auth", '50%"off'))  # fmt: skip
    retried = (Attempt("m", "p", 503, "upstream_5xx", "", 0.1), *EXCHANGE.attempts)
    kinds = [
        EXCHANGE,
        EXCHANGE._replace(session_id="", ttft_s=0.25, stream=True, attempts=retried),
        EXCHANGE._replace(model=None, provider=None, status=502, error_type="all_failed",
                          finish_reason=None, attempts=(), requested_model="100%"),
        EXCHANGE._replace(requested_model="\x00tierline:request_id\x00"),
    ]  # fmt: skip
    variations = [
        {"request_id": 'r"1\\%s', "session_id": "s%d", "duration_s": 1234.56789},
        {"request_id": "req_2", "usage": Usage(7, 11, 13, 17, 19), "duration_s": 1e-7},
        {"request_id": "é\u2028", "ttft_s": 3e9, "tool_calls": ()},
    ]
    encode = AccessEncoder()
    for kind in kinds:
        for changes in variations:
            exchange = kind._replace(**changes)
            for route in (plan, None):
                expected = orjson.dumps(access_fields(exchange, route), default=str)
                assert encode(exchange, route) == expected
