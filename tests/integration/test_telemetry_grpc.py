"""OTLP over gRPC (``telemetry.protocol = "grpc"``) to a real gRPC OTLP receiver.

tierline in front of the fake provider exports logs, metrics and traces with the
SDK's gRPC exporters to ``tests/fakes/otlp_grpc.py``; the app's cleanup flushes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from sidecar.app import build_app
from sidecar.telemetry import names
from tests.conftest import make_config
from tests.fakes.otlp_grpc import grpc_receiver


async def test_records_metrics_and_spans_arrive_over_grpc(fake: TestServer) -> None:
    config = make_config(fake)
    async with grpc_receiver() as (rx, url):
        telemetry = dataclasses.replace(
            config.telemetry,
            endpoint=url,
            protocol="grpc",
            export_interval_ms=3_600_000,
            headers={"authorization": "Bearer collector-token"},
        )
        server = TestServer(build_app(dataclasses.replace(config, telemetry=telemetry)))
        await server.start_server()
        body: dict[str, Any] = {
            "model": "gpt-good",
            "messages": [{"role": "user", "content": "hi"}],
        }
        try:
            async with ClientSession() as http:
                async with http.post(server.make_url("/v1/chat/completions"), json=body) as r:
                    assert r.status == 200
                    await r.read()
        finally:
            await server.close()  # flushes every exporter
        (record,) = rx.log_records()
        assert record["event_name"] == names.EVENT_API_REQUEST
        assert record["attributes"]["tierline.model"] == "gpt-good"
        assert record["attributes"]["tierline.usage.output_tokens"] > 0
        (point,) = rx.latest(names.REQUESTS)
        assert point.value == 1 and point.attributes["model"] == "gpt-good"
        spans = {s["name"]: s for s in rx.spans()}
        assert "chat gpt-good" in spans and "POST /v1/chat/completions" in spans, sorted(spans)
        assert len({s["trace_id"] for s in spans.values()}) == 1
        assert rx.headers and all(
            h.get("authorization") == "Bearer collector-token" for h in rx.headers
        )
