from __future__ import annotations

import pytest

from oauth_core.clock import FixedClock
from oauth_core.config import Settings
from oauth_core.errors import TooManyRequests
from oauth_core.storage.memory import MemoryRateLimiter
from oauth_core.throttle import FailureThrottle


@pytest.fixture
def throttle(clock: FixedClock) -> FailureThrottle:
    settings = Settings(max_failures=3, max_failures_per_ip=5, failure_window=60)
    return FailureThrottle(MemoryRateLimiter(60), settings, clock)


def test_g6_failures_per_account_are_limited(throttle: FailureThrottle) -> None:
    for _ in range(3):
        throttle.check("user:alice", "ip:a")
        throttle.failed("user:alice", "ip:a")
    with pytest.raises(TooManyRequests) as caught:
        throttle.check("user:alice", "ip:b")
    assert 0 < caught.value.retry_after <= 60
    throttle.check("user:bob", "ip:b")  # other accounts are unaffected


def test_g6_failures_per_address_are_limited_across_accounts(throttle: FailureThrottle) -> None:
    for i in range(5):
        throttle.failed(f"user:u{i}", "ip:shared")
    with pytest.raises(TooManyRequests):
        throttle.check("user:someone-new", "ip:shared")


def test_e8_local_lock_needs_no_read_and_ends_with_the_window(
    throttle: FailureThrottle, clock: FixedClock
) -> None:
    for _ in range(3):
        throttle.failed("client:c", "ip:x")
    with pytest.raises(TooManyRequests):
        throttle.check_local("client:c", "ip:y")
    clock.advance(60)
    throttle.check_local("client:c", "ip:y")
