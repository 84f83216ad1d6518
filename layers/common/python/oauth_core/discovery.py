"""The public discovery documents: metadata (RFC 8414) and the JWK set (RFC 7517)."""

from __future__ import annotations

from collections.abc import Mapping

from oauth_core import constants
from oauth_core.grants import Grant
from oauth_core.http import HttpRequest, HttpResponse, json_response
from oauth_core.metadata import authorization_server_metadata
from oauth_core.services import Services

# Public, identical for everyone, and safe to cache briefly: verifiers re-fetch on unknown kid.
PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}


class DiscoveryEndpoints:
    def __init__(self, services: Services, grants: Mapping[str, Grant]):
        self._services = services
        self._grant_types = tuple(grants)

    def metadata(self, request: HttpRequest) -> HttpResponse:
        issuer = self._services.settings.issuer_for(request.domain_name)
        document = authorization_server_metadata(
            issuer, self._grant_types, (constants.SCOPE_READ, constants.SCOPE_WRITE)
        )
        return json_response(200, document, PUBLIC_CACHE, no_store=False)

    def jwks(self, request: HttpRequest) -> HttpResponse:
        return json_response(
            200, self._services.keys.load().public_jwks(), PUBLIC_CACHE, no_store=False
        )
