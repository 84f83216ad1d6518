"""The public discovery documents: metadata (RFC 8414, OIDC Discovery) and the JWK set."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from oauth_core import constants
from oauth_core.config import Settings
from oauth_core.endpoints.metadata import authorization_server_metadata, openid_configuration
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.ports import CatalogSource, KeyStore

# Public, identical for everyone, and safe to cache briefly: verifiers re-fetch on unknown kid.
PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}
# Shorter for the key set: published (re-read every `jwks_cache_ttl`) plus cached downstream must
# stay well inside the five minutes a next key is published before it may sign.
JWKS_CACHE = {"Cache-Control": "public, max-age=60"}


Builder = Callable[..., dict[str, Any]]  # (issuer, grant types, scopes, *, registration)
_MAX_DOCUMENTS = 64


class DiscoveryEndpoints:
    def __init__(
        self,
        settings: Settings,
        published_keys: KeyStore,
        grant_types: Iterable[str],
        scopes: CatalogSource,
    ):
        self._settings = settings
        self._published_keys = published_keys
        self._grant_types = tuple(grant_types)
        self._scopes = scopes
        # The documents depend on the issuer and the known scopes: built once for each.
        self._documents: dict[tuple[str, str, tuple[str, ...]], str] = {}

    def _document(self, request: HttpRequest, build: Builder) -> HttpResponse:
        issuer = self._settings.issuer_for(request.domain_name)
        scopes = tuple(self._scopes.catalog().scope_names())
        key = (build.__name__, issuer, scopes)
        body = self._documents.get(key)
        if body is None:
            if len(self._documents) > _MAX_DOCUMENTS:  # issuers and scope sets seen: few
                self._documents.clear()
            registration = self._settings.client_registration in (
                constants.REGISTRATION_OPEN,
                constants.REGISTRATION_TOKEN,
            )
            document = build(
                issuer,
                self._grant_types,
                scopes,
                registration=registration,
                client_documents=self._settings.uses_client_documents,
                require_pushed_requests=self._settings.require_pushed_authorization_requests,
            )
            body = self._documents[key] = json.dumps(document)
        return HttpResponse(200, body, {"Content-Type": "application/json", **PUBLIC_CACHE})

    def metadata(self, request: HttpRequest) -> HttpResponse:
        return self._document(request, authorization_server_metadata)

    def openid_configuration(self, request: HttpRequest) -> HttpResponse:
        return self._document(request, openid_configuration)

    def jwks(self, request: HttpRequest) -> HttpResponse:
        body = self._published_keys.load().public_jwks_json
        return HttpResponse(200, body, {"Content-Type": "application/json", **JWKS_CACHE})
