"""Incremental Server-Sent Events decoder: bytes in, whole events out, no I/O.

``SSEDecoder.feed`` accepts arbitrary chunks (an event may be split anywhere,
CRLF or LF line endings) and returns the events completed by that chunk, in
order. Each ``SSEEvent`` keeps its ``raw`` bytes (normalised to LF, ending in a
blank line) so a relay can forward an event unchanged without re-encoding it.
``flush`` returns a final event that was not terminated by a blank line.

``push`` / ``next_event`` / ``rest`` read the same stream one event at a time, for a
reader that stops early (the relay decodes only up to the first content and hands
the rest of the read on as bytes).
"""

from __future__ import annotations

from dataclasses import dataclass

_SEP = b"\n\n"
# Single bytes are looked for as ints: ``int in bytes`` is one memchr, while on CPython 3.11
# ``bytes in bytes`` first tries its needle as an integer and raises and clears a
# TypeError (about 1,800 instructions a test), and ``find`` parses its arguments (~700).
# Longer needles use ``find`` in the stream's hot paths for the same reason.
LF, CR = 0x0A, 0x0D  # ord("\n"), ord("\r")


@dataclass(slots=True)
class SSEEvent:
    event: str | None  # the ``event:`` field, None when absent
    data: bytes  # ``data:`` lines joined by LF
    raw: bytes  # the whole event block including the terminating blank line


def parse_block(block: bytes) -> SSEEvent | None:
    """One event from a block of lines (without the blank line); None for comment-only blocks."""
    if block.startswith(b"data: ") and LF not in block:  # fast path: OpenAI chunks
        return SSEEvent(None, block[6:], block + _SEP)
    if block.startswith(b"event: ") and block.count(b"\n") == 1:  # fast path: Anthropic
        head, _, line = block.partition(b"\n")
        if line.startswith(b"data: "):
            return SSEEvent(head[7:].strip().decode("utf-8", "replace"), line[6:], block + _SEP)
    event: str | None = None
    data: list[bytes] = []
    for line in block.split(b"\n"):
        if line.startswith(b"data:"):
            data.append(line[6:] if line[5:6] == b" " else line[5:])
        elif line.startswith(b"event:"):
            event = line[6:].strip().decode("utf-8", "replace")
    if event is None and not data:
        return None
    return SSEEvent(event, b"\n".join(data), block + _SEP)


class SSEDecoder:
    """Stateful splitter; one per stream. Not thread-safe, never blocks."""

    __slots__ = ("_buf", "_pos")

    def __init__(self) -> None:
        self._buf = b""
        self._pos = 0  # start of the unread part of _buf (push/next_event only)

    @property
    def buffered(self) -> bool:
        """True while part of an event is held (the next chunk continues it)."""
        return len(self._buf) > self._pos

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        buf = _normal(self._unread() + chunk)
        blocks = buf.split(_SEP)  # one C-level pass; the last piece is the unfinished rest
        self._buf = blocks.pop()
        events: list[SSEEvent] = []
        append = events.append
        for block in blocks:
            if block[:6] == b"data: " and LF not in block:  # fast path: OpenAI chunks
                append(SSEEvent(None, block[6:], block + _SEP))
            elif block:
                event = parse_block(block)
                if event is not None:
                    append(event)
        return events

    def push(self, chunk: bytes) -> None:
        """Queue ``chunk`` for ``next_event``."""
        self._buf = _normal(self._unread() + chunk)
        self._pos = 0

    def next_event(self) -> SSEEvent | None:
        """The next whole event queued by ``push``; None when none is complete (the
        unfinished rest stays held for the next ``push`` or ``feed``)."""
        buf, pos = self._buf, self._pos
        while True:
            end = buf.find(_SEP, pos)
            if end < 0:
                self._buf, self._pos = buf[pos:], 0
                return None
            block, pos = buf[pos:end], end + 2
            event = parse_block(block) if block else None
            if event is not None:
                self._pos = pos
                return event

    def rest(self) -> bytes:
        """The bytes queued by ``push`` that ``next_event`` has not returned yet, given up
        by the decoder (it is then empty: the caller passes them to ``feed`` or a faster
        path of its own)."""
        rest = self._unread()
        self._buf, self._pos = b"", 0
        return rest

    def flush(self) -> list[SSEEvent]:
        """Events left when the stream ended without a final blank line."""
        rest = self._unread().rstrip(b"\r\n")
        self._buf, self._pos = b"", 0
        if not rest:
            return []
        event = parse_block(rest)
        return [event] if event is not None else []

    def _unread(self) -> bytes:
        return self._buf[self._pos :] if self._pos else self._buf


def _normal(buf: bytes) -> bytes:
    """LF line endings; a trailing CR is kept as is (it may be the first half of CRLF)."""
    if CR not in buf:
        return buf
    held = b""
    if buf.endswith(b"\r"):
        buf, held = buf[:-1], b"\r"
    return buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n") + held
