from __future__ import annotations

import pytest

from oauth_core.clock import FixedClock
from oauth_core.config import Settings
from oauth_core.errors import TooManyRequests
from oauth_core.rules.throttle import CLIENT_SECRET, SIGN_IN, FailureThrottle, source_of
from oauth_core.storage.memory import MemoryRateLimiter

WINDOW = 60


@pytest.fixture
def throttle(clock: FixedClock) -> FailureThrottle:
    settings = Settings(max_failures=3, max_failures_per_ip=5, failure_window=WINDOW)
    return FailureThrottle(MemoryRateLimiter(), settings, clock)


def test_g6_failures_per_account_and_source_are_limited(throttle: FailureThrottle) -> None:
    keys = throttle.keys(SIGN_IN, "alice", "198.51.100.1")
    for _ in range(3):
        throttle.reserve(keys)  # each attempt counted before its password is checked
    with pytest.raises(TooManyRequests) as caught:
        throttle.reserve(keys)
    assert 0 < caught.value.retry_after <= WINDOW
    throttle.reserve(throttle.keys(SIGN_IN, "bob", "198.51.100.1"))  # other accounts go on


def test_g6_a_right_password_gives_its_attempt_back(throttle: FailureThrottle) -> None:
    keys = throttle.keys(SIGN_IN, "alice", "198.51.100.1")
    for _ in range(10):
        throttle.reserve(keys)
        throttle.give_back(keys)
    throttle.reserve(keys)


def test_g7_failures_from_one_source_never_stop_another(throttle: FailureThrottle) -> None:
    for _ in range(3):
        throttle.reserve(throttle.keys(SIGN_IN, "alice", "198.51.100.1"))
    throttle.reserve(throttle.keys(SIGN_IN, "alice", "203.0.113.9"))


def test_g6_failures_per_source_are_limited_across_accounts(throttle: FailureThrottle) -> None:
    for i in range(5):
        throttle.reserve(throttle.keys(SIGN_IN, f"u{i}", "198.51.100.1"))
    with pytest.raises(TooManyRequests):
        throttle.reserve(throttle.keys(SIGN_IN, "someone-new", "198.51.100.1"))


def test_e8_local_lock_needs_no_read_and_ends_when_the_bucket_drains(
    throttle: FailureThrottle, clock: FixedClock
) -> None:
    keys = throttle.keys(CLIENT_SECRET, "c", "198.51.100.1")
    for _ in range(3):
        throttle.failed(keys)
    with pytest.raises(TooManyRequests) as caught:
        throttle.check_local(keys)
    # A full bucket takes one more failure once one interval (window / burst) has drained.
    assert caught.value.retry_after == WINDOW // 3
    clock.advance(WINDOW // 3)
    throttle.check_local(keys)
    throttle.check_local(throttle.keys(CLIENT_SECRET, "c", "203.0.113.9"))


@pytest.mark.parametrize("offset", [0, 1, 150, 290, 295, 299, 300, 301])
def test_e9_no_second_burst_at_a_window_edge(clock: FixedClock, offset: int) -> None:
    """Fixed windows let 2 x the limit through across an edge (19 passwords in 11 s were seen):
    whatever the phase, no 20 s span accepts more than the limit."""
    clock.current = 1_700_000_100 - 1_700_000_100 % 300 + offset - 10
    settings = Settings(max_failures=10, max_failures_per_ip=1000, failure_window=300)
    throttle = FailureThrottle(MemoryRateLimiter(), settings, clock)
    keys = throttle.keys(SIGN_IN, "alice", "198.51.100.1")
    accepted = 0
    for _ in range(20):
        for _ in range(5):
            try:
                throttle.reserve(keys)
            except TooManyRequests:
                continue
            accepted += 1
        clock.advance(1)
    assert accepted == 10


def test_sources_are_ipv4_addresses_and_ipv6_slash_64s() -> None:
    assert source_of("198.51.100.7") == "198.51.100.7"
    assert source_of("2001:db8:1:2:aaaa::1") == source_of("2001:db8:1:2:ffff::9")
    assert source_of("2001:db8:1:2::1") != source_of("2001:db8:1:3::1")
    assert source_of("not an address") == "not an address"
    # An IPv4 address written as IPv6 is that IPv4 address, not a /64 shared with all others.
    assert source_of("::ffff:198.51.100.7") == "198.51.100.7"
    assert source_of("::ffff:198.51.100.7") != source_of("::ffff:203.0.113.9")


def test_drained_local_locks_are_dropped_when_many_pile_up(
    throttle: FailureThrottle, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oauth_core.rules import throttle as module

    monkeypatch.setattr(module, "MAX_LOCAL_LOCKS", 4)
    for i in range(4):
        for _ in range(3):
            throttle.failed(throttle.keys(CLIENT_SECRET, f"c{i}", f"198.51.100.{i}"))
    clock.advance(WINDOW)
    keys = throttle.keys(CLIENT_SECRET, "late", "203.0.113.1")
    for _ in range(3):
        throttle.failed(keys)
    assert len(throttle._locked_until) <= 2  # the drained ones went; the new one stays
    with pytest.raises(TooManyRequests):
        throttle.check_local(keys)
