"""Session state shared by several replicas through Redis, never blocking the event loop.

``RedisStore`` is a ``MemoryStore`` (the local cache the route decision reads
synchronously) in front of Redis, spoken to with ``redis.asyncio``:

- reads: ``load(key)`` is awaited once before each routing decision. A
  session this replica read from Redis less than ``fresh_seconds`` ago is
  served from the cache with no round trip (an agent's tool loop); otherwise
  one GET, waited for at most ``read_timeout`` (25 ms; a later answer still
  fills the cache). A miss, a timeout or an error leaves the local copy in
  place (or none: a fresh session). A key
  with a write still queued or in flight is never read back (the local copy
  is newer).
- writes: ``put`` updates the cache and marks the key dirty; one write-behind
  task (started and stopped with the app, see ``Router.lifespan``) SETs dirty
  keys with the TTL in pipelined batches. Dirty keys coalesce (a session's
  newest state is serialised once, when written); the dirty set is bounded
  (``max_pending``): a put that does not fit is dropped, and so is a batch
  Redis refuses; both are counted in ``dropped`` and told to the ``on_dropped``
  listener (telemetry: ``tierline.telemetry.dropped{signal="session_state"}``).
  The local copy stays, so a dropped write costs another replica a rescan,
  never a failed request.
- failure: after a Redis error or timeout, reads and writes pause for a
  backoff (0.5 s doubling to 30 s); meanwhile the store is the memory store.
  The change to down and back up is logged (at most once a minute).

Consistency: last writer wins per session; a change another replica makes
(a ``/lock`` routed there) is seen here within ``fresh_seconds``.
Before ``start`` (and after ``aclose``) the store is local only.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sidecar.sessions.state import MemoryStore, SessionState

_log = logging.getLogger("tierline.sessions")
BACKOFF_MIN = 0.5
BACKOFF_MAX = 30.0
LOG_EVERY = 60.0


class RedisStore:
    shared = True

    def __init__(
        self,
        url: str,
        *,
        ttl_seconds: float = 6 * 3600,
        local: MemoryStore | None = None,
        prefix: str = "tierline:s:",
        read_timeout: float = 0.025,
        write_timeout: float = 1.0,
        fresh_seconds: float = 5.0,
        max_pending: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._ttl = max(1, int(ttl_seconds))
        self._local = local if local is not None else MemoryStore(ttl_seconds=ttl_seconds)
        self._prefix = prefix
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._fresh = fresh_seconds
        self._max_pending = max(1, max_pending)
        self._clock = clock
        self._synced: OrderedDict[str, float] = OrderedDict()  # key -> last read from Redis
        self._dirty: dict[str, SessionState] = {}
        self._inflight: frozenset[str] = frozenset()
        self._client: Any = None
        self._task: asyncio.Task[None] | None = None
        self._reads: set[asyncio.Task[Any]] = set()  # GETs still running (bounded by backoff)
        self._wake = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._down_until = 0.0
        self._backoff = 0.0
        self._down = False
        self._full_warned = False
        self._logged_at: float | None = None
        self.dropped = 0  # session writes that never reached Redis
        self.errors = 0  # Redis operations that failed or timed out
        self._drop_listener: Callable[[int], None] | None = None

    def on_dropped(self, listener: Callable[[int], None] | None) -> None:
        """Call ``listener(n)`` whenever n session writes are dropped (telemetry counts
        them as ``tierline.telemetry.dropped{signal="session_state"}``); None: stop.
        The listener runs on the event loop; its errors are logged, never raised."""
        self._drop_listener = listener

    def _drop(self, n: int) -> None:
        self.dropped += n
        if n and self._drop_listener is not None:
            try:
                self._drop_listener(n)
            except Exception:
                _log.exception("session drop listener failed")

    # -- local, synchronous ------------------------------------------------------

    def get(self, key: str) -> SessionState | None:
        return self._local.get(key)

    def put(self, key: str, state: SessionState) -> None:
        """Cache ``state`` and queue it for Redis (coalesced per key; dropped when full)."""
        self._local.put(key, state)
        if self._client is None:
            return
        if key not in self._dirty and len(self._dirty) >= self._max_pending:
            self._drop(1)
            if not self._full_warned:
                self._full_warned = True
                _log.warning({"event": "session_write_dropped", "reason": "queue_full"})
            return
        self._dirty[key] = state
        self._wake.set()

    def close(self) -> None:
        self._local.close()

    # -- Redis, asynchronous -------------------------------------------------------

    async def load(self, key: str) -> None:
        """Bring Redis's copy of ``key`` into the cache unless ours is fresh (bounded wait)."""
        client = self._client
        if client is None or key in self._dirty or key in self._inflight:
            return
        now = self._clock()
        synced = self._synced.get(key)
        if now < self._down_until or (synced is not None and now - synced < self._fresh):
            return
        # Not cancelled at the deadline: cancelling would drop the connection (and a
        # slow handshake would never finish); a late answer still fills the cache.
        read: asyncio.Task[Any] = asyncio.ensure_future(client.get(self._prefix + key))
        self._reads.add(read)
        read.add_done_callback(functools.partial(self._read_done, key))
        await asyncio.wait((read,), timeout=self._read_timeout)
        if not read.done():
            self._failed(TimeoutError(f"no answer in {self._read_timeout}s"), 0)

    def _read_done(self, key: str, read: asyncio.Task[Any]) -> None:
        self._reads.discard(read)
        if read.cancelled():
            return
        exc = read.exception()
        if exc is not None:  # down, refused: route from the local copy
            self._failed(exc, 0)
            return
        self._recovered()
        self._mark_synced(key)
        data = read.result()
        state = SessionState.from_json(data) if data else None
        if state is not None and key not in self._dirty and key not in self._inflight:
            self._local.put(key, state)  # a put since the read was sent wins

    async def flush(self) -> None:
        """Write every dirty session now (the writer does this continuously)."""
        async with self._write_lock:
            client = self._client
            if client is None or not self._dirty:
                return
            batch, self._dirty = self._dirty, {}
            self._inflight = frozenset(batch)
            try:
                async with asyncio.timeout(self._write_timeout):
                    async with client.pipeline(transaction=False) as pipe:
                        for key, state in batch.items():
                            pipe.set(self._prefix + key, state.to_json(), ex=self._ttl)
                        await pipe.execute()
            except Exception as exc:  # advisory state: the local copy stays
                self._failed(exc, len(batch))
            else:
                self._recovered()
            finally:
                self._inflight = frozenset()

    async def start(self) -> None:
        """Connect lazily (no I/O here) and start the write-behind task."""
        if self._client is not None:
            return
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self._client = aioredis.Redis.from_url(
            self._url,
            socket_timeout=self._write_timeout,
            socket_connect_timeout=self._write_timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._wake = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._task = asyncio.create_task(self._writer(), name="tierline-session-writer")

    async def aclose(self) -> None:
        """Stop the writer, write what is dirty (bounded by the write timeout), disconnect."""
        task, self._task = self._task, None
        for pending in (task, *self._reads):
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pending
        if self._clock() >= self._down_until:
            await self.flush()
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()
        self._dirty.clear()

    async def _writer(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            pause = self._down_until - self._clock()
            if pause > 0:  # backing off: puts keep coalescing in the bounded dirty set
                await asyncio.sleep(pause)
            await self.flush()

    # -- bookkeeping ---------------------------------------------------------------

    def _mark_synced(self, key: str) -> None:
        self._synced[key] = self._clock()
        self._synced.move_to_end(key)
        while len(self._synced) > max(len(self._local), 1) * 2 + 64:
            self._synced.popitem(last=False)

    def _failed(self, exc: BaseException, dropped: int) -> None:
        self.errors += 1
        self._drop(dropped)
        self._backoff = min(BACKOFF_MAX, self._backoff * 2 or BACKOFF_MIN)
        self._down_until = self._clock() + self._backoff
        if not self._down:
            self._down = True
            if self._may_log():
                _log.warning(
                    {"event": "session_store_down", "error": repr(exc), "dropped": self.dropped}
                )

    def _recovered(self) -> None:
        self._backoff = 0.0
        self._full_warned = False
        if self._down:
            self._down = False
            if self._may_log():
                _log.info({"event": "session_store_up", "dropped": self.dropped})

    def _may_log(self) -> bool:
        """At most one down/up line a minute (a slow Redis may flap)."""
        now = self._clock()
        if self._logged_at is not None and now - self._logged_at < LOG_EVERY:
            return False
        self._logged_at = now
        return True
