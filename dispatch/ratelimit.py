"""Per-client token-bucket rate limiting with a bounded memory footprint."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

# Enough distinct clients for a busy region while keeping memory to a few MB under a flood of
# spoofed keys; the least recently seen client is forgotten first.
MAX_TRACKED_CLIENTS = 100_000


class RateLimiter:
    """Allows ``burst`` requests at once per client, refilled at ``per_minute``."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_TRACKED_CLIENTS,
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def acquire(self, client: str) -> float:
        """Take one request from the client's bucket: 0.0 if allowed, else seconds to wait."""
        now = self._clock()
        tokens, last = self._buckets.pop(client, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens >= 1.0:
            self._buckets[client] = (tokens - 1.0, now)
            wait = 0.0
        else:
            self._buckets[client] = (tokens, now)
            wait = (1.0 - tokens) / self._rate
        if len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)
        return wait
