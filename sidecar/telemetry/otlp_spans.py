"""A direct protobuf encoder for OTLP spans, and the HTTP exporter using it.

Same reason and method as ``otlp_logs``: the SDK's encoder builds a protobuf
object per attribute; this writes ``opentelemetry/proto/trace/v1/trace.proto``
directly. Spans with links (tierline creates none) go through the SDK's
encoder. Transport, retries and headers stay the SDK exporter's.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.trace import SpanKind

from sidecar.telemetry.otlp_logs import _Cache, _fixed64, _ld, _scope, _varint, attributes

_KIND = {
    SpanKind.INTERNAL: 1,
    SpanKind.SERVER: 2,
    SpanKind.CLIENT: 3,
    SpanKind.PRODUCER: 4,
    SpanKind.CONSUMER: 5,
}
_HAS_IS_REMOTE, _IS_REMOTE = 0x100, 0x200


def _status(status: Any) -> bytes:
    out = b""
    if status.description:
        out += _ld(2, status.description.encode())
    if status.status_code.value:
        out += b"\x18" + _varint(status.status_code.value)
    return _ld(15, out)


def _event(event: Any, cache: _Cache | None) -> bytes:
    out = _fixed64(1, event.timestamp) + _ld(2, event.name.encode())
    out += attributes(3, event.attributes, cache)
    if event.dropped_attributes:
        out += b"\x20" + _varint(event.dropped_attributes)
    return _ld(11, out)


def span(s: Any, cache: _Cache | None = None) -> bytes:
    """One Span message from an SDK ``ReadableSpan``."""
    ctx = s.get_span_context()
    parts = [_ld(1, ctx.trace_id.to_bytes(16, "big")), _ld(2, ctx.span_id.to_bytes(8, "big"))]
    if ctx.trace_state:
        state = ",".join(f"{k}={v}" for k, v in ctx.trace_state.items())
        parts.append(_ld(3, state.encode()))
    parent = s.parent
    if parent is not None:
        parts.append(_ld(4, parent.span_id.to_bytes(8, "big")))
    parts.append(_ld(5, s.name.encode()))
    parts.append(b"\x30" + _varint(_KIND[s.kind]))
    parts.append(_fixed64(7, s.start_time))
    parts.append(_fixed64(8, s.end_time))
    parts.append(attributes(9, s.attributes, cache))
    if s.dropped_attributes:
        parts.append(b"\x50" + _varint(s.dropped_attributes))
    parts.extend(_event(e, cache) for e in s.events)
    if s.dropped_events:
        parts.append(b"\x60" + _varint(s.dropped_events))
    parts.append(_status(s.status))
    flags = _HAS_IS_REMOTE | (_IS_REMOTE if parent is not None and parent.is_remote else 0)
    parts.append(b"\x85\x01" + struct.pack("<I", flags))  # field 16, fixed32
    return b"".join(parts)


def encode_spans(batch: Sequence[Any], cache: _Cache | None = None) -> bytes:
    """ExportTraceServiceRequest for SDK spans, grouped by resource and scope."""
    groups: dict[int, tuple[Any, dict[tuple[str, str, str], tuple[Any, list[bytes]]]]] = {}
    for s in batch:
        _, scopes = groups.setdefault(id(s.resource), (s.resource, {}))
        scope = s.instrumentation_scope
        key = (scope.name, scope.version or "", scope.schema_url or "") if scope else ("", "", "")
        scopes.setdefault(key, (scope, []))[1].append(_ld(2, span(s, cache)))
    out = []
    for resource, scopes in groups.values():
        body = _ld(1, attributes(1, resource.attributes))
        for scope, spans in scopes.values():
            scope_body = _ld(1, _scope(scope)) + b"".join(spans)
            if scope is not None and scope.schema_url:
                scope_body += _ld(3, scope.schema_url.encode())
            body += _ld(2, scope_body)
        if resource.schema_url:
            body += _ld(3, resource.schema_url.encode())
        out.append(_ld(1, body))
    return b"".join(out)


class FastOTLPSpanExporter(OTLPSpanExporter):
    """The SDK's OTLP/HTTP span exporter with the direct encoder above.

    Used from the batch processor's one worker thread, which owns the cache.
    """

    _cache: _Cache | None = None

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        client = getattr(self, "_client", None)  # the SDK's transport (pinned in pyproject)
        if client is None or self._shutdown or any(s.links for s in spans):
            return super().export(spans)
        if self._cache is None:
            self._cache = _Cache()
        result = client.export(encode_spans(spans, self._cache))
        return SpanExportResult.SUCCESS if result.success else SpanExportResult.FAILURE
