"""SECURITY.md row E8 and the limits of issue 5: brute force is slowed, oversized input refused."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import Browser, authorize_params, pkce_pair, query_of

SECRET = "e8-client-secret-0123456789abcdefghijklmnop"


@pytest.fixture(scope="module")
def e8_client(stack: LocalStack) -> str:
    from oauthctl.admin import Admin

    Admin.connect(endpoint_url=stack.aws_endpoint).clients().create(
        {
            "client_id": "e8-client",
            "client_secret": SECRET,
            "grant_types": ["client_credentials"],
            "scope": "read:data",
        },
        replace=True,
    )
    return "e8-client"


def test_e8_repeated_client_authentication_failures_get_429_with_retry_after(
    stack: LocalStack, e8_client: str
) -> None:
    def attempt(secret: str) -> requests.Response:
        return requests.post(
            f"{stack.issuer}/token",
            data={"grant_type": "client_credentials"},
            auth=(e8_client, secret),
            timeout=10,
        )

    assert attempt(SECRET).status_code == 200
    statuses = [attempt(f"guess-{i}").status_code for i in range(12)]
    assert statuses[:9] == [401] * 9
    assert 429 in statuses
    refused = attempt(SECRET)  # even the right secret waits out the window
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json()["error"] == "temporarily_unavailable"
    assert refused.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("name", "length"),
    [
        ("state", 5000),
        ("scope", 1200),
        ("redirect_uri", 2100),
        ("nonce", 600),
        ("login_hint", 3000),
    ],
)
def test_over_long_authorization_parameters_get_clear_errors(
    stack: LocalStack, name: str, length: int
) -> None:
    params = authorize_params(challenge=pkce_pair()[1])
    params[name] = "x" * length
    response = Browser(stack).authorize(**params)
    if name == "redirect_uri":
        assert response.status_code == 400  # an unverifiable URI: an error page
        assert "Location" not in response.headers
        return
    query = query_of(response.headers["Location"])
    assert query["error"] in ("invalid_request", "invalid_scope")
    assert "too long" in query.get("error_description", "") or query["error"] == "invalid_scope"
    assert "state" not in query or len(query["state"]) < 5000


@pytest.mark.parametrize("path", ["/token", "/revoke", "/introspect"])
@pytest.mark.parametrize("size", [20_000, 2 * 1024 * 1024, 5 * 1024 * 1024])
def test_h6_oversized_bodies_are_oauth_json_errors_with_token_headers(
    stack: LocalStack, path: str, size: int
) -> None:
    """Up to what API Gateway and Lambda pass on (a 1 MiB local limit answered the gateway's
    own message before), the function refuses: RFC 6749 5.2 JSON, token headers."""
    response = requests.post(
        f"{stack.issuer}{path}",
        data=b"grant_type=client_credentials&scope=" + b"x" * size,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=("demo-service", stack.client_secret("demo-service")),
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def test_h6_a_body_over_api_gateways_own_limit_gets_its_answer_as_deployed(
    stack: LocalStack,
) -> None:
    """Over 10 MiB the function never runs, deployed or local: API Gateway's 413 (an HTTP API
    has no gateway responses to shape it; docs/security-requirements.md, H6)."""
    response = requests.post(
        f"{stack.issuer}/token",
        data=b"a=" + b"x" * (11 * 1024 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert response.status_code == 413


def test_a14_a_request_too_large_to_carry_is_refused_at_authorize(stack: LocalStack) -> None:
    from oauthctl.admin import Admin

    """Only an operator's longest redirect URI and scope list with a caller's largest values make
    a request too large for its handle: refused up front, not a sign-in that cannot resume."""
    long_redirect = "http://127.0.0.1:8402/" + "p" * 1970
    names = [f"scope-{i:03}" for i in range(99)]
    many_scopes = " ".join(names)
    admin = Admin.connect(endpoint_url=stack.aws_endpoint)
    registered = {scope.name for scope in admin.scopes().list()}
    for name in set(names) - registered:  # a client may be given registered scopes only
        admin.scopes().create({"name": name, "description": f"Scope {name}"})
    admin.clients().create(
        {
            "client_id": "a14-long-uri",
            "token_endpoint_auth_method": "none",
            "redirect_uris": [long_redirect],
            "scope": many_scopes,
        },
        replace=True,
    )
    params = authorize_params(
        "a14-long-uri",
        long_redirect,
        pkce_pair()[1],
        scope=many_scopes,
        state="s" * 2048,
        nonce="n" * 512,
        login_hint="\U0001f600" * 256,
    )
    response = Browser(stack).authorize(**params)
    assert response.status_code == 303
    answer = query_of(response.headers["Location"])
    assert answer["error"] == "invalid_request"
    assert answer["error_description"] == "the authorization request is too large"
