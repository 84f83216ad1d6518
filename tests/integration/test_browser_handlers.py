"""The authorize and login functions called with sample events under moto."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

import authorize_handler
import login_handler
from oauth_core.admin.registry import ClientRegistry
from oauth_core.config import Settings
from oauth_core.wiring import aws_components
from tests.integration.conftest import invoke
from tests.support import form_fields, load_event, query_of


@pytest.fixture
def web_client(aws: Settings, registry: ClientRegistry) -> None:
    registry.create(
        {
            "client_id": "web",
            "client_secret": "web-secret-0123456789abcdefghijklmnopq",
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": ["https://app.example.com/callback"],
            "scope": "openid read:data",
        }
    )


def test_authorize_event_sends_the_browser_to_sign_in(web_client: None) -> None:
    result = invoke(authorize_handler, load_event("authorize"))
    assert result["statusCode"] == 303
    assert result["headers"]["Location"].startswith("/login?request_id=")


def test_issuer_in_error_redirect_comes_from_request_context(web_client: None) -> None:
    event = load_event(
        "authorize",
        rawQueryString=load_event("authorize")["rawQueryString"].replace(
            "response_type=code", "response_type=token"
        ),
    )
    result = invoke(authorize_handler, event)
    query = query_of(result["headers"]["Location"])
    assert query["iss"] == "https://auth.example.com"
    assert query["error"] == "unsupported_response_type"


def test_login_page_for_unknown_request_is_an_error_page(aws: Settings) -> None:
    result = invoke(login_handler, load_event("login_get"))
    assert result["statusCode"] == 400
    assert "Location" not in result["headers"]
    assert result["headers"]["Content-Type"].startswith("text/html")


def test_g2_cookies_over_https_use_host_prefix_and_secure(web_client: None) -> None:
    # Deployed, the issuer is https: the CSRF cookie set by the login page shows the policy.
    location = invoke(authorize_handler, load_event("authorize"))["headers"]["Location"]
    event = load_event("login_get", rawQueryString=location.split("?", 1)[1])
    result = invoke(login_handler, event)
    assert result["statusCode"] == 200
    cookie = result["cookies"][0]
    assert cookie.startswith("__Host-csrf=")
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in cookie.split("; ")
    assert "Domain" not in cookie


def test_h4_storage_failure_in_the_browser_flow_is_an_error_page(
    web_client: None, aws: Settings
) -> None:
    boto3.client("dynamodb").delete_table(TableName=aws.clients_table)
    result = invoke(authorize_handler, load_event("authorize"))
    assert 500 <= result["statusCode"] < 600
    assert result["headers"]["Content-Type"].startswith("text/html")
    assert "Location" not in result["headers"]
    assert "Traceback" not in result["body"]


def sign_in_event(location: str, username: str, password: str) -> dict[str, Any]:
    """The login form as the browser would post it: its hidden fields and its CSRF cookie."""
    page = invoke(login_handler, load_event("login_get", rawQueryString=location.split("?", 1)[1]))
    assert page["statusCode"] == 200, page["body"]
    form = urlencode({**form_fields(page["body"]), "username": username, "password": password})
    return load_event(
        "login_get",
        routeKey="POST /login",
        rawQueryString="",
        body=form,
        cookies=[cookie.split(";", 1)[0] for cookie in page["cookies"]],
        headers={"content-type": "application/x-www-form-urlencoded"},
        requestContext={
            **load_event("login_get")["requestContext"],
            "http": {**load_event("login_get")["requestContext"]["http"], "method": "POST"},
        },
    )


def test_g6_unknown_user_costs_one_argon2id_verification_like_a_wrong_password(
    web_client: None, aws: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Timing, counted rather than timed: each failure pays exactly one Argon2id verification
    # (and no hashing), whoever the user; the e2e test compares the times over HTTP.
    aws_components(aws, cached=False).user_directory.create("g6-user", "the-right-password")
    verifications: list[str] = []
    real_verify = Argon2id.verify_phc_encoded
    real_derive = Argon2id.derive_phc_encoded

    def counting_verify(key_material: bytes, phc: str, secret: bytes | None = None) -> None:
        verifications.append(phc)
        real_verify(key_material, phc)

    def no_hashing(self: Argon2id, key_material: bytes) -> str:
        raise AssertionError("a failed sign-in must not hash")

    monkeypatch.setattr(Argon2id, "verify_phc_encoded", staticmethod(counting_verify))
    location = invoke(authorize_handler, load_event("authorize"))["headers"]["Location"]
    answers = {}
    for username in ("g6-user", "nobody-here", "not a valid name!"):
        event = sign_in_event(location, username, "a-wrong-password")
        monkeypatch.setattr(Argon2id, "derive_phc_encoded", no_hashing)
        verifications.clear()
        result = invoke(login_handler, event)
        monkeypatch.setattr(Argon2id, "derive_phc_encoded", real_derive)
        assert result["statusCode"] == 200, result["body"]
        assert len(verifications) == 1, username
        answers[username] = result["body"].split('role="alert"')[1].split("</p>")[0]
    assert len(set(answers.values())) == 1
