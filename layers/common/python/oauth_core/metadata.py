"""Authorization server metadata (RFC 8414) and OpenID Connect Discovery: only what exists."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from oauth_core import constants


def authorization_server_metadata(
    issuer: str, grant_types: Iterable[str], scopes: Iterable[str]
) -> dict[str, Any]:
    grants = sorted(grant_types)
    metadata: dict[str, Any] = {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "grant_types_supported": grants,
        "token_endpoint_auth_methods_supported": list(constants.SUPPORTED_AUTH_METHODS),
        "scopes_supported": sorted(scopes),
        "response_types_supported": [],
    }
    return metadata
