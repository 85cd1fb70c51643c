"""Per-client accounting: what a run asked for, what it cost and what went wrong.

Runs against paid endpoints need the bill before it arrives and the failure
pattern (mostly 429s? timeouts?) to tune concurrency; the audit stores
`to_dict()` next to its results. Counters are updated from worker threads, so
every update takes the lock.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

# {model: (USD per 1M prompt tokens, USD per 1M completion tokens)}
PriceTable = Mapping[str, tuple[float, float]]


@dataclass
class ClientStats:
    """Counters of one ChatClient.

    calls: chat() calls made; requests: HTTP requests sent (retries included);
    cache_hits: calls answered from the disk cache; retries: retries by reason
    ("http_429", "timeout", "malformed", ...); failures: calls that raised
    LLMError; tokens: as reported by the server for requests actually sent
    (cache hits cost nothing); request_seconds: summed latency of HTTP requests;
    wall_seconds: elapsed time of top-level chat()/chat_many() calls.
    """

    model: str = ""
    prices: PriceTable | None = None
    calls: int = 0
    requests: int = 0
    cache_hits: int = 0
    failures: int = 0
    failures_by_reason: Counter = field(default_factory=Counter)
    retries: Counter = field(default_factory=Counter)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    request_seconds: float = 0.0
    wall_seconds: float = 0.0
    logprobs_refused: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **deltas: float) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def add_retry(self, reason: str) -> None:
        with self._lock:
            self.retries[reason] += 1

    def add_failure(self, reason: str) -> None:
        with self._lock:
            self.failures += 1
            self.failures_by_reason[reason] += 1

    @property
    def total_retries(self) -> int:
        return sum(self.retries.values())

    @property
    def estimated_cost_usd(self) -> float | None:
        """Cost of the tokens sent, or None when the model has no entry in the price table."""
        if not self.prices or self.model not in self.prices:
            return None
        usd_in, usd_out = self.prices[self.model]
        return (self.prompt_tokens * usd_in + self.completion_tokens * usd_out) / 1e6

    def to_dict(self) -> dict:
        with self._lock:
            return {
                "model": self.model,
                "calls": self.calls,
                "requests": self.requests,
                "cache_hits": self.cache_hits,
                "retries": dict(sorted(self.retries.items())),
                "total_retries": self.total_retries,
                "failures": self.failures,
                "failures_by_reason": dict(sorted(self.failures_by_reason.items())),
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "request_seconds": round(self.request_seconds, 6),
                "wall_seconds": round(self.wall_seconds, 6),
                "estimated_cost_usd": self.estimated_cost_usd,
                "logprobs_refused": self.logprobs_refused,
            }

    def summary(self) -> str:
        """One line for logs and progress bars."""
        cost = self.estimated_cost_usd
        return (
            f"{self.calls} calls, {self.requests} requests, {self.cache_hits} cached, "
            f"{self.total_retries} retries, {self.failures} failed, "
            f"{self.prompt_tokens}+{self.completion_tokens} tokens"
            + (f", ~${cost:.4f}" if cost is not None else "")
        )
