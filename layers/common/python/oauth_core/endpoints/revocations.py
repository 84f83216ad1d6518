"""GET /revocations: the ids of every revoked access token and grant whose tokens may still be
unexpired (oauth_core.revocation), for resource servers to refuse them (SECURITY F7).

Read with one BatchGetItem and kept REVOCATION_SERVER_CACHE_SECONDS in the container, so
however many resource containers ask, the table is read at most that often per token container.
The ids are truncated hashes: the list names no token and no grant.
"""

from __future__ import annotations

import threading

from oauth_core.clock import Clock
from oauth_core.constants import REVOCATION_SERVER_CACHE_SECONDS
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse, json_response
from oauth_core.ports import GrantStore


class RevocationsEndpoint:
    def __init__(
        self, grants: GrantStore, clock: Clock, keep: int = REVOCATION_SERVER_CACHE_SECONDS
    ):
        self._grants = grants
        self._clock = clock
        self._keep = keep
        self._lock = threading.Lock()
        self._read_at: int | None = None
        self._ids: list[str] = []

    def handle(self, request: HttpRequest) -> HttpResponse:
        now = self._clock.now()
        with self._lock:
            if self._read_at is None or now - self._read_at >= self._keep:
                self._ids = sorted(self._grants.recent_revocations(now))
                self._read_at = now
            ids, read_at = self._ids, self._read_at
        headers = {"Cache-Control": f"public, max-age={self._keep}"}
        return json_response(
            200, {"revoked": ids, "generated_at": read_at}, headers, no_store=False
        )
