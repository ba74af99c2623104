"""Per-conversation routing state and the bounded stores that keep it.

``SessionState`` is the one mutable value in routing: the router owns the copy
it got from the store for the duration of one ``route``/``observe`` call and
writes it back with ``put``. It holds a cursor (how many messages of the
conversation were already scanned, and a mark of the last one, so a rewritten
history is noticed and rescanned), the current turn's activity, the session
lock, the last decision, and which model wrote which file (bounded).

Stores: ``MemoryStore`` (LRU, ``max_sessions``, idle expiry ``ttl_seconds``)
and ``RedisStore`` (many replicas; JSON values with a TTL). Both are bounded
and never raise into the request path: a failing Redis behaves like an empty
store.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol

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
    def get(self, key: str) -> SessionState | None: ...

    def put(self, key: str, state: SessionState) -> None: ...

    def close(self) -> None: ...


class MemoryStore:
    """In-process LRU with idle expiry. Not shared between processes."""

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
        stamp, state = item
        if self._clock() - stamp > self._ttl:
            del self._items[key]
            return None
        return state

    def put(self, key: str, state: SessionState) -> None:
        self._items[key] = (self._clock(), state)
        self._items.move_to_end(key)
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    def close(self) -> None:
        self._items.clear()


class RedisStore:
    """Shared state for many replicas: one JSON value per conversation, with a TTL.

    Uses the synchronous client with short socket timeouts (one GET and one
    SET per routed request, ~0.1 ms on loopback); any Redis error makes the
    request route as a fresh session instead of failing.
    """

    def __init__(
        self, url: str, ttl_seconds: float = 6 * 3600, prefix: str = "tierline:s:"
    ) -> None:
        import redis

        self._client: Any = redis.Redis.from_url(
            url, socket_timeout=0.05, socket_connect_timeout=0.2
        )
        self._ttl = max(1, int(ttl_seconds))
        self._prefix = prefix

    def get(self, key: str) -> SessionState | None:
        try:
            data = self._client.get(self._prefix + key)
        except Exception:  # redis down/slow: route statelessly
            return None
        return SessionState.from_json(data) if data else None

    def put(self, key: str, state: SessionState) -> None:
        try:
            self._client.set(self._prefix + key, state.to_json(), ex=self._ttl)
        except Exception:  # advisory state: losing one write only costs a rescan
            return

    def close(self) -> None:
        try:
            self._client.close()
        except Exception:
            return


def build_store(backend: str, redis_url: str | None, max_sessions: int, ttl: float) -> SessionStore:
    if backend == "redis":
        if not redis_url:
            raise ValueError("state.backend = 'redis' needs state.redis_url")
        return RedisStore(redis_url, ttl)
    return MemoryStore(max_sessions, ttl)
