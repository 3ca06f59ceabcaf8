"""In-memory token buckets per key (e.g. CreateJob per peer address)."""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimiter:
    """``rate_per_minute`` events per key with a burst of the same size; 0 disables."""

    def __init__(self, rate_per_minute: int, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        self.rate = rate_per_minute / 60.0
        self.burst = float(max(rate_per_minute, 1))
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> bool:
        """Take one token for ``key``; False when the key is over its rate."""
        if self.rate <= 0:
            return True
        now = self.clock()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return False
        if len(self._buckets) >= self.max_keys and key not in self._buckets:
            self._prune(now)
        self._buckets[key] = (tokens - 1.0, now)
        return True

    def _prune(self, now: float) -> None:
        full_after = self.burst / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}


def peer_host(peer: str) -> str:
    """The host part of a gRPC peer string (``ipv4:1.2.3.4:5678`` -> ``1.2.3.4``)."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rsplit(":", 1)[0]
    if kind == "ipv6":
        return rest.rsplit(":", 1)[0].strip("[]")
    return peer
