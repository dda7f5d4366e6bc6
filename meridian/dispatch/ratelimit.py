"""Per-client token-bucket rate limiting with a bounded memory footprint."""

from __future__ import annotations

import sys
import time
from collections import OrderedDict
from collections.abc import Callable

# Enough distinct clients for a busy region; the least recently seen client is forgotten first.
MAX_TRACKED_CLIENTS = 100_000
# And a bound in bytes, whatever the keys are: 100,000 IPv6 clients are charged about 29 MB.
MAX_TRACKED_BYTES = 32 * 1024 * 1024
# What one bucket costs besides its key: the ordered-dict slot and node, the (tokens, last) tuple
# and its two floats; tracemalloc measured 195 bytes on CPython 3.11 (100,000 buckets).
ENTRY_OVERHEAD_BYTES = 200


def entry_cost(client: str) -> int:
    """The bytes one tracked client is charged: its key plus the bucket's fixed overhead."""
    return sys.getsizeof(client) + ENTRY_OVERHEAD_BYTES


class RateLimiter:
    """Allows ``burst`` requests at once per client, refilled at ``per_minute``."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_TRACKED_CLIENTS,
        max_bytes: int = MAX_TRACKED_BYTES,
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._max_clients = max_clients
        self._max_bytes = max_bytes
        self._bytes = 0
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    @property
    def tracked_bytes(self) -> int:
        """The bytes currently charged to tracked clients (see `entry_cost`)."""
        return self._bytes

    @property
    def tracked_clients(self) -> int:
        """How many clients have a bucket."""
        return len(self._buckets)

    def acquire(self, client: str) -> float:
        """Take one request from the client's bucket: 0.0 if allowed, else seconds to wait."""
        now = self._clock()
        known = self._buckets.pop(client, None)
        if known is None:
            self._bytes += entry_cost(client)
        tokens, last = known or (self._burst, now)
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens >= 1.0:
            self._buckets[client] = (tokens - 1.0, now)
            wait = 0.0
        else:
            self._buckets[client] = (tokens, now)
            wait = (1.0 - tokens) / self._rate
        while len(self._buckets) > 1 and (
            len(self._buckets) > self._max_clients or self._bytes > self._max_bytes
        ):
            oldest, _ = self._buckets.popitem(last=False)
            self._bytes -= entry_cost(oldest)
        return wait
