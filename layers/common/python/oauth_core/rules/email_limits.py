"""How often anyone may make this server send e-mail (SECURITY R3): requests per source, and
e-mails per address or username, in token buckets (oauth_core.rate_limit) of their own.

These buckets are not the sign-in's (oauth_core.rules.throttle): however full a stranger makes
them, a user's password still signs them in, from anywhere. A source that asks too often is
told so (429): that says nothing about any account. An address or username asked for too
often gets no more e-mail for a while, and the answer does not change (it would tell who has
an account): that is the one limit a stranger can trip for someone else, and all it holds back
is more e-mail, which protects the mailbox from being flooded.
"""

from __future__ import annotations

from oauth_core.clock import Clock
from oauth_core.config import Settings
from oauth_core.emails import identifier_key
from oauth_core.errors import TooManyRequests
from oauth_core.ports import RateLimiter
from oauth_core.rate_limit import Limit, retry_after_ms, source_of

HOUR = 3600
# What is being asked for, per source.
RECOVERY = "recovery"  # "forgot password"
SIGN_UP = "signup"  # self sign-up
# E-mails to one address, or for one username, whatever asks for them.
MAILED = "mailed"


class EmailLimits:
    def __init__(self, limiter: RateLimiter, settings: Settings, clock: Clock):
        self._limiter = limiter
        self._clock = clock
        self._per_source = {
            RECOVERY: Limit(settings.recoveries_per_source, HOUR),
            SIGN_UP: Limit(settings.sign_ups_per_source, HOUR),
        }
        self._per_address = Limit(settings.emails_per_address, HOUR)

    def count_source(self, purpose: str, address: str) -> None:
        """Count a request from its source; refuse it (429) when the source asked too often."""
        limit = self._per_source[purpose]
        now = self._clock.now_ms()
        taken, empty_at = self._limiter.take(f"{purpose}:{source_of(address)}", now, limit)
        if not taken:
            wait = max(retry_after_ms(empty_at, now, limit), 1)
            raise TooManyRequests(
                -(-wait // 1000), "too many requests from this network; retry later"
            )

    def may_mail(self, typed: str) -> bool:
        """Count an e-mail asked for this address or username (as typed); False when too many
        were asked for lately: then none is sent, silently."""
        key = f"{MAILED}:{identifier_key(typed)}"
        taken, _ = self._limiter.take(key, self._clock.now_ms(), self._per_address)
        return taken
