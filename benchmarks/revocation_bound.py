"""SECURITY F7, observed: how long a revoked token keeps working at a resource function, on a
simulated clock (the real code: RevocationsEndpoint with its copy, RevocationList with its
refresh), swept over when the revocation happens and how two containers' refreshes interleave
(the second one keeps the issuer's copy young at the worst moment). The bound the docs state is
REVOCATION_REFRESH_SECONDS + min(5, REVOCATION_REFRESH_SECONDS)."""

from __future__ import annotations

import json

from oauth_core.clock import FixedClock
from oauth_core.constants import REVOCATION_REFRESH_SECONDS, REVOCATION_SERVER_CACHE_SECONDS
from oauth_core.endpoints.revocations import RevocationsEndpoint
from oauth_core.errors import InvalidToken
from oauth_core.http.request import HttpRequest
from oauth_core.storage.memory import MemoryGrantStore
from oauth_core.tokens.revocation_list import RevocationList

URI = "https://auth.example.com/revocations"
STEP_MS = 250


def _delay(refresh: int, keep: int, phase_ms: int, revoked_at_ms: int) -> float:
    """Seconds from the revocation until container A refuses the token."""
    clock = FixedClock(0)
    store = MemoryGrantStore(clock)
    endpoint = RevocationsEndpoint(store, clock, keep)
    request = HttpRequest(
        method="GET", path="/revocations", headers={}, raw_query="", body=b"",
        source_ip="198.51.100.7", domain_name="auth.example.com", request_id="bench",
    )  # fmt: skip

    def fetch(uri: str) -> dict[str, object]:
        return dict(json.loads(endpoint.handle(request).body))

    def monotonic() -> float:
        return clock.now_ms() / 1000

    a = RevocationList(fetch, refresh, monotonic=monotonic)
    b = RevocationList(fetch, refresh, monotonic=monotonic)
    claims = {"jti": "the-token", "grant_id": "its-grant"}
    horizon_ms = revoked_at_ms + 4 * refresh * 1000
    revoked = False
    while clock.now_ms() <= horizon_ms:
        now = clock.now_ms()
        if not revoked and now >= revoked_at_ms:
            store.revoke_access_token("the-token", now // 1000 + 3600)
            revoked = True
        if now >= phase_ms:
            b.check(URI, {"jti": "another", "grant_id": "another"})  # keeps the copy young
        try:
            a.check(URI, claims)
        except InvalidToken:
            if revoked:
                return (now - revoked_at_ms) / 1000
        clock.advance_ms(STEP_MS)
    raise AssertionError("the revoked token was never refused")


def observed(
    refresh: int = REVOCATION_REFRESH_SECONDS, keep: int = REVOCATION_SERVER_CACHE_SECONDS
) -> tuple[float, int]:
    """The longest delay seen over the sweep, and the stated bound."""
    keep = min(keep, refresh)
    worst = 0.0
    for phase_ms in range(0, refresh * 1000, 1000):
        for revoked_at_ms in range(1000, (refresh + 1) * 1000, 500):
            worst = max(worst, _delay(refresh, keep, phase_ms, revoked_at_ms))
    return worst, refresh + keep
