"""A resource server's copy of the issuer's recent revocations (SECURITY F7): fetched from
/revocations at most every `refresh` seconds per container, so an API request costs no storage
read and no HTTP call on the warm path. Imports no AWS SDK.

A token whose `jti` or `grant_id` is listed is refused. While the list cannot be fetched, the
last one serves until it is `max_stale` seconds old; after that, tokens cannot be checked and
the answer is 503, not a token that might be revoked accepted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from oauth_core.errors import InvalidToken, TemporarilyUnavailable
from oauth_core.observability import logger
from oauth_core.revocation import ids_of

Fetch = Callable[[str], dict[str, Any]]


class RevocationsUnavailable(TemporarilyUnavailable):
    """The issuer's revocations could not be fetched for too long: tokens cannot be checked."""


class RevocationList:
    def __init__(
        self,
        fetch: Fetch,
        refresh: float,
        max_stale: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._fetch = fetch
        self._refresh = refresh
        self._max_stale = max_stale if max_stale is not None else 3 * refresh
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._ids: dict[str, frozenset[str]] = {}
        self._fetched_at: dict[str, float] = {}
        self._failed_at: dict[str, float] = {}

    def _current(self, uri: str) -> frozenset[str]:
        now = self._monotonic()
        with self._lock:
            fetched_at = self._fetched_at.get(uri)
            failed_at = self._failed_at.get(uri)
            due = fetched_at is None or now - fetched_at >= self._refresh
            # A failed read is not tried again by every request: at most once a second.
            if due and (failed_at is None or now - failed_at >= 1.0):
                try:
                    document = self._fetch(uri)
                    listed = document.get("revoked")
                    if not isinstance(listed, list):
                        raise ValueError("no list of revocations")
                    self._ids[uri] = frozenset(str(i) for i in listed)
                    self._fetched_at[uri] = fetched_at = now
                    self._failed_at.pop(uri, None)
                except Exception as exc:  # the last list serves until max_stale
                    self._failed_at[uri] = now
                    logger.warning(
                        "revocations could not be fetched", extra={"error": type(exc).__name__}
                    )
            if fetched_at is None or now - fetched_at > self._max_stale:
                raise RevocationsUnavailable("cannot check tokens for revocation")
            return self._ids[uri]

    def check(self, uri: str, claims: dict[str, Any]) -> None:
        """Refuse a token that was revoked (InvalidToken), as far as the list says."""
        if ids_of(claims) & self._current(uri):
            raise InvalidToken("the access token was revoked")
