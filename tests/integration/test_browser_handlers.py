"""The authorize and login functions called with sample events under moto."""

from __future__ import annotations

import boto3
import pytest

import authorize_handler
import login_handler
from oauth_core.config import Settings
from oauth_core.registry import ClientRegistry
from tests.integration.conftest import invoke
from tests.support import load_event, query_of


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
    boto3.client("dynamodb").delete_table(TableName=aws.grants_table)
    result = invoke(authorize_handler, load_event("authorize"))
    assert 500 <= result["statusCode"] < 600
    assert result["headers"]["Content-Type"].startswith("text/html")
    assert "Location" not in result["headers"]
    assert "Traceback" not in result["body"]
