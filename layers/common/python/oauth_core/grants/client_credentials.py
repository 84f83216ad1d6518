"""The Client Credentials grant (RFC 6749 4.4): a service acting for itself, no user."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oauth_core import constants
from oauth_core.errors import InvalidClient, OAuthError, UnauthorizedClient
from oauth_core.grants import GrantContext
from oauth_core.models import Client
from oauth_core.rules import scope
from oauth_core.tokens.issuer import TokenIssuer, token_response


class ClientCredentialsGrant:
    grant_type = constants.GRANT_CLIENT_CREDENTIALS
    disabled_client_error: type[OAuthError] = InvalidClient

    def __init__(self, issuer: TokenIssuer):
        self._issuer = issuer

    def issue(
        self, client: Client, form: Mapping[str, str], context: GrantContext
    ) -> dict[str, Any]:
        if client.is_public:
            raise UnauthorizedClient("a public client cannot use client_credentials")
        asked = scope.narrow(form.get("scope"), client.allowed_scopes)
        audiences, scopes = self._issuer.targets(
            context.issuer, form.get("resource"), asked, default_resource=client.default_resource
        )
        granted = scope.render(scopes)
        issued = self._issuer.access_token(
            issuer=context.issuer,
            client=client,
            subject=client.client_id,
            scope=granted,
            audience=audiences,
            dpop_jkt=context.dpop_jkt,
        )
        # No refresh token: the client can always authenticate again (RFC 6749 4.4.3).
        return token_response(issued, granted)
