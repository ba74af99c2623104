"""Golden transcripts through the translators (tests/golden/<feature>/).

Each feature directory holds ``meta.json`` (client protocol, provider kind,
model config, context) and any of the pairs ``request.in.json`` ->
``request.out.json`` (client request -> provider request), ``response.in.json``
-> ``response.out.json`` (provider answer -> client answer) and
``stream.in.sse`` -> ``stream.out.sse`` (provider stream -> client stream).
The stream is fed event by event and every input event's output is checked to
be emitted right away (no buffering: each content event yields bytes).

To (re)write the ``.out`` files after a deliberate change, run
``python tests/unit/test_translate_golden.py`` and review the diff.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from sidecar.config import ModelConfig
from sidecar.protocols.sse import SSEDecoder
from sidecar.protocols.translate import TranslateContext, Translator, pair

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
FEATURES = sorted(p.name for p in GOLDEN.iterdir() if (p / "meta.json").exists())
STREAMS = [f for f in FEATURES if (GOLDEN / f / "stream.out.sse").exists()]
_CONTENT = re.compile(rb'"delta":\{"content":"[^"]')


def _setup(feature: str) -> tuple[Translator, ModelConfig, TranslateContext, Path]:
    folder = GOLDEN / feature
    meta = json.loads((folder / "meta.json").read_text())
    translator = pair(meta["client"], meta["provider"])
    assert translator is not None
    model = ModelConfig(**meta["model"])
    request = folder / "request.in.json"
    body = json.loads(request.read_text()) if request.exists() else {}
    ctx = TranslateContext.for_request(meta["client"], body, **meta.get("ctx", {}))
    return translator, model, ctx, folder


def _events(raw: bytes) -> list[tuple[str | None, Any]]:
    out: list[tuple[str | None, Any]] = []
    for event in SSEDecoder().feed(raw):
        data = event.data.decode()
        out.append((event.event, data if data == "[DONE]" else json.loads(data)))
    return out


def _run_stream(translator: Translator, ctx: TranslateContext, raw: bytes) -> list[bytes]:
    stream = translator.stream(ctx)
    frames: list[bytes] = []
    for event in SSEDecoder().feed(raw):
        produced = stream.feed(event.event, event.data)
        if b'"text_delta"' in event.data or _CONTENT.search(event.data):
            assert produced, f"no output for a content event: {event.data[:80]!r}"
        frames += produced
    frames += stream.close()
    assert stream.close() == [], "close() must be idempotent"
    return frames


def _outputs(feature: str) -> dict[str, bytes]:
    translator, model, ctx, folder = _setup(feature)
    out: dict[str, bytes] = {}
    if (folder / "request.in.json").exists():
        body = json.loads((folder / "request.in.json").read_text())
        frozen = json.dumps(body, sort_keys=True)
        result = translator.request(body, model, ctx)
        assert json.dumps(body, sort_keys=True) == frozen, "request() mutated its input"
        assert translator.request(body, model, ctx) == result, "request() is not idempotent"
        out["request.out.json"] = (json.dumps(result, indent=2) + "\n").encode()
    if (folder / "response.in.json").exists():
        body = json.loads((folder / "response.in.json").read_text())
        result = translator.response(body, ctx)
        out["response.out.json"] = (json.dumps(result, indent=2) + "\n").encode()
    if (folder / "stream.in.sse").exists():
        frames = _run_stream(translator, ctx, (folder / "stream.in.sse").read_bytes())
        out["stream.out.sse"] = b"".join(frames)
    return out


@pytest.mark.parametrize("feature", FEATURES)
def test_golden(feature: str) -> None:
    for name, produced in _outputs(feature).items():
        expected = (GOLDEN / feature / name).read_bytes()
        if name.endswith(".sse"):
            assert _events(produced) == _events(expected), f"{feature}/{name}"
        else:
            assert json.loads(produced) == json.loads(expected), f"{feature}/{name}"


@pytest.mark.parametrize("feature", STREAMS)
def test_stream_shape(feature: str) -> None:
    """Every client stream opens and ends the way its protocol requires."""
    folder = GOLDEN / feature
    meta = json.loads((folder / "meta.json").read_text())
    events = _events((folder / "stream.out.sse").read_bytes())
    assert events, "empty stream"
    if meta["client"] == "anthropic":
        kinds = [e for e, _ in events]
        assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
        delta = [d for e, d in events if e == "message_delta"][-1]
        assert delta["usage"]["output_tokens"] > 0
        _check_anthropic_blocks(events)
    elif meta["client"] == "openai":
        assert events[-1][1] == "[DONE]"
        first = events[0][1]
        assert first["choices"][0]["delta"]["role"] == "assistant"
    else:
        assert events[0][0] == "response.created"
        assert events[-1][0] in ("response.completed", "response.incomplete", "response.failed")
        seqs = [d["sequence_number"] for _, d in events]
        assert seqs == list(range(len(seqs)))
        added = [
            (d["output_index"], d["item"]["id"])
            for e, d in events
            if e == "response.output_item.added"
        ]
        assert [i for i, _ in added] == list(range(len(added)))
        assert len({item_id for _, item_id in added}) == len(added), "item ids must be unique"
        for _, d in events:
            item = d.get("item") or {}
            if d["type"] == "response.output_item.done" and item["type"] == "function_call":
                json.loads(item["arguments"])  # every piece arrived, in order


def _check_anthropic_blocks(events: list[tuple[str | None, Any]]) -> None:
    """Blocks never interleave, and each tool_use block's pieces join into valid JSON."""
    open_index: int | None = None
    pieces: dict[int, str] = {}
    for kind, d in events:
        if kind == "content_block_start":
            assert open_index is None, "a block opened before the previous one stopped"
            open_index = d["index"]
            if d["content_block"]["type"] == "tool_use":
                pieces[d["index"]] = ""
        elif kind == "content_block_delta":
            assert d["index"] == open_index, "a delta for a block that is not open"
            if d["delta"]["type"] == "input_json_delta":
                pieces[d["index"]] += d["delta"]["partial_json"]
        elif kind == "content_block_stop":
            assert d["index"] == open_index
            open_index = None
    for text in pieces.values():
        json.loads(text or "{}")


def _update() -> None:
    for feature in FEATURES:
        for name, produced in _outputs(feature).items():
            (GOLDEN / feature / name).write_bytes(produced)
            print("wrote", feature, name)


if __name__ == "__main__":
    sys.path.insert(0, str(GOLDEN.parent.parent))
    _update()
