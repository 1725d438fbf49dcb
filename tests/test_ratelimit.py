"""Token buckets: bursts pass, floods are refused with a retry delay, and each key has its own bucket."""

from __future__ import annotations

import pytest

from hub.errors import RateLimited
from hub.ratelimit import TokenBuckets


def test_burst_then_refusal_with_retry_delay() -> None:
    buckets = TokenBuckets(rate=10, burst=3)
    for _ in range(3):
        buckets.take("A", now=100.0)
    with pytest.raises(RateLimited) as raised:
        buckets.take("A", now=100.0)
    assert raised.value.retry_after == pytest.approx(0.1)
    assert raised.value.metadata["retry_after"] == "0.100"
    buckets.take("A", now=100.1)  # refilled after the delay it named


def test_one_member_flooding_does_not_use_up_anothers_bucket() -> None:
    buckets = TokenBuckets(rate=1, burst=2)
    buckets.take("flooder", now=0.0)
    buckets.take("flooder", now=0.0)
    with pytest.raises(RateLimited):
        buckets.take("flooder", now=0.0)
    buckets.take("bystander", now=0.0)


def test_zero_rate_disables_the_limit() -> None:
    buckets = TokenBuckets(rate=0, burst=0)
    for _ in range(1000):
        buckets.take("A", now=0.0)
