"""How often anyone may make this server send e-mail (SECURITY R3): requests per source, and
e-mails per address or username, in token buckets (oauth_core.rate_limit) of their own.

These buckets are not the sign-in's (oauth_core.rules.throttle): however full a stranger makes
them, a user's password still signs them in, from anywhere. A source that asks too often is
told so (429): that says nothing about any account. An address or username asked for too
often gets no more e-mail for a while, and the answer does not change (it would tell who has
an account). That limit is counted per network as well as in all: a stranger asking from one
network (a reset for someone's username, sign-ups with their address) holds back only what is
asked from that network, never the e-mail the user asks for from theirs; only many networks
together reach the overall count, which keeps the mailbox from being flooded.
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
# E-mails to one address, or for one username: from one network, and from all of them (this
# many times as many).
MAILED = "mailed"
NETWORKS_PER_ADDRESS = 4


class EmailLimits:
    def __init__(self, limiter: RateLimiter, settings: Settings, clock: Clock):
        self._limiter = limiter
        self._clock = clock
        self._per_source = {
            RECOVERY: Limit(settings.recoveries_per_source, HOUR),
            SIGN_UP: Limit(settings.sign_ups_per_source, HOUR),
        }
        self._per_address = Limit(settings.emails_per_address, HOUR)
        self._per_address_anywhere = Limit(settings.emails_per_address * NETWORKS_PER_ADDRESS, HOUR)

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

    def may_mail(self, typed: str, source: str = "") -> bool:
        """Count an e-mail asked for this address or username (as typed) from `source` (the
        requester's address; none for an operator); False when too many were asked for lately
        from that network, or from all of them: then none is sent, silently."""
        key = f"{MAILED}:{identifier_key(typed)}"
        now = self._clock.now_ms()
        network = source_of(source) if source else "-"
        here, _ = self._limiter.take(f"{key}:{network}", now, self._per_address)
        if not here:
            return False
        anywhere, _ = self._limiter.take(key, now, self._per_address_anywhere)
        return anywhere
