"""Log line formats: one JSON object per line, or text; fields from a mapping or extra."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from sidecar.logs import configure_logging


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    out = io.StringIO()
    yield out
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_mapping_and_extra_fields(stream: io.StringIO) -> None:
    configure_logging("info", "json", stream)
    log = logging.getLogger("tierline.test")
    log.info({"event": "request", "status": 200, "attempts": ["a@p:200:ok"]})
    log.warning("key %s is odd", "x", extra={"key": "providers.a"})
    log.debug("hidden")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    lines = stream.getvalue().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 3
    first, second, third = records
    assert first["event"] == "request" and first["status"] == 200 and "msg" not in first
    assert first["level"] == "info" and first["logger"] == "tierline.test"
    assert first["ts"].endswith("Z")
    assert second["msg"] == "key x is odd" and second["key"] == "providers.a"
    assert third["msg"] == "failed" and "ValueError: boom" in third["exc"]


def test_text_lines(stream: io.StringIO) -> None:
    configure_logging("debug", "text", stream)
    logging.getLogger("tierline.test").info({"event": "listening", "url": "http://x"})
    [line] = stream.getvalue().splitlines()
    assert line.endswith(" INFO tierline.test: event=listening url=http://x")


def test_configuring_twice_replaces_the_handler(stream: io.StringIO) -> None:
    configure_logging("info", "json", stream)
    configure_logging("info", "json", stream)
    logging.getLogger("tierline.test").info("once")
    assert len(stream.getvalue().splitlines()) == 1


def test_line_writer_writes_what_the_formatter_writes_with_any_keys(stream: io.StringIO) -> None:
    """LineWriter's own JSON (its fast path takes str keys only) equals JsonFormatter's,
    whatever the keys."""
    from sidecar.logs import LineWriter

    configure_logging("info", "json", stream)
    root = logging.getLogger()  # only tierline's handler: pytest's own would take the slow path
    root.handlers[:] = [h for h in root.handlers if h.get_name() == "tierline"]
    log = logging.getLogger("tierline.writer")
    for fields in ({"event": "request", "n": 1}, {1: "int key", "b": None}):
        LineWriter(log).info(fields)  # no running loop: written at once
        log.info(fields)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    for own, formatted in zip(lines[::2], lines[1::2], strict=True):
        own.pop("ts"), formatted.pop("ts")
        assert own == formatted
    assert lines[2]["1"] == "int key"
