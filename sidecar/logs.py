"""Process logging: one JSON object per line (default) or text for people.

``configure_logging`` is called once by the CLI at startup; library code only
uses ``logging.getLogger(...)``. Structured fields travel either as
``extra={...}`` or as a mapping passed as the message
(``log.info({"event": "request", "status": 200})``); both end up as top-level
keys of the JSON object. Secrets must not be logged; nothing here filters them.
"""

from __future__ import annotations

import datetime
import logging
import sys
from collections.abc import Mapping
from typing import Any, Literal, TextIO

import orjson

LogFormat = Literal["json", "text"]

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_RECORD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime"}
)


def _timestamp(created: float) -> str:
    moment = datetime.datetime.fromtimestamp(created, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of a record: ``extra`` plus a mapping message."""
    fields = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS}
    if isinstance(record.msg, Mapping):
        fields.update(record.msg)
    return fields


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg"?, ...fields, "exc"?}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if not isinstance(record.msg, Mapping):
            out["msg"] = record.getMessage()
        out.update(_fields(record))
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


class TextFormatter(logging.Formatter):
    """``ts LEVEL logger: message key=value ...`` for people."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [f"{_timestamp(record.created)} {record.levelname} {record.name}:"]
        if not isinstance(record.msg, Mapping):
            parts.append(record.getMessage())
        parts += [f"{k}={v}" for k, v in _fields(record).items()]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at emit time (it may be replaced)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


_HANDLER_NAME = "tierline"


def configure_logging(
    level: str = "info", fmt: LogFormat = "json", stream: TextIO | None = None
) -> None:
    """Send all logging to ``stream`` (default: the current stderr) in ``fmt`` at ``level``.

    Replaces a handler installed by an earlier call (so calling it again
    reconfigures rather than duplicating lines) and leaves other handlers alone.
    """
    handler = _StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in root.handlers[:]:
        if old.get_name() == _HANDLER_NAME:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
