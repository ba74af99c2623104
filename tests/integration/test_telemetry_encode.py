"""The direct OTLP log encoder produces what the SDK's encoder produces."""

from __future__ import annotations

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs as sdk_encode
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

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
