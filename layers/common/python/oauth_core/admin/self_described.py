"""The policy for clients that describe themselves (a dynamic registration, RFC 7591, or a
client ID metadata document): what such a client may be, whoever it says it is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oauth_core import constants
from oauth_core.admin.registry import InvalidClientMetadata, validate_metadata
from oauth_core.models import Client
from oauth_core.rules import redirect_uri, scope

# What a client that describes itself may have (RFC 7591 registration, a client ID metadata
# document): the code flow with PKCE and refresh tokens, as a public client.
SELF_DESCRIBED_GRANTS = (constants.GRANT_AUTHORIZATION_CODE, constants.GRANT_REFRESH_TOKEN)
MAX_SELF_DESCRIBED_REDIRECT_URIS = 10


def self_described_client(
    metadata: Mapping[str, Any],
    client_id: str,
    client_name: str,
    allowed_scopes: frozenset[str],
    now: int,
) -> Client:
    """The client this server accepts for metadata a client gave about itself, its policy
    applied: public (no secret), `https` or loopback-literal `http` redirect URIs (all of one
    kind: a native app's, or a web app's), the code flow and refresh tokens only, and only the
    allowed scopes of those asked for (all allowed ones if it asked for none). Refusals are
    InvalidClientMetadata naming the field."""
    uris = metadata.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        raise InvalidClientMetadata("redirect_uris", "a list of at least one URI is required")
    if len(uris) > MAX_SELF_DESCRIBED_REDIRECT_URIS:
        raise InvalidClientMetadata("redirect_uris", "at most 10")
    loopback = [u for u in uris if redirect_uri.is_loopback_http(u)]
    if any(not (u.startswith("https://") or u in loopback) for u in uris):
        raise InvalidClientMetadata("redirect_uris", "https, or http on 127.0.0.1 or [::1]")
    if loopback and len(loopback) != len(uris):
        raise InvalidClientMetadata("redirect_uris", "all loopback (a native app) or all https")
    grants = metadata.get("grant_types", [constants.GRANT_AUTHORIZATION_CODE])
    if not isinstance(grants, list) or not set(grants) <= set(SELF_DESCRIBED_GRANTS):
        raise InvalidClientMetadata("grant_types", "authorization_code and refresh_token only")
    asked = metadata.get("scope")
    if asked is not None and not isinstance(asked, str):
        raise InvalidClientMetadata("scope", "a space-separated string")
    granted = scope.parse(asked) & allowed_scopes if asked else allowed_scopes
    return validate_metadata(
        {
            "client_id": client_id,
            "client_name": client_name,
            "application_type": constants.APPLICATION_NATIVE
            if loopback
            else constants.APPLICATION_WEB,
            "redirect_uris": uris,
            "grant_types": list(dict.fromkeys(grants)) or [constants.GRANT_AUTHORIZATION_CODE],
            "response_types": ["code"],
            # Whatever was asked: no secrets for clients that describe themselves.
            "token_endpoint_auth_method": constants.AUTH_METHOD_NONE,
            "scope": scope.render(granted),
        },
        now=now,
    )
