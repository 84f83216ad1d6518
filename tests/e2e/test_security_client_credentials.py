"""SECURITY.md rows E1-E7, as they apply to Client Credentials: over HTTP, local stack."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from urllib.parse import quote_plus

import pytest
import requests

from tests.e2e.conftest import LocalStack

TOKEN_HEADERS = {"cache-control": "no-store", "pragma": "no-cache"}


def post_token(stack: LocalStack, **kwargs: object) -> requests.Response:
    return requests.post(f"{stack.issuer}/token", timeout=5, **kwargs)  # type: ignore[arg-type]


def service_auth(stack: LocalStack) -> tuple[str, str]:
    return ("demo-service", stack.client_secret("demo-service"))


def assert_oauth_error(response: requests.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    for name, value in TOKEN_HEADERS.items():
        assert response.headers[name] == value
    assert response.json()["error"] == error


def oauthctl(stack: LocalStack, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oauthctl.cli", "--endpoint-url", stack.aws_endpoint, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def odd_secret_client(stack: LocalStack) -> tuple[str, str]:
    """A client whose id and secret need RFC 6749 2.3.1's form-url-encoding."""
    client_id = "odd.client~1"
    secret = "s:e%c+r e/t=ü-€-" + "x" * 32
    spec = {
        "client_id": client_id,
        "client_secret": secret,
        "grant_types": ["client_credentials"],
        "scope": "read:data",
    }
    from oauthctl.admin import Admin

    Admin.connect(endpoint_url=stack.aws_endpoint).clients().create(spec, replace=True)
    return client_id, secret


def test_e1_basic_credentials_are_form_url_decoded(
    stack: LocalStack, odd_secret_client: tuple[str, str]
) -> None:
    client_id, secret = odd_secret_client
    encoded = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    response = post_token(
        stack,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + base64.b64encode(encoded).decode()},
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "Bearer"


def test_e1_secret_with_special_characters_works_with_client_secret_post(
    stack: LocalStack,
) -> None:
    from oauthctl.admin import Admin

    secret = "p:o%s+t ü€" + "y" * 32
    Admin.connect(endpoint_url=stack.aws_endpoint).clients().create(
        {
            "client_id": "odd-post",
            "client_secret": secret,
            "token_endpoint_auth_method": "client_secret_post",
            "grant_types": ["client_credentials"],
            "scope": "read:data",
        },
        replace=True,
    )
    data = {"grant_type": "client_credentials", "client_id": "odd-post", "client_secret": secret}
    assert post_token(stack, data=data).status_code == 200


def test_e2_failed_basic_auth_is_401_with_www_authenticate(stack: LocalStack) -> None:
    response = post_token(
        stack, data={"grant_type": "client_credentials"}, auth=("demo-service", "wrong-secret")
    )
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_e2_malformed_basic_header_is_401(stack: LocalStack) -> None:
    response = post_token(
        stack,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic !!!not-base64"},
    )
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_e3_unknown_client_and_wrong_secret_answer_alike(stack: LocalStack) -> None:
    unknown = post_token(
        stack, data={"grant_type": "client_credentials"}, auth=("no-such-client", "whatever")
    )
    wrong = post_token(
        stack, data={"grant_type": "client_credentials"}, auth=("demo-service", "whatever")
    )
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert unknown.headers["WWW-Authenticate"] == wrong.headers["WWW-Authenticate"]


def test_e4_credentials_in_query_string_are_refused(stack: LocalStack) -> None:
    client_id, secret = service_auth(stack)
    response = requests.post(
        f"{stack.issuer}/token?client_id={client_id}&client_secret={quote_plus(secret)}",
        data={"grant_type": "client_credentials"},
        timeout=5,
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_e4_two_authentication_methods_at_once_are_refused(stack: LocalStack) -> None:
    client_id, secret = service_auth(stack)
    response = post_token(
        stack,
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        auth=(client_id, secret),
    )
    assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize("grant_type", ["password", "urn:example:unknown", "implicit"])
def test_e5_unknown_or_password_grant_is_unsupported(stack: LocalStack, grant_type: str) -> None:
    response = post_token(
        stack,
        data={"grant_type": grant_type, "username": "demo", "password": "demo-password"},
        auth=service_auth(stack),
    )
    assert_oauth_error(response, 400, "unsupported_grant_type")


def test_e5_missing_grant_type_is_invalid_request(stack: LocalStack) -> None:
    response = post_token(stack, data={"scope": "read:data"}, auth=service_auth(stack))
    assert_oauth_error(response, 400, "invalid_request")


def test_e6_grant_not_registered_for_client_is_unauthorized_client(stack: LocalStack) -> None:
    response = post_token(
        stack,
        data={"grant_type": "client_credentials"},
        auth=("demo-web", stack.client_secret("demo-web")),
    )
    assert_oauth_error(response, 400, "unauthorized_client")


def test_e6_client_credentials_never_returns_a_refresh_token(stack: LocalStack) -> None:
    response = post_token(
        stack,
        data={"grant_type": "client_credentials", "scope": "read:data offline_access"},
        auth=service_auth(stack),
    )
    # offline_access is not among the client's scopes; without it the answer has no refresh token.
    assert_oauth_error(response, 400, "invalid_scope")
    ok = post_token(stack, data={"grant_type": "client_credentials"}, auth=service_auth(stack))
    assert ok.status_code == 200
    assert "refresh_token" not in ok.json()


def test_e6_scope_beyond_the_clients_is_invalid_scope(stack: LocalStack) -> None:
    response = post_token(
        stack,
        data={"grant_type": "client_credentials", "scope": "read:data admin"},
        auth=service_auth(stack),
    )
    assert_oauth_error(response, 400, "invalid_scope")


def test_e6_scope_order_does_not_matter_and_narrower_scope_is_granted(stack: LocalStack) -> None:
    response = post_token(
        stack,
        data={"grant_type": "client_credentials", "scope": "write:data read:data"},
        auth=service_auth(stack),
    )
    assert response.json()["scope"] == "read:data write:data"
    narrow = post_token(
        stack,
        data={"grant_type": "client_credentials", "scope": "read:data"},
        auth=service_auth(stack),
    )
    assert narrow.json()["scope"] == "read:data"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_e7_non_post_is_invalid_request(stack: LocalStack, method: str) -> None:
    response = requests.request(
        method, f"{stack.issuer}/token", auth=service_auth(stack), timeout=5
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_e7_json_body_is_invalid_request(stack: LocalStack) -> None:
    response = post_token(
        stack,
        data=json.dumps({"grant_type": "client_credentials"}),
        headers={"Content-Type": "application/json"},
        auth=service_auth(stack),
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_e7_repeated_parameter_is_invalid_request(stack: LocalStack) -> None:
    response = post_token(
        stack,
        data=[
            ("grant_type", "client_credentials"),
            ("scope", "read:data"),
            ("scope", "write:data"),
        ],
        auth=service_auth(stack),
    )
    assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe\x00garbage", b"grant_type=%ZZ", b"=" * 40, b"a=" + b"x" * 20000, b"&&&&"],
)
def test_e7_garbage_bodies_get_4xx_not_5xx(stack: LocalStack, body: bytes) -> None:
    response = post_token(
        stack,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=service_auth(stack),
    )
    assert 400 <= response.status_code < 500
    assert response.headers["cache-control"] == "no-store"
    assert "error" in response.json()
