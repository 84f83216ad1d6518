"""Client ID metadata documents: a client whose `client_id` is an https URL is described by the
JSON document at that URL (as MCP clients may name themselves), fetched when first needed and
kept a few minutes in the container, instead of registered here.

A ClientStore in front of the registered clients: an ordinary id is looked up as before; a URL
(when the stack allows documents) is fetched by oauth_core.http.outbound (no private, loopback
or link-local address outside local development, https, no redirects, 5 KB, 3 s) and turned
into a public client by the same rules as a self-registered one (the registration policy's:
code flow with PKCE, https or loopback redirect URIs, allow-listed scopes). The document must
name itself: its `client_id` must be its URL. A document that cannot be fetched or is unfit is
an unknown client, remembered as such for a short while so a bad URL is not fetched per request.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from oauth_core.admin.registry import InvalidClientMetadata
from oauth_core.admin.self_described import self_described_client
from oauth_core.clock import Clock
from oauth_core.http.outbound import FetchRefused, SafeFetcher
from oauth_core.models import DOCUMENT_CLIENT_ID, Client
from oauth_core.observability import logger
from oauth_core.ports import ClientStore
from oauth_core.rules import scope

KEEP_SECONDS = 300
KEEP_REFUSED_SECONDS = 60
MAX_KEPT = 1000
PLACEHOLDER_ID = "client-id-metadata-document"


def is_document_client_id(client_id: str) -> bool:
    return DOCUMENT_CLIENT_ID.match(client_id) is not None


class DocumentClients:
    """Registered clients, and clients described by their metadata documents."""

    def __init__(
        self,
        registered: ClientStore,
        fetcher: SafeFetcher,
        allowed_scopes: str,
        clock: Clock,
    ):
        self._registered = registered
        self._fetcher = fetcher
        self._allowed_scopes = scope.parse(allowed_scopes)
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: dict[str, tuple[int, Client | None]] = {}

    def get(self, client_id: str) -> Client | None:
        if not is_document_client_id(client_id):
            return self._registered.get(client_id)
        now = self._clock.now()
        with self._lock:
            kept = self._kept.get(client_id)
        if kept is not None and kept[0] > now:
            return kept[1]
        client = self._described(client_id)
        keep = KEEP_SECONDS if client is not None else KEEP_REFUSED_SECONDS
        with self._lock:
            if len(self._kept) >= MAX_KEPT:
                self._kept.clear()  # bounded: a flood of URLs cannot grow it
            self._kept[client_id] = (now + keep, client)
        return client

    def _described(self, url: str) -> Client | None:
        try:
            document = self._fetcher.fetch_json(url)
            return self._client_of(url, document)
        except (FetchRefused, InvalidClientMetadata) as exc:
            logger.info("client metadata document refused", extra={"reason": str(exc)[:200]})
            return None

    def _client_of(self, url: str, document: dict[str, Any]) -> Client:
        if document.get("client_id") != url:
            raise InvalidClientMetadata("client_id", "the document must name its own URL")
        # What the consent page shows: the document's name, and the host that vouches for it.
        host = urlsplit(url).hostname or url
        name = document.get("client_name")
        name = f"{name[:100]} ({host})" if isinstance(name, str) and name else host
        client = self_described_client(
            document, PLACEHOLDER_ID, name, self._allowed_scopes, self._clock.now()
        )
        # Its registration is its URL: the same document, the same client (D8's id).
        return replace(client, client_id=url, registration_id=url)

    # --- the registered clients, as before -------------------------------------------------------

    def put(
        self, client: Client, *, must_not_exist: bool = False, replacing: str | None = None
    ) -> None:
        self._registered.put(client, must_not_exist=must_not_exist, replacing=replacing)

    def delete(self, client_id: str) -> bool:
        return self._registered.delete(client_id)

    def list(self) -> list[Client]:
        return self._registered.list()
