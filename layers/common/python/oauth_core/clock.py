"""Time and randomness, injected so expiry and replay are tested without sleeping."""

from __future__ import annotations

import secrets
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> int:
        """Seconds since the epoch."""
        ...


class SystemClock:
    def now(self) -> int:
        return int(time.time())


class FixedClock:
    """A clock for tests: it moves only when told to."""

    def __init__(self, start: int = 1_700_000_000):
        self.current = start

    def now(self) -> int:
        return self.current

    def advance(self, seconds: int) -> None:
        self.current += seconds


class Random(Protocol):
    def token(self, nbytes: int = 32) -> str:
        """A URL-safe random string carrying `nbytes` bytes of entropy."""
        ...


class SystemRandom:
    def token(self, nbytes: int = 32) -> str:
        return secrets.token_urlsafe(nbytes)
