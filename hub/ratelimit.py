"""Rate limits per member and per member × purpose: token buckets, refused with a retry delay.

The per-member bucket is checked on the TLS peer before any signature is verified, so a member
flooding the hub is turned away cheaply and cannot starve the others of CPU; the purpose bucket is
checked once the header is known.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from hub.errors import RateLimited


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class TokenBuckets:
    """``rate`` tokens per second up to ``burst``; ``take`` raises ``RateLimited`` when empty."""

    rate: float
    burst: float
    what: str = "requests"
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, key: str, now: float | None = None) -> None:
        if self.rate <= 0:
            return
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
            if bucket.tokens >= 1 - 1e-9:  # float refill must not strand the last token
                bucket.tokens -= 1
                return
            retry_after = (1 - bucket.tokens) / self.rate
        raise RateLimited(
            f"{key} sends more {self.what} than the {self.rate:g}/s allowed; retry in {retry_after:.2f} s",
            retry_after=retry_after,
            key=key,
        )


@dataclass
class RateLimits:
    per_member: TokenBuckets
    per_purpose: TokenBuckets

    @classmethod
    def of(cls, member_rate: float, member_burst: float, purpose_rate: float, purpose_burst: float) -> RateLimits:
        return cls(
            TokenBuckets(member_rate, member_burst, "requests"),
            TokenBuckets(purpose_rate, purpose_burst, "requests for one purpose"),
        )
