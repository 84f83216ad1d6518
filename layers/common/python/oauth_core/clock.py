"""Time and randomness, injected so expiry and replay are tested without sleeping."""

from __future__ import annotations

import secrets
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> int:
        """Seconds since the epoch."""
        ...

    def now_ms(self) -> int:
        """Milliseconds since the epoch: for ordering events within one second."""
        ...


class SystemClock:
    def now(self) -> int:
        return int(time.time())

    def now_ms(self) -> int:
        return int(time.time() * 1000)


class FixedClock:
    """A clock for tests: it moves only when told to (in seconds, or milliseconds)."""

    def __init__(self, start: int = 1_700_000_000):
        self._ms = start * 1000

    @property
    def current(self) -> int:
        return self._ms // 1000

    @current.setter
    def current(self, seconds: int) -> None:
        self._ms = seconds * 1000

    def now(self) -> int:
        return self._ms // 1000

    def now_ms(self) -> int:
        return self._ms

    def advance(self, seconds: int) -> None:
        self._ms += seconds * 1000

    def advance_ms(self, milliseconds: int) -> None:
        self._ms += milliseconds


class Random(Protocol):
    def token(self, nbytes: int = 32) -> str:
        """A URL-safe random string carrying `nbytes` bytes of entropy."""
        ...


class SystemRandom:
    def token(self, nbytes: int = 32) -> str:
        return secrets.token_urlsafe(nbytes)
