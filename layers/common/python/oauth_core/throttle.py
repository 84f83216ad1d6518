"""Slowing down guessing (SECURITY E8, G6): failures counted per key in fixed windows.

Sign-in checks the counters before it verifies a password. The token endpoint, whose warm path
makes no AWS calls, counts only failures: a container that has seen a client's failure count
reach the limit refuses that client locally until the window ends.
"""

from __future__ import annotations

import threading

from oauth_core.clock import Clock
from oauth_core.config import Settings
from oauth_core.errors import TooManyRequests
from oauth_core.ports import RateLimiter


class FailureThrottle:
    def __init__(self, limiter: RateLimiter, settings: Settings, clock: Clock):
        self._limiter = limiter
        self._max = settings.max_failures
        self._max_per_ip = settings.max_failures_per_ip
        self._window = settings.failure_window
        self._clock = clock
        self._locked_until: dict[str, int] = {}
        self._lock = threading.Lock()

    def _retry_after(self, now: int) -> int:
        return self._window - now % self._window

    def limit_for(self, key: str) -> int:
        # An address is shared by many honest users (NAT): it gets a limit of its own.
        return self._max_per_ip if key.startswith("ip:") else self._max

    def check(self, *keys: str) -> None:
        """Refuse now if any key is over its limit (reads the shared counters)."""
        now = self._clock.now()
        for key in keys:
            if self._limiter.failures(key, now) >= self.limit_for(key):
                raise TooManyRequests(self._retry_after(now))

    def check_local(self, *keys: str) -> None:
        """Refuse if this container has seen a key reach its limit (no AWS call)."""
        now = self._clock.now()
        with self._lock:
            for key in keys:
                until = self._locked_until.get(key)
                if until is not None and now < until:
                    raise TooManyRequests(until - now)

    def failed(self, *keys: str) -> None:
        now = self._clock.now()
        for key in keys:
            if self._limiter.record_failure(key, now) >= self.limit_for(key):
                with self._lock:
                    self._locked_until[key] = now + self._retry_after(now)
