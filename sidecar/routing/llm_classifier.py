"""The LLM classifier: a second opinion when the heuristic is unsure (off by default).

``route`` is synchronous and must stay fast, so the LLM call happens in the
awaited ``Router.load`` step before it (``ahead.classify_ahead``): when the
heuristic's confidence is under the threshold, ``answer(key, text)`` returns a
cached answer at once, or starts (or joins) one classification and waits for
it at most ``timeout``; ``route`` then reads ``cached(key)`` and the triggering
request gets the LLM's answer. Past the timeout the classification keeps
running in the background (bounded, deduplicated) and the request keeps the
heuristic answer; the next request of the turn finds the answer in the cache
(keyed by a hash of the message). ``route`` itself only ever calls
``request(key, text)`` (start in the background, never wait). Any failure
(timeout, HTTP error, an answer that is not a profile) leaves the cache empty
for that key and the key is not asked again (bounded, like the cache): the
heuristic answer stands, and later requests of the turn do not wait again.

The HTTP call is a seam: ``Ask = async (model, prompt, max_tokens) -> text``;
``sidecar.upstream.side_call.http_ask`` implements it over the app's session,
key pool and proxies (the routing core imports no HTTP client). The prompt
carries at most ``max_chars`` of the message (it leaves the machine: that is why
this is off by default).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sidecar.config import ModelConfig
from sidecar.routing.classifier import PROFILES, Classification
from sidecar.routing.settings import ClassifierSettings

Ask = Callable[[ModelConfig, str, int], Awaitable[str]]

PROMPT = (
    "Classify the coding-agent request below into exactly one word: planner (design, "
    "architecture, trade-offs), debugger (errors, failures, wrong behaviour), reviewer (review, "
    "audit, security), coder (implement, add, change), refactorer (restructure without changing "
    "behaviour) or assistant (questions, lookups, chit-chat). Answer with the word only.\n\n"
    "Request:\n"
)
LLM_CONFIDENCE = 0.7
MAX_ANSWER_TOKENS = 8
MAX_IN_FLIGHT = 4


def message_key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=12).hexdigest()


def parse_answer(answer: str) -> str | None:
    """The profile named in a short answer, or None."""
    words = answer.strip().lower().replace(".", " ").split()
    for word in words[:3]:
        if word in PROFILES:
            return word
    return None


class LlmClassifier:
    def __init__(
        self,
        ask: Ask,
        model: ModelConfig,
        *,
        timeout: float = 3.0,
        max_chars: int = 500,
        cache_size: int = 2048,
    ) -> None:
        self.model = model
        self._ask = ask
        self._timeout = timeout
        self._max_chars = max_chars
        self._cache_size = cache_size
        self._cache: OrderedDict[str, Classification] = OrderedDict()
        self._failed: OrderedDict[str, None] = OrderedDict()  # keys not asked again
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def cached(self, key: str) -> Classification | None:
        return self._cache.get(key)

    def request(self, key: str, text: str) -> bool:
        """Start classifying ``text`` in the background; False if not started."""
        if key in self._cache or key in self._tasks or key in self._failed:
            return False
        if len(self._tasks) >= MAX_IN_FLIGHT:
            return False
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (the explain CLI): heuristic only
            return False
        task = loop.create_task(self._run(key, text))
        self._tasks[key] = task
        task.add_done_callback(lambda _t: self._tasks.pop(key, None))
        return True

    async def answer(self, key: str, text: str) -> Classification | None:
        """The classification of ``text`` (cache key ``key``), waiting at most the timeout.

        A cache hit costs nothing. A miss starts the classification (or joins the one
        in flight) and waits for it without cancelling it: past the timeout it keeps
        running for later requests and None is returned. None also on any failure.
        """
        hit = self._cache.get(key)
        if hit is not None or key in self._failed:
            return hit  # a message that failed once is not asked again (no wait per request)
        if key not in self._tasks and not self.request(key, text):
            return None  # too many in flight (or no event loop): the heuristic stands
        task = self._tasks.get(key)
        if task is not None:
            await asyncio.wait({task}, timeout=self._timeout)
        return self._cache.get(key)

    async def classify(self, text: str) -> Classification | None:
        """One classification (None on any failure)."""
        prompt = PROMPT + text[: self._max_chars]
        try:
            answer = await asyncio.wait_for(
                self._ask(self.model, prompt, MAX_ANSWER_TOKENS), self._timeout
            )
        except Exception:  # timeout, connection, HTTP error: keep the heuristic
            return None
        profile = parse_answer(answer)
        if profile is None:
            return None
        return Classification(profile, LLM_CONFIDENCE, "llm", ("llm",))

    async def _run(self, key: str, text: str) -> None:
        result = await self.classify(text)
        found: OrderedDict[str, Any] = self._failed if result is None else self._cache
        found[key] = result
        while len(found) > self._cache_size:
            found.popitem(last=False)

    async def aclose(self) -> None:
        """Cancel classifications in flight (app shutdown: the upstream session closes)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def drain(self) -> None:
        """Wait for classifications in flight (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)


def cheapest_classifier(
    ask: Ask | None, quick: Sequence[ModelConfig], s: ClassifierSettings
) -> LlmClassifier | None:
    """The LLM classifier on the cheapest quick-tier model among ``s.providers`` (all when
    empty); None when it is off, has no way to ask, or no model qualifies."""
    if not s.llm or ask is None:
        return None
    allowed = [m for m in quick if not s.providers or m.provider in s.providers]
    priced = sorted(allowed, key=lambda m: m.prices.input if m.prices.input is not None else 1e9)
    if not priced:
        return None
    return LlmClassifier(
        ask, priced[0], timeout=s.timeout, max_chars=s.max_chars, cache_size=s.cache_size
    )
