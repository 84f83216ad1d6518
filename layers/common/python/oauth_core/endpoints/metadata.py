"""Authorization server metadata (RFC 8414) and OpenID Connect Discovery: only what exists."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from oauth_core import constants, keys
from oauth_core.rules import claims as oidc
from oauth_core.rules import pkce


def authorization_server_metadata(
    issuer: str,
    grant_types: Iterable[str],
    scopes: Iterable[str],
    *,
    registration: bool = False,
    client_documents: bool = False,
    require_pushed_requests: bool = False,
) -> dict[str, Any]:
    auth_methods = list(constants.SUPPORTED_AUTH_METHODS)
    confidential_methods = [m for m in auth_methods if m != constants.AUTH_METHOD_NONE]
    # private_key_jwt assertions (oauth_core.rules.client_assertion): asymmetric algorithms only.
    assertion_algs = list(constants.CLIENT_SIGNING_ALGORITHMS)
    optional: dict[str, Any] = {}
    if registration:
        optional["registration_endpoint"] = f"{issuer}{constants.REGISTRATION_PATH}"
    if client_documents:
        optional["client_id_metadata_document_supported"] = True
    return {
        **optional,
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "revocation_endpoint": f"{issuer}/revoke",
        "introspection_endpoint": f"{issuer}/introspect",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "scopes_supported": sorted(scopes),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": sorted(grant_types),
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": confidential_methods,
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "introspection_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "code_challenge_methods_supported": list(pkce.SUPPORTED_METHODS),
        "authorization_response_iss_parameter_supported": True,
        "prompt_values_supported": ["none", "login", "consent"],
        # RFC 9449 5.1: DPoP-bound tokens, proofs signed with these.
        "dpop_signing_alg_values_supported": list(constants.CLIENT_SIGNING_ALGORITHMS),
        # RFC 9126 5. Its request_uri values work whatever `request_uri_parameter_supported`
        # says, which stays false: no other request_uri is fetched or accepted.
        "pushed_authorization_request_endpoint": f"{issuer}{constants.PUSHED_REQUEST_PATH}",
        "require_pushed_authorization_requests": require_pushed_requests,
    }


def openid_configuration(
    issuer: str,
    grant_types: Iterable[str],
    scopes: Iterable[str],
    *,
    registration: bool = False,
    client_documents: bool = False,
    require_pushed_requests: bool = False,
) -> dict[str, Any]:
    return {
        **authorization_server_metadata(
            issuer,
            grant_types,
            scopes,
            registration=registration,
            client_documents=client_documents,
            require_pushed_requests=require_pushed_requests,
        ),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(keys.SUPPORTED_ALGS),
        # Once each, whichever of them the claims list already names.
        "claims_supported": list(dict.fromkeys([*oidc.CLAIMS_SUPPORTED, "acr", "amr"])),
        # OIDC Core 2 and 3.1.2.1: what `acr` says (a password; a password and a second
        # factor), and what `acr_values` may ask for (oauth_core.rules.assurance).
        "acr_values_supported": list(constants.ACR_VALUES_SUPPORTED),
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        # OpenID Connect RP-Initiated Logout 1.0 and Back-Channel Logout 1.0.
        "end_session_endpoint": f"{issuer}/logout",
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }
