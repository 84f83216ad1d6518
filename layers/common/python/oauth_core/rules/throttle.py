"""Slowing down guessing (SECURITY E8, G6) without handing anyone a way to lock others out (E9,
G7).

Failures are counted per subject *and source* (a client id or a username, with the address it
came from) and per source, never per subject alone: a stranger's failures cannot stop the
right credentials from another address. From the source that failed, everything waits, the
right secret too, or the answer would tell a guesser when it guessed right. Counting is a
token bucket (oauth_core.rate_limit): a burst of `max_failures`, then one more every
`failure_window / max_failures` seconds.

Sign-in takes an attempt from each bucket before it verifies a password, in one atomic step
per bucket, and gives it back when the password was right: attempts sent in parallel each need
a place in the bucket, so a burst can never check more passwords than the limit. The token
endpoint, whose warm path makes no AWS calls, only counts failures: a container that has seen a
bucket fill refuses that key locally until it drains (client secrets are long random strings,
which parallel guessing cannot find either).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from oauth_core import audit
from oauth_core.clock import Clock
from oauth_core.config import Settings
from oauth_core.errors import TooManyRequests
from oauth_core.ports import RateLimiter
from oauth_core.rate_limit import Limit, after_failure, retry_after_ms, source_of

# What is being guessed: a user's password at sign-in, a client's secret at the token endpoint,
# a user's second factor (a TOTP or recovery code: the subject is the user's `sub`).
SIGN_IN = "signin"
CLIENT_SECRET = "client"
SECOND_FACTOR = "factor"
MAX_SUBJECT_LENGTH = 128
# Local locks kept per container before the drained ones are dropped: a flood from many sources
# must not grow a container's memory without bound.
MAX_LOCAL_LOCKS = 10_000


# The audit event of a bucket that fills, by what is being guessed.
_LOCKOUT_EVENTS = {
    SIGN_IN: audit.SIGNIN_LOCKOUT,
    CLIENT_SECRET: audit.CLIENT_AUTH_LOCKOUT,
    SECOND_FACTOR: audit.SECOND_FACTOR_LOCKOUT,
}
# What the audit record of a filled bucket names its subject as.
_SUBJECT_FIELDS = {SIGN_IN: "username", CLIENT_SECRET: "client_id", SECOND_FACTOR: "sub"}


@dataclass(frozen=True)
class ThrottleKey:
    name: str
    limit: Limit
    # What the bucket counts, for the audit record of its filling.
    purpose: str = ""
    source: str = ""
    subject: str | None = None  # None: the source's own bucket


class FailureThrottle:
    def __init__(self, limiter: RateLimiter, settings: Settings, clock: Clock):
        self._limiter = limiter
        self._per_subject = Limit(settings.max_failures, settings.failure_window)
        # An address is shared by many honest users (NAT): it gets a limit of its own.
        self._per_source = Limit(settings.max_failures_per_ip, settings.failure_window)
        self._clock = clock
        self._locked_until: dict[str, int] = {}
        self._lock = threading.Lock()

    def keys(self, purpose: str, subject: str | None, address: str) -> tuple[ThrottleKey, ...]:
        """The buckets one attempt counts against: its source, and its subject from that source
        (no subject when the request did not name one readably)."""
        source = source_of(address)
        keys = [ThrottleKey(f"{purpose}:{source}", self._per_source, purpose, source)]
        if subject is not None:
            subject = subject[:MAX_SUBJECT_LENGTH]
            keys.append(
                ThrottleKey(
                    f"{purpose}:{subject}@{source}", self._per_subject, purpose, source, subject
                )
            )
        return tuple(keys)

    def _now_ms(self) -> int:
        return self._clock.now() * 1000

    def reserve(self, keys: tuple[ThrottleKey, ...]) -> None:
        """Count an attempt before it is checked; refuse it (429) if a bucket is full."""
        now = self._now_ms()
        for key in keys:
            taken, empty_at = self._limiter.take(key.name, now, key.limit)
            if not taken:
                raise TooManyRequests(_seconds(self._lock_locally(key, empty_at, now)))

    def give_back(self, keys: tuple[ThrottleKey, ...]) -> None:
        """The reserved attempt succeeded: it is no failure."""
        now = self._now_ms()
        for key in keys:
            self._limiter.give_back(key.name, now, key.limit)

    def check_local_for(self, purpose: str, subject: str | None, address: str) -> None:
        """check_local for an attempt's buckets, at no cost while this container has seen no
        bucket fill (the token endpoint's hot path)."""
        if self._locked_until:
            self.check_local(self.keys(purpose, subject, address))

    def check_local(self, keys: tuple[ThrottleKey, ...]) -> None:
        """Refuse if this container has seen one of the buckets fill (no AWS call)."""
        now = self._now_ms()
        with self._lock:
            for key in keys:
                until = self._locked_until.get(key.name)
                if until is not None and now < until:
                    raise TooManyRequests(_seconds(until - now))

    def failed(self, keys: tuple[ThrottleKey, ...]) -> None:
        """Count a failure after the fact; remember locally a bucket it filled."""
        now = self._now_ms()
        for key in keys:
            taken, empty_at = self._limiter.take(key.name, now, key.limit)
            if not taken or after_failure(empty_at, now, key.limit) is None:
                self._lock_locally(key, empty_at, now)

    def _lock_locally(self, key: ThrottleKey, empty_at: int, now: int) -> int:
        wait = max(retry_after_ms(empty_at, now, key.limit), 1)
        with self._lock:
            if len(self._locked_until) >= MAX_LOCAL_LOCKS:
                self._locked_until = {
                    name: until for name, until in self._locked_until.items() if until > now
                }
            already = self._locked_until.get(key.name, 0) > now
            self._locked_until[key.name] = now + wait
        if not already:
            # Once per bucket filling in this container, not once per refused attempt: a flood
            # of refused attempts writes no flood of records.
            _audit_lockout(key, _seconds(wait))
        return wait


def _audit_lockout(key: ThrottleKey, retry_after: int) -> None:
    event = _LOCKOUT_EVENTS.get(key.purpose)
    if event is None:
        return
    named = {_SUBJECT_FIELDS[key.purpose]: key.subject}
    audit.emit(
        event,
        source=key.source or None,
        bucket="source" if key.subject is None else "subject",
        retry_after=retry_after,
        **named,
    )


def _seconds(milliseconds: int) -> int:
    return max(1, -(-milliseconds // 1000))
