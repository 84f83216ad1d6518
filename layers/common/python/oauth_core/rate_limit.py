"""Failure buckets as the generic cell rate algorithm (GCRA), a token bucket kept as one number.

A bucket takes `burst` failures at once and drains one every `interval`; its whole state is the
time at which it will be empty again. There are no windows, so no window edge lets a second
burst through (SECURITY E9). Both storage adapters apply these rules: the in-memory one with
the functions below, the DynamoDB one as the same arithmetic in conditional updates.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    burst: int  # failures accepted in a row
    window: int  # seconds a full bucket takes to drain

    @property
    def interval_ms(self) -> int:
        """How long one failure takes to drain (rounded up: never faster than the limit)."""
        return -(-self.window * 1000 // self.burst)

    @property
    def window_ms(self) -> int:
        return self.interval_ms * self.burst


def after_failure(empty_at: int, now_ms: int, limit: Limit) -> int | None:
    """The bucket's empty-at time after one more failure, or None if it is full already."""
    new = max(empty_at, now_ms) + limit.interval_ms
    return None if new - now_ms > limit.window_ms else new


def after_give_back(empty_at: int, now_ms: int, limit: Limit) -> int:
    """The bucket's empty-at time with one failure taken out again (never before now)."""
    return max(now_ms, empty_at - limit.interval_ms)


def retry_after_ms(empty_at: int, now_ms: int, limit: Limit) -> int:
    """How long until the bucket takes another failure (0: it takes one now)."""
    return max(0, empty_at - now_ms - (limit.window_ms - limit.interval_ms))


@functools.lru_cache(maxsize=4096)
def source_of(address: str) -> str:
    """The source a failure is counted against (and an audit record names). An IPv6 host holds
    a whole /64, so that is the unit: counting single IPv6 addresses would let one host spread
    its guesses without limit."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
