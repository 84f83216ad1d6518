"""A backend service gets a token with Client Credentials and calls the API, using Authlib."""

from __future__ import annotations

import jwt
import requests
from authlib.integrations.requests_client import OAuth2Session

from tests.e2e.conftest import LocalStack


def test_service_gets_token_with_authlib_and_calls_resource(stack: LocalStack) -> None:
    metadata = requests.get(
        f"{stack.issuer}/.well-known/oauth-authorization-server", timeout=5
    ).json()
    assert metadata["issuer"] == stack.issuer
    session = OAuth2Session(
        "demo-service",
        stack.client_secret("demo-service"),
        token_endpoint_auth_method="client_secret_basic",
        scope="read:data",
    )
    token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "read:data"
    assert "refresh_token" not in token

    response = session.get(f"{stack.issuer}/resource", timeout=5)
    assert response.status_code == 200
    assert response.json() == {
        "action": "read",
        "sub": "demo-service",
        "client_id": "demo-service",
        "scope": "read:data",
    }
    # read:data only: writing is refused with the scope it needs.
    refused = session.post(f"{stack.issuer}/resource", timeout=5)
    assert refused.status_code == 403
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]


def test_access_token_is_rfc9068_jwt_verifiable_with_published_jwks(stack: LocalStack) -> None:
    response = requests.post(
        f"{stack.issuer}/token",
        data={"grant_type": "client_credentials"},
        auth=("demo-service", stack.client_secret("demo-service")),
        timeout=5,
    )
    access_token = response.json()["access_token"]
    header = jwt.get_unverified_header(access_token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "ES256"
    jwks = jwt.PyJWKClient(f"{stack.issuer}/.well-known/jwks.json")
    key = jwks.get_signing_key(header["kid"])
    claims = jwt.decode(
        access_token,
        key.key,
        algorithms=["ES256"],
        audience=f"{stack.issuer}/resource",
        issuer=stack.issuer,
    )
    assert claims["sub"] == claims["client_id"] == "demo-service"
    assert set(claims) >= {"iss", "sub", "aud", "client_id", "scope", "iat", "exp", "jti"}


def test_auth_method_is_bound_to_the_registration(stack: LocalStack) -> None:
    # demo-service is registered for client_secret_basic: the method is bound to the client.
    response = requests.post(
        f"{stack.issuer}/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "demo-service",
            "client_secret": stack.client_secret("demo-service"),
        },
        timeout=5,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_cors_preflight_and_headers_for_browser_apps(stack: LocalStack) -> None:
    preflight = requests.options(
        f"{stack.issuer}/token",
        headers={
            "Origin": "https://spa.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=5,
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    response = requests.get(
        f"{stack.issuer}/.well-known/openid-configuration",
        headers={"Origin": "https://spa.example.com"},
        timeout=5,
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
