"""Per-conversation routing state and the bounded stores that keep it.

``SessionState`` is the one mutable value in routing: the router owns the copy
it got from the store for the duration of one ``route``/``observe`` call and
writes it back with ``put``. It holds a cursor (how many messages of the
conversation were already scanned, and a mark of the last one, so a rewritten
history is noticed and rescanned), the current turn's activity, the session
lock, the last decision, and which model wrote which file (bounded).

Stores: ``MemoryStore`` (LRU, ``max_sessions``, idle expiry ``ttl_seconds``)
and ``sessions.shared.RedisStore`` (many replicas: a ``MemoryStore`` in front
of Redis, async reads with a short bounded wait, writes behind). Both are
bounded and never raise into the request path: a failing Redis behaves like
the memory store.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Protocol

import orjson

MAX_WRITERS = 256
MAX_PENDING = 128
MAX_TAGS = 32


@dataclass
class SessionState:
    seen: int = 0  # messages scanned so far
    seen_mark: str = ""  # mark of message seen-1 (detects rewritten history)
    tokens: int = 0  # estimated tokens of the scanned messages
    images: int = 0
    human_index: int = -1  # index of the last human-written user message
    directive_idx: list[int] = field(default_factory=list)  # user messages with directives
    # current turn (since the last human message)
    edits: int = 0
    reads: int = 0
    runs: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    last_failed: bool = False
    turn_tags: list[str] = field(default_factory=list)
    turn_paths: list[str] = field(default_factory=list)
    pending: dict[str, str] = field(default_factory=dict)  # tool call id -> tool name
    # classification of the current human turn
    profile: str = ""
    confidence: float = 0.0
    method: str = ""
    directive_profile: str = ""
    directive_tags: list[str] = field(default_factory=list)
    # session-wide
    lock: str = ""
    tier: str = ""
    model: str = ""
    last_at: float = 0.0
    last_prompt_tokens: int = 0
    writers: dict[str, str] = field(default_factory=dict)  # file path -> model that wrote it

    def new_turn(self) -> None:
        self.edits = self.reads = self.runs = self.failures = self.consecutive_failures = 0
        self.last_failed = False
        self.turn_tags = []
        self.turn_paths = []
        self.profile = self.method = self.directive_profile = ""
        self.directive_tags = []
        self.confidence = 0.0

    def add_writer(self, path: str, model: str) -> None:
        self.writers.pop(path, None)
        self.writers[path] = model
        while len(self.writers) > MAX_WRITERS:
            self.writers.pop(next(iter(self.writers)))

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: bytes | str) -> SessionState | None:
        try:
            raw = orjson.loads(data)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(raw, dict):
            return None
        names = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in raw.items() if k in names})
        except TypeError:
            return None


class SessionStore(Protocol):
    """Where routing keeps ``SessionState``.

    ``get``/``put`` are synchronous and local (the route decision never waits
    on I/O); ``load`` is the one awaited step before a decision, bounded in
    time, that may bring a shared copy into the local cache; ``start`` and
    ``aclose`` bracket the app's lifetime (a shared store's connection and
    write-behind task live between them). None of them raises.
    """

    shared: bool

    def get(self, key: str) -> SessionState | None: ...

    def put(self, key: str, state: SessionState) -> None: ...

    async def load(self, key: str) -> None: ...

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...

    def close(self) -> None: ...


class MemoryStore:
    """In-process LRU with idle expiry. Not shared between processes."""

    shared = False

    def __init__(
        self,
        max_sessions: int = 10_000,
        ttl_seconds: float = 6 * 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max(1, max_sessions)
        self._ttl = ttl_seconds
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, SessionState]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> SessionState | None:
        item = self._items.get(key)
        if item is None:
            return None
        if self._clock() - item[0] > self._ttl:
            del self._items[key]
            return None
        return item[1]

    def age(self, key: str) -> float | None:
        """Seconds since ``key`` was last put, or None when absent."""
        item = self._items.get(key)
        return None if item is None else self._clock() - item[0]

    def put(self, key: str, state: SessionState) -> None:
        items = self._items
        items[key] = (self._clock(), state)
        items.move_to_end(key)
        while len(items) > self._max:
            items.popitem(last=False)

    async def load(self, key: str) -> None:
        """Nothing to load: everything is local."""

    async def start(self) -> None:
        """Nothing to open."""

    async def aclose(self) -> None:
        self._items.clear()

    def close(self) -> None:
        self._items.clear()


def build_store(backend: str, redis_url: str | None, max_sessions: int, ttl: float) -> SessionStore:
    """The store ``[state]`` asks for (Redis: a local cache in front, writes behind)."""
    if backend == "redis":
        if not redis_url:
            raise ValueError("state.backend = 'redis' needs state.redis_url")
        from sidecar.sessions.shared import RedisStore

        return RedisStore(redis_url, ttl_seconds=ttl, local=MemoryStore(max_sessions, ttl))
    return MemoryStore(max_sessions, ttl)
