"""SECURITY.md row H4 over HTTP: the local stack loses its DynamoDB table and its key secret;
every answer is a 5xx OAuth JSON error with token headers (an error page in the browser)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests

from tests.e2e.conftest import LocalStack, local_stack
from tests.e2e.flows import Browser, authorize_params, form_fields, pkce_pair


@pytest.fixture(scope="module")
def doomed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack of its own: these tests break it."""
    with local_stack(tmp_path_factory, "doomed") as running:
        yield running


def aws(stack: LocalStack, service: str) -> Any:
    env = stack.aws_env()
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def assert_5xx_oauth_json(response: requests.Response) -> None:
    assert 500 <= response.status_code < 600, response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    assert response.json()["error"] in ("server_error", "temporarily_unavailable")


def test_h4_storage_loss_is_5xx_json_and_error_pages(doomed_stack: LocalStack) -> None:
    stack = doomed_stack
    browser = Browser(stack)
    # An anonymous /authorize stores nothing (A14): the sign-in is the first write.
    start = browser.authorize(**authorize_params(challenge=pkce_pair()[1]))
    fields = form_fields(browser.get(start.headers["Location"]).text)
    aws(stack, "dynamodb").delete_table(TableName="oauth-grants")
    page = browser.post("/login", {**fields, "username": "demo", "password": "demo-password"})
    assert 500 <= page.status_code < 600
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Location" not in page.headers
    revoke = requests.post(
        f"{stack.issuer}/revoke",
        data={"token": "some-refresh-token"},
        auth=("demo-web", stack.client_secret("demo-web")),
        timeout=10,
    )
    assert_5xx_oauth_json(revoke)  # never a false 200 (H1)
    code = requests.post(
        f"{stack.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": "x" * 43,
            "code_verifier": "v" * 43,
            "redirect_uri": "http://127.0.0.1:8400/callback",
        },
        auth=("demo-web", stack.client_secret("demo-web")),
        timeout=10,
    )
    assert_5xx_oauth_json(code)


def test_h4_secrets_manager_loss_is_5xx_json(doomed_stack: LocalStack) -> None:
    stack = doomed_stack
    aws(stack, "secretsmanager").delete_secret(
        SecretId="oauth/signing-keys", ForceDeleteWithoutRecovery=True
    )
    response = requests.post(
        f"{stack.issuer}/token",
        data={"grant_type": "client_credentials"},
        auth=("demo-service", stack.client_secret("demo-service")),
        timeout=10,
    )
    assert_5xx_oauth_json(response)
