"""SECURITY.md row A13: CORS only where browser apps call with their own credentials (token,
revocation, introspection, discovery, JWKS, userinfo, the API), never on the authorization
endpoint or the pages (RFC 9700 2.6: they are navigations, not fetches)."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import authorize_params, pkce_pair

ORIGIN = "https://spa.example.com"
PAGES = ["/authorize", "/login", "/consent", "/logout"]
CORS_ROUTES = [
    ("POST", "/token"),
    ("POST", "/revoke"),
    ("POST", "/introspect"),
    ("POST", "/par"),
    ("GET", "/.well-known/oauth-authorization-server"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/userinfo"),
    ("GET", "/resource"),
    ("POST", "/resource"),
]


def preflight(stack: LocalStack, path: str, method: str) -> requests.Response:
    return requests.options(
        f"{stack.issuer}{path}",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=5,
    )


@pytest.mark.parametrize("path", PAGES)
def test_a13_pages_answer_no_cors_preflight(stack: LocalStack, path: str) -> None:
    response = preflight(stack, path, "GET")
    assert response.status_code != 204
    assert not any(name.lower().startswith("access-control-") for name in response.headers)


@pytest.mark.parametrize("path", PAGES)
def test_a13_pages_send_no_cors_headers(stack: LocalStack, path: str) -> None:
    query = authorize_params(challenge=pkce_pair()[1]) if path == "/authorize" else {}
    response = requests.get(
        f"{stack.issuer}{path}",
        params=query,
        headers={"Origin": ORIGIN},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code < 500
    assert not any(name.lower().startswith("access-control-") for name in response.headers)


@pytest.mark.parametrize(("method", "path"), CORS_ROUTES)
def test_a13_browser_app_endpoints_answer_preflights_and_carry_cors_headers(
    stack: LocalStack, method: str, path: str
) -> None:
    answer = preflight(stack, path, method)
    assert answer.status_code == 204, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert method in answer.headers["Access-Control-Allow-Methods"]
    assert "authorization" in answer.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in answer.headers
    response = requests.request(
        method, f"{stack.issuer}{path}", headers={"Origin": ORIGIN}, timeout=5
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "www-authenticate" in response.headers["Access-Control-Expose-Headers"].lower()
