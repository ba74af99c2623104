"""Key rotation and cooldowns: the only mutable upstream state, one instance per app.

``Health`` hands out a provider's keys in turn (round robin, skipping keys that
are cooling down: after a 401/403 the key rests for every model; after a 429
it rests for that upstream model only, since providers limit rates per model
and key) and tracks candidates that keep failing:
after ``failure_threshold`` consecutive retryable failures a model rests for
``cooldown_seconds``. A success resets the count. Time comes from an injectable
monotonic clock. Single event loop; no locks needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sidecar.config import ProviderConfig


class Health:
    def __init__(
        self,
        *,
        cooldown_seconds: float,
        key_cooldown_seconds: float,
        failure_threshold: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cooldown_seconds = cooldown_seconds
        self.key_cooldown_seconds = key_cooldown_seconds
        self.failure_threshold = failure_threshold
        self._clock = clock
        self._next_key: dict[str, int] = {}
        self._key_until: dict[tuple[str, int, str], float] = {}
        self._fails: dict[str, int] = {}
        self._model_until: dict[str, float] = {}

    def keys(self, provider: ProviderConfig, model: str = "") -> list[tuple[int, str | None]]:
        """Usable keys in the order to try them, starting at the rotation point.

        A provider without keys yields one keyless slot. Cooling keys are left
        out, so an empty list means every key is resting.
        """
        if not provider.api_keys:
            return [(-1, None)]
        count = len(provider.api_keys)
        start = self._next_key.get(provider.name, 0) % count
        self._next_key[provider.name] = start + 1
        now = self._clock()
        order = [(start + i) % count for i in range(count)]
        until = self._key_until
        name = provider.name
        return [
            (i, provider.api_keys[i])
            for i in order
            if until.get((name, i, ""), 0.0) <= now and until.get((name, i, model), 0.0) <= now
        ]

    def cool_key(
        self, provider: str, index: int, seconds: float | None = None, model: str = ""
    ) -> None:
        """Rest one key, for ``model`` only or ("") for all (the keyless slot -1 never rests)."""
        if index >= 0:
            rest = seconds if seconds is not None else self.key_cooldown_seconds
            self._key_until[(provider, index, model)] = self._clock() + max(rest, 0.0)

    def cooling(self, model: str) -> bool:
        return self._model_until.get(model, 0.0) > self._clock()

    def failure(self, model: str) -> bool:
        """Count a retryable failure; True when the model has just started cooling down."""
        fails = self._fails.get(model, 0) + 1
        self._fails[model] = fails
        if fails >= self.failure_threshold:
            self._fails[model] = 0
            self._model_until[model] = self._clock() + self.cooldown_seconds
            return True
        return False

    def success(self, model: str) -> None:
        if self._fails.get(model):
            self._fails[model] = 0
