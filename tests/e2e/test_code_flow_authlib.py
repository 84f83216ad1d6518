"""The code flow with a third-party client library (Authlib) and a standard JOSE library
(joserfc) verifying the ID token against the published JWKS."""

from __future__ import annotations

import secrets

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import SPA, SPA_REDIRECT, Browser, query_of


def test_spa_code_flow_with_authlib_refresh_and_revocation(stack: LocalStack) -> None:
    metadata = requests.get(f"{stack.issuer}/.well-known/openid-configuration", timeout=5).json()
    client = OAuth2Session(
        client_id=SPA,
        redirect_uri=SPA_REDIRECT,
        scope="openid profile email offline_access read:data",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    browser = Browser(stack)
    callback = browser.until_client(browser.get(url)).headers["Location"]
    assert query_of(callback)["iss"] == metadata["issuer"]  # RFC 9207: check before use

    token = client.fetch_token(
        metadata["token_endpoint"],
        authorization_response=callback,
        code_verifier=verifier,
        state=state,
    )
    assert token["token_type"].lower() == "bearer"
    assert {"access_token", "refresh_token", "id_token"} <= set(token)

    # The ID token, verified with joserfc against the JWKS the metadata points to.
    key_set = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=5).json())
    id_token = jwt.decode(token["id_token"], key_set, algorithms=["RS256"])
    assert id_token.header["alg"] == "RS256"
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": metadata["issuer"]},
        aud={"essential": True, "value": SPA},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        auth_time={"essential": True},
        at_hash={"essential": True},
    ).validate(id_token.claims)
    assert id_token.claims["email"] == "demo@example.com"
    # How the user signed in (RFC 8176): a password, on the session and in every ID token of it.
    assert id_token.claims["amr"] == ["pwd"]

    resource = client.get(f"{stack.issuer}/resource", timeout=5)
    assert resource.status_code == 200
    assert resource.json()["sub"] == id_token.claims["sub"]
    userinfo = client.get(metadata["userinfo_endpoint"], timeout=5).json()
    assert userinfo["sub"] == id_token.claims["sub"]
    assert userinfo["name"] == "Dana Demo"

    old_refresh = token["refresh_token"]
    refreshed = client.refresh_token(metadata["token_endpoint"], refresh_token=old_refresh)
    assert refreshed["refresh_token"] != old_refresh
    assert client.get(f"{stack.issuer}/resource", timeout=5).status_code == 200

    client.revoke_token(
        metadata["revocation_endpoint"], refreshed["refresh_token"], token_type_hint="refresh_token"
    )
    again = requests.post(
        metadata["token_endpoint"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": refreshed["refresh_token"],
            "client_id": SPA,
        },
        timeout=5,
    )
    assert again.json()["error"] == "invalid_grant"


def test_metadata_lists_exactly_what_is_supported(stack: LocalStack) -> None:
    oauth = requests.get(f"{stack.issuer}/.well-known/oauth-authorization-server", timeout=5).json()
    oidc = requests.get(f"{stack.issuer}/.well-known/openid-configuration", timeout=5).json()
    for document in (oauth, oidc):
        assert document["issuer"] == stack.issuer
        assert document["response_types_supported"] == ["code"]
        assert document["response_modes_supported"] == ["query"]
        assert sorted(document["grant_types_supported"]) == [
            "authorization_code",
            "client_credentials",
            "refresh_token",
        ]
        assert document["authorization_response_iss_parameter_supported"] is True
        for endpoint in (
            "authorization_endpoint",
            "token_endpoint",
            "revocation_endpoint",
            "introspection_endpoint",
            "userinfo_endpoint",
            "jwks_uri",
        ):
            assert document[endpoint].startswith(stack.issuer + "/")
    assert oidc["subject_types_supported"] == ["public"]
    assert "RS256" in oidc["id_token_signing_alg_values_supported"]
    # Every advertised endpoint answers (not 404).
    for endpoint in ("revocation_endpoint", "introspection_endpoint"):
        assert requests.post(oidc[endpoint], timeout=5).status_code != 404
    assert requests.get(oidc["userinfo_endpoint"], timeout=5).status_code == 401
    # Issue 15: the client authentication methods, DPoP, PAR and logout, exactly.
    for document in (oauth, oidc):
        methods = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
        assert document["token_endpoint_auth_methods_supported"] == methods
        assert document["introspection_endpoint_auth_methods_supported"] == methods[:3]
        for name in ("token", "revocation", "introspection"):
            algs = document[f"{name}_endpoint_auth_signing_alg_values_supported"]
            assert algs == ["ES256", "PS256", "RS256"]
        assert document["dpop_signing_alg_values_supported"] == ["ES256", "PS256", "RS256"]
        assert document["pushed_authorization_request_endpoint"] == f"{stack.issuer}/par"
        assert document["require_pushed_authorization_requests"] is False
    assert requests.post(oidc["pushed_authorization_request_endpoint"], timeout=5).status_code in (
        400,
        401,
    )
    assert oidc["end_session_endpoint"] == f"{stack.issuer}/logout"
    assert requests.get(oidc["end_session_endpoint"], timeout=5).status_code == 200
    assert oidc["backchannel_logout_supported"] is True
    assert oidc["backchannel_logout_session_supported"] is True
    assert "frontchannel_logout_supported" not in oidc
    assert {"amr", "sid"} <= set(oidc["claims_supported"])
    assert oidc["request_uri_parameter_supported"] is False
