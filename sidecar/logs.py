"""Process logging: one JSON object per line (default) or text for people.

``configure_logging`` is called once by the CLI at startup; library code only
uses ``logging.getLogger(...)``. Structured fields travel either as
``extra={...}`` or as a mapping passed as the message
(``log.info({"event": "request", "status": 200})``); both end up as top-level
keys of the JSON object. Secrets must not be logged; nothing here filters them.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import sys
import time
from asyncio.events import _get_running_loop
from collections.abc import Callable, Mapping
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


class _Batch:
    """The lines one event-loop tick wrote through a ``LineWriter``, and where they go."""

    __slots__ = ("loop", "handler", "json", "lines")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop | None,
        handler: logging.StreamHandler,  # type: ignore[type-arg]
        json: bool,
    ) -> None:
        self.loop, self.handler, self.json = loop, handler, json
        self.lines: list[Any] = []  # bytes (JSON) or str (text), without terminator


class LineWriter:
    """One structured INFO line per call for one logger, without a ``LogRecord``.

    When the only handler the logger's records reach is the one ``configure_logging``
    installed (no filters anywhere on the way), the line is formatted here (the same
    JSON or text the formatters produce, from a mapping message) and written to that
    handler's stream under its lock; otherwise (another handler, a filter, e.g. pytest's
    caplog) it goes through ``logging`` as ``log.handle(record)``. Same output, a
    fraction of the CPU. Levels are honoured either way (the handler's once per batch).

    Batching: called on a running event loop, the lines of one loop tick are written
    together (one ``write`` and ``flush``) by a callback the loop runs right after the
    tick, to the handler resolved at the tick's first line; at most ``BATCH_LINES``
    lines wait. Without a running loop each line is written at once. ``flush`` writes
    what waits. Safe across threads: a batch belongs to one loop and is flushed by it.
    """

    BATCH_LINES = 256
    __slots__ = ("_log", "_stamp", "_head", "_pending", "_name")

    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger
        self._stamp: tuple[int, str] = (-1, "")
        self._head: tuple[int, bytes] = (-1, b"")  # (second, b'{"ts":"<date part>.')
        self._pending: _Batch | None = None
        self._name = orjson.dumps(logger.name)

    def info(self, fields: Mapping[str, Any]) -> None:
        """One line with ``fields``."""
        if not self._log.isEnabledFor(logging.INFO):
            return
        batch = self._batch()
        if batch is None:
            self._handle(fields)
        else:
            self._add(batch, self._json(fields) if batch.json else self._text(fields))

    def info_encoded(
        self,
        encode: Callable[..., bytes],
        fields: Callable[..., Mapping[str, Any]],
        *args: Any,
    ) -> None:
        """``info(fields(*args))``, where ``encode(*args)`` is ``orjson.dumps`` of those
        fields (str keys, at least one, none of ``ts``, ``level``, ``logger``) made
        cheaper: the JSON line is spliced from it, the mapping is built only when the
        line goes through ``logging`` or as text."""
        if not self._log.isEnabledFor(logging.INFO):
            return
        batch = self._batch()
        if batch is None:
            self._handle(fields(*args))
        elif batch.json:
            self._add(batch, self._splice(encode(*args)))
        else:
            self._add(batch, self._text(fields(*args)))

    def _batch(self) -> _Batch | None:
        """The batch this line joins; None: the line goes through ``logging``."""
        batch = self._pending
        loop = _get_running_loop()
        if batch is None or batch.loop is not loop:
            handler = self._sole_handler()
            if handler is None or logging.INFO < handler.level:  # (the latter writes nothing)
                return None
            batch = _Batch(loop, handler, isinstance(handler.formatter, JsonFormatter))
            if loop is not None:
                self._pending = batch
                loop.call_soon(self.flush, batch)
        return batch

    def _handle(self, fields: Mapping[str, Any]) -> None:
        """The line as a ``LogRecord`` (makeRecord + handle == log.info minus the caller lookup)."""
        log = self._log
        log.handle(log.makeRecord(log.name, logging.INFO, "", 0, fields, (), None))

    def _add(self, batch: _Batch, line: bytes | str) -> None:
        lines = batch.lines
        lines.append(line)
        if batch.loop is None or len(lines) >= self.BATCH_LINES:
            self.flush(batch)

    def flush(self, batch: _Batch | None = None) -> None:
        """Write the lines of ``batch`` (default: the pending one); idempotent."""
        batch = batch or self._pending
        if batch is None:
            return
        if self._pending is batch:
            self._pending = None
        lines, batch.lines = batch.lines, []
        if not lines:
            return
        handler = batch.handler
        term = handler.terminator
        if batch.json:
            text = (term.encode().join(lines) + term.encode()).decode()
        else:
            text = term.join(lines) + term
        handler.acquire()
        try:
            stream = sys.stderr if isinstance(handler, _StderrHandler) else handler.stream
            stream.write(text)
            stream.flush()
        except Exception:  # noqa: BLE001 - as Handler.emit: report, never raise
            log = self._log
            handler.handleError(log.makeRecord(log.name, logging.INFO, "", 0, text, (), None))
        finally:
            handler.release()

    def _json(self, fields: Mapping[str, Any]) -> bytes:
        """``JsonFormatter``'s line for a mapping message logged now, as bytes."""
        if not fields or "ts" in fields or "level" in fields or "logger" in fields:
            out = {"ts": self._ts(time.time()), "level": "info", "logger": self._log.name}
            out.update(fields)
            return orjson.dumps(out, default=str, option=orjson.OPT_NON_STR_KEYS)
        try:  # str keys (the access log's): without OPT_NON_STR_KEYS, ~0.4 us cheaper
            body = orjson.dumps(fields, default=str)
        except orjson.JSONEncodeError:
            body = orjson.dumps(fields, default=str, option=orjson.OPT_NON_STR_KEYS)
        return self._splice(body)

    def _splice(self, body: bytes) -> bytes:
        """The JSON object ``body`` (not empty) with the three leading keys put in front
        (``_ts`` inlined: the date part as bytes, cached per second)."""
        created = time.time()
        second = int(created)
        if second != self._head[0]:
            stamp = _timestamp(second)[:-5].encode()  # drop ".000Z"
            self._head = (second, b'{"ts":"' + stamp + b".")
        ms = int((created - second) * 1000)
        return b'%s%03dZ","level":"info","logger":%s,%s' % (self._head[1], ms, self._name, body[1:])

    def _text(self, fields: Mapping[str, Any]) -> str:
        parts = [f"{self._ts(time.time())} INFO {self._log.name}:"]
        parts += [f"{k}={v}" for k, v in fields.items()]
        return " ".join(parts)

    def _sole_handler(self) -> logging.StreamHandler | None:  # type: ignore[type-arg]
        """tierline's handler when it is the only one records reach (and nothing filters)."""
        found: logging.Handler | None = None
        logger: logging.Logger | None = self._log
        while logger is not None:
            if logger.filters or logger.disabled:
                return None
            for handler in logger.handlers:
                if found is not None or handler.get_name() != _HANDLER_NAME or handler.filters:
                    return None
                found = handler
            logger = logger.parent if logger.propagate else None
        if not isinstance(found, logging.StreamHandler):
            return None
        if type(found.formatter) not in (JsonFormatter, TextFormatter):
            return None
        return found

    def _ts(self, created: float) -> str:
        """``_timestamp(created)``, the date part cached per second."""
        second = int(created)
        cached, stamp = self._stamp
        if second != cached:
            stamp = _timestamp(second)[:-5]  # drop ".000Z"
            self._stamp = (second, stamp)
        return f"{stamp}.{int((created - second) * 1000):03d}Z"


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
