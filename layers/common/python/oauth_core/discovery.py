"""The public discovery documents: metadata (RFC 8414, OIDC Discovery) and the JWK set."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from oauth_core.http import HttpRequest, HttpResponse, json_response
from oauth_core.metadata import authorization_server_metadata, openid_configuration
from oauth_core.services import Services

# Public, identical for everyone, and safe to cache briefly: verifiers re-fetch on unknown kid.
PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}


class DiscoveryEndpoints:
    def __init__(self, services: Services, grant_types: Iterable[str]):
        self._services = services
        self._grant_types = tuple(grant_types)

    def _document(
        self, request: HttpRequest, build: Callable[[str, Iterable[str]], dict[str, Any]]
    ) -> HttpResponse:
        issuer = self._services.settings.issuer_for(request.domain_name)
        return json_response(200, build(issuer, self._grant_types), PUBLIC_CACHE, no_store=False)

    def metadata(self, request: HttpRequest) -> HttpResponse:
        return self._document(request, authorization_server_metadata)

    def openid_configuration(self, request: HttpRequest) -> HttpResponse:
        return self._document(request, openid_configuration)

    def jwks(self, request: HttpRequest) -> HttpResponse:
        return json_response(
            200, self._services.keys.load().public_jwks(), PUBLIC_CACHE, no_store=False
        )
