"""The direct OTLP log encoder produces what the SDK's encoder produces."""

from __future__ import annotations

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs as sdk_encode
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from sidecar.telemetry.logrecord import PendingLog
from sidecar.telemetry.otlp_logs import _Cache, encode_logs

ATTRS = {
    "s": "text é", "b": True, "f": False, "i": 42, "neg": -5, "big": 2**40, "d": 0.25,
    "list": ["a", "b"], "ints": [1, 2], "map": {"k": [1, "x", True]}, "empty": "",
}  # fmt: skip


def records() -> list[ReadableLogRecord]:
    resources = [Resource({"service.name": "a", "k": "v"}), Resource({"service.name": "b"})]
    scopes = [InstrumentationScope("tierline", "1.0"), InstrumentationScope("other")]
    out = []
    for n in range(6):
        record = LogRecord(
            timestamp=1_700_000_000_000_000_000 + n,
            observed_timestamp=1_700_000_000_000_000_500 + n,
            trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736,
            span_id=0x00F067AA0BA902B7,
            trace_flags=1,
            severity_number=SeverityNumber.ERROR if n % 2 else SeverityNumber.INFO,
            severity_text="ERROR" if n % 2 else "INFO",
            body=f"body {n}",
            attributes={**ATTRS, "n": n},
            event_name="tierline.api_request",
        )
        out.append(ReadableLogRecord(record, resources[n % 2], scopes[n // 3]))
    return out


def test_direct_encoder_matches_the_sdk() -> None:
    batch = records()
    cache = _Cache()
    for _ in range(2):  # the second pass reads attributes from the cache
        mine = ExportLogsServiceRequest.FromString(encode_logs(batch, cache))
        assert mine == sdk_encode(batch)


def _pending() -> list[PendingLog]:
    """Deferred records covering every optional attribute and both severities."""
    from opentelemetry.trace import SpanContext, TraceFlags

    from sidecar.exchange import Attempt, Exchange, ToolCall, Usage
    from sidecar.ledger.baseline import Savings
    from sidecar.ledger.pricing import Cost
    from sidecar.routing.plan import RoutePlan
    from sidecar.telemetry.logrecord import PendingLog

    traced = SpanContext(0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7, False,
                         TraceFlags(1))  # fmt: skip
    plain = Exchange("r1", "s1", "openai", False, "auto", "m", "p", "up-m",
                     (Attempt("m", "p", 200, ""),), Usage(10, 5, 3, 2, 1, 4), (), "stop",
                     duration_s=0.25)  # fmt: skip
    failed = Exchange("r2", "s1", "anthropic", True, "gpt-5", None, None, None,
                      (Attempt("a", "p", 500, "server_error"), Attempt("b", "q", None, "timeout")),
                      Usage(estimated=True), error_type="api_error", status=502,
                      ttft_s=0.01, subagent=True, harness="claude_code")  # fmt: skip
    tools = Exchange("r3", "s2", "responses", True, "auto", "m", "p", None, (), Usage(7, 8),
                     (ToolCall("c1", "Edit", '{"a": 1}'),), ttft_s=0.5)  # fmt: skip
    plan = RoutePlan("auto", (), tier="coding", profile="coder", method="heuristic",
                     confidence=0.75, tags=("auth", "db"), reason="auth work")  # fmt: skip
    savings = Savings(Cost(0.01, "config"), Cost(0.05, "genai-prices"), "opus",
                      Cost(0.02, "config"), "sonnet")  # fmt: skip
    unpriced = Savings(Cost(None, "none", True), Cost(None, "none"), None)
    info, error = SeverityNumber.INFO, SeverityNumber.ERROR
    return [
        PendingLog(plain, plan, savings, info, 1_700_000_000_000_000_000, traced),
        PendingLog(failed, RoutePlan("gpt-5", ()), None, error, 2, SpanContext(0, 0, False)),
        PendingLog(tools, plan, unpriced, info, 3, traced, prompt="fix the bug"),
    ]


def _decoded(request: ExportLogsServiceRequest) -> list[dict[str, object]]:
    from tests.fakes.otlp import attrs

    out = []
    for rl in request.resource_logs:
        for sl in rl.scope_logs:
            for r in sl.log_records:
                fields = {f.name: v for f, v in r.ListFields() if f.name != "attributes"}
                if "body" in fields and not r.body.WhichOneof("value"):
                    del fields["body"]  # the SDK writes an empty body, tierline none: the same
                out.append({"attributes": attrs(r.attributes), "resource": attrs(
                    rl.resource.attributes), "scope": sl.scope.name, **fields})  # fmt: skip
    return out


def test_deferred_records_encode_as_the_sdk_records_built_from_them() -> None:
    from opentelemetry.sdk._logs import LogRecordLimits

    from sidecar.telemetry.logrecord import fixed_attributes, readable, varying_attributes
    from sidecar.telemetry.otlp_logs import encode_pending

    resource, scope = Resource({"service.name": "t"}), InstrumentationScope("tierline")
    batch = _pending()
    for compat in (False, True):
        sdk = [readable(p, resource, scope, LogRecordLimits(), compat) for p in batch]
        cache = _Cache()
        for _ in range(2):  # the second pass takes the fixed attributes from the cache
            mine = ExportLogsServiceRequest.FromString(
                encode_pending(batch, resource, scope, compat, cache)
            )
            assert _decoded(mine) == _decoded(sdk_encode(sdk))
        for p in batch:  # the two halves never share a key
            fixed = dict(fixed_attributes(p.exchange, p.plan, p.savings, compat))
            assert not fixed.keys() & varying_attributes(p.exchange, p.savings, compat).keys()
    assert "tierline.prompt" in _decoded(mine)[2]["attributes"]  # type: ignore[operator]
