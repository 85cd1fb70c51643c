"""When to retry a chat request and how long to wait.

Exponential backoff with *full jitter* (the wait is uniform in [0, base * 2^n],
capped) spreads the retries of many concurrent workers instead of having them
hit a rate-limited server again in lock-step. A server's Retry-After is a
better guess than ours, so it is honoured, but only up to a cap: a buggy or
hostile header must not park a run for an hour.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from dataclasses import dataclass

# 408 Request Timeout, 409 Conflict (OpenAI uses it for transient lock
# conflicts), 429 Too Many Requests; every 5xx is retried as well.
RETRYABLE_4XX = frozenset({408, 409, 429})


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_4XX or status >= 500


def parse_retry_after(headers: object, now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    if headers is None:
        return None
    get = getattr(headers, "get", None)
    if get is None:
        return None
    value = get("retry-after-ms")
    if value is not None:
        try:
            ms = float(value)
        except (TypeError, ValueError):
            ms = None
        if ms is not None and ms >= 0:
            return ms / 1000.0
    value = get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        try:
            when = email.utils.parsedate_to_datetime(str(value))
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if seconds == seconds else None  # NaN guard


@dataclass
class Backoff:
    """Full-jitter exponential backoff with a seeded, thread-safe random source."""

    base: float = 0.5
    cap: float = 8.0
    max_retry_after: float = 60.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.base < 0 or self.cap < 0 or self.max_retry_after < 0:
            raise ValueError("backoff times must be >= 0")
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `retry` (0 for the first retry)."""
        ceiling = min(self.cap, self.base * (2.0**retry))
        with self._lock:
            wait = self._rng.uniform(0.0, ceiling)
        if retry_after is not None:
            # The server knows when it will accept us again; never go earlier than
            # it asks, but never wait longer than our cap either.
            wait = min(max(wait, retry_after), self.max_retry_after)
        return wait
