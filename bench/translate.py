"""Cost of protocol translation, per stream event and per request body.

Run: ``python bench/translate.py``. Prints microseconds per event for each stream
direction and per request for a Claude Code-sized body (the recorded golden,
its messages repeated 12 times), each next to a reference measured in the same
run: ``orjson.loads`` of the same event/body (the least any proxy that reads
the stream must do).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from sidecar.config import ModelConfig
from sidecar.protocols.sse import SSEDecoder
from sidecar.protocols.tokens import estimate_tokens
from sidecar.protocols.translate import TranslateContext, pair

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden"
MODEL = ModelConfig(name="m", provider="p", upstream="u")
CTX = TranslateContext(provider="p", request_id="r", created=1, model_name="m", include_usage=True)


def _best(fn: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _events(feature: str, copies: int) -> list[tuple[str | None, bytes]]:
    raw = (GOLDEN / feature / "stream.in.sse").read_bytes()
    events = [(e.event, e.data) for e in SSEDecoder().feed(raw)]
    body = [e for e in events if b"delta" in e[1]]  # the repeated middle of a long answer
    return events[:1] + body * copies + events[1:]


def bench_stream(client: str, kind: str, feature: str) -> None:
    events = _events(feature, 500)
    translator = pair(client, kind)
    assert translator is not None

    def run() -> None:
        stream = translator.stream(CTX)
        for name, data in events:
            stream.feed(name, data)
        stream.close()

    def reference() -> None:
        for _, data in events:
            if data != b"[DONE]":
                orjson.loads(data)

    took, ref = _best(run), _best(reference)
    per = took / len(events) * 1e6
    print(f"stream {client:9s} <- {kind:9s} {per:6.2f} us/event  ({took / ref:4.1f}x json.loads)")


def bench_request() -> None:
    body = json.loads((GOLDEN / "a2o_claude_code_2_1_real" / "request.in.json").read_text())
    body["messages"] = body["messages"] * 12
    size = len(orjson.dumps(body))
    translator = pair("anthropic", "openai")
    assert translator is not None
    raw = orjson.dumps(body)
    took = _best(lambda: translator.request(body, MODEL, CTX))
    ref = _best(lambda: orjson.loads(raw))
    estimate = _best(lambda: estimate_tokens("anthropic", body))
    print(
        f"request anthropic -> openai, {size // 1024} kB: {took * 1e3:.2f} ms"
        f"  ({took / ref:4.1f}x json.loads); token estimate {estimate * 1e3:.2f} ms"
    )


def main() -> None:
    bench_stream("anthropic", "openai", "a2o_tools_parallel")
    bench_stream("openai", "anthropic", "o2a_tools")
    bench_stream("responses", "openai", "responses_openai")
    bench_stream("responses", "anthropic", "responses_anthropic")
    bench_request()


if __name__ == "__main__":
    main()
