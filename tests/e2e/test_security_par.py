"""Pushed authorization requests (RFC 9126) over HTTP against the local stack: the code flow
through /par ending in tokens, for a confidential and a public client; a request_uri used once
(A18), only by the client that pushed it (A19); /par validating as /authorize does, and clients
or a whole stack that require pushed requests (A20)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests

from tests.e2e.conftest import LocalStack, local_stack
from tests.e2e.flows import (
    SPA,
    SPA_REDIRECT,
    WEB,
    WEB_REDIRECT,
    Browser,
    CodeResult,
    authorize_params,
    exchange,
    pkce_pair,
    query_of,
)
from tests.e2e.test_security_client_credentials import oauthctl

PREFIX = "urn:ietf:params:oauth:request_uri:"
REQUIRING = "par-required-web"
REQUIRING_REDIRECT = "http://127.0.0.1:8402/callback"


def push(
    stack: LocalStack, params: dict[str, str], auth: tuple[str, str] | None = None
) -> requests.Response:
    return requests.post(f"{stack.issuer}/par", data=params, auth=auth, timeout=10)


def web_auth(stack: LocalStack) -> tuple[str, str]:
    return (WEB, stack.client_secret(WEB))


def pushed_code(
    stack: LocalStack,
    client_id: str,
    redirect_uri: str,
    auth: tuple[str, str] | None,
    **extra: str,
) -> CodeResult:
    """A code by way of /par: push, send the browser with only client_id and request_uri, sign
    in and consent."""
    verifier, challenge = pkce_pair()
    params = authorize_params(client_id, redirect_uri, challenge, **extra)
    pushed = push(stack, params, auth)
    assert pushed.status_code == 201, pushed.text
    assert pushed.headers["Cache-Control"] == "no-store"
    body = pushed.json()
    assert body["expires_in"] == 60 and body["request_uri"].startswith(PREFIX)
    browser = Browser(stack)
    first = browser.authorize(client_id=client_id, request_uri=body["request_uri"])
    final = browser.until_client(first)
    assert final.status_code == 303, final.text
    location = final.headers["Location"]
    assert location.startswith(redirect_uri + "?"), location
    query = query_of(location)
    assert query["state"] == params["state"] and query["iss"] == stack.issuer
    return CodeResult(query["code"], verifier, params["state"], query, browser)


def test_a18_the_code_flow_through_par_ends_in_tokens_for_a_confidential_client(
    stack: LocalStack,
) -> None:
    result = pushed_code(stack, WEB, WEB_REDIRECT, web_auth(stack), nonce="n-par")
    tokens = exchange(stack, result, client_id=WEB, redirect_uri=WEB_REDIRECT)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["access_token"] and body["id_token"] and body["refresh_token"]
    assert set(body["scope"].split()) == {"openid", "profile", "offline_access", "read:data"}


def test_a18_the_code_flow_through_par_ends_in_tokens_for_a_public_client(
    stack: LocalStack,
) -> None:
    result = pushed_code(stack, SPA, SPA_REDIRECT, None)
    tokens = exchange(stack, result)
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["access_token"]


def test_a18_a_request_uri_is_used_once(stack: LocalStack) -> None:
    pushed = push(stack, authorize_params(challenge=pkce_pair()[1]))
    uri = pushed.json()["request_uri"]
    first = Browser(stack).authorize(client_id=SPA, request_uri=uri)
    assert first.status_code == 303 and first.headers["Location"].startswith("/login?")
    again = Browser(stack).authorize(client_id=SPA, request_uri=uri)
    assert again.status_code == 400 and "Location" not in again.headers


def test_a19_a_request_uri_pushed_by_one_client_is_refused_with_another_client_id(
    stack: LocalStack,
) -> None:
    pushed = push(stack, authorize_params(challenge=pkce_pair()[1]))
    uri = pushed.json()["request_uri"]
    refused = Browser(stack).authorize(client_id=WEB, request_uri=uri)
    assert refused.status_code == 400 and "Location" not in refused.headers
    # Refused without being spent: its own client still uses it.
    own = Browser(stack).authorize(client_id=SPA, request_uri=uri)
    assert own.status_code == 303 and own.headers["Location"].startswith("/login?")


def test_a20_par_validates_as_authorize_does(stack: LocalStack) -> None:
    challenge = pkce_pair()[1]
    cases: list[tuple[dict[str, str | None], str]] = [
        ({"redirect_uri": "http://127.0.0.1:8401/not-registered"}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
        ({"scope": "openid admin:everything"}, "invalid_scope"),
        ({"resource": "https://unknown.example.com"}, "invalid_target"),
        ({"request_uri": PREFIX + "x" * 43}, "invalid_request"),
    ]
    for override, error in cases:
        params = {**authorize_params(challenge=challenge), **override}
        response = push(stack, {k: v for k, v in params.items() if v is not None})
        assert response.status_code == 400, (override, response.text)
        assert response.json()["error"] == error, (override, response.text)
    wrong = push(stack, authorize_params(WEB, WEB_REDIRECT, challenge), (WEB, "x" * 43))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    other = push(stack, authorize_params(SPA, SPA_REDIRECT, challenge), web_auth(stack))
    assert other.status_code == 400 and other.json()["error"] == "invalid_request"


def test_a20_any_other_request_uri_is_an_error_page(stack: LocalStack) -> None:
    for uri in ("https://app.example.com/request.jwt", PREFIX + "x" * 43):
        response = Browser(stack).authorize(client_id=SPA, request_uri=uri)
        assert response.status_code == 400 and "Location" not in response.headers


@pytest.fixture(scope="module")
def requiring_client(stack: LocalStack) -> tuple[str, str]:
    made = oauthctl(
        stack, "clients", "create", REQUIRING, "--grant-type", "authorization_code",
        "--redirect-uri", REQUIRING_REDIRECT, "--scope", "openid read:data", "--require-par",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    shown = json.loads(oauthctl(stack, "clients", "show", REQUIRING).stdout)
    assert shown["require_pushed_authorization_requests"] is True
    time.sleep(2.2)  # the functions' copies of the clients (2 s here)
    return REQUIRING, json.loads(made.stdout)["client_secret"]


def test_a20_a_client_that_requires_par_cannot_send_a_front_channel_request(
    stack: LocalStack, requiring_client: tuple[str, str]
) -> None:
    params = authorize_params(REQUIRING, REQUIRING_REDIRECT, pkce_pair()[1], scope="openid")
    refused = Browser(stack).authorize(**params)
    assert refused.status_code == 303
    assert refused.headers["Location"].startswith(REQUIRING_REDIRECT + "?")
    answer = query_of(refused.headers["Location"])
    assert answer["error"] == "invalid_request" and "code" not in answer
    assert (answer["state"], answer["iss"]) == (params["state"], stack.issuer)
    result = pushed_code(stack, REQUIRING, REQUIRING_REDIRECT, requiring_client, scope="openid")
    tokens = requests.post(
        f"{stack.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": result.code,
            "redirect_uri": REQUIRING_REDIRECT,
            "code_verifier": result.verifier,
        },
        auth=requiring_client,
        timeout=10,
    )
    assert tokens.status_code == 200, tokens.text


@pytest.fixture(scope="module")
def requiring_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(
        tmp_path_factory, "par-required", {"REQUIRE_PUSHED_AUTHORIZATION_REQUESTS": "on"}
    ) as running:
        yield running


def test_a20_a_stack_that_requires_par_takes_only_pushed_requests(
    requiring_stack: LocalStack,
) -> None:
    stack = requiring_stack
    metadata = requests.get(f"{stack.issuer}/.well-known/oauth-authorization-server", timeout=10)
    assert metadata.json()["require_pushed_authorization_requests"] is True
    assert metadata.json()["pushed_authorization_request_endpoint"] == f"{stack.issuer}/par"
    refused = Browser(stack).authorize(**authorize_params(challenge=pkce_pair()[1]))
    assert refused.status_code == 303
    assert query_of(refused.headers["Location"])["error"] == "invalid_request"
    result = pushed_code(stack, SPA, SPA_REDIRECT, None)
    assert exchange(stack, result).status_code == 200


def test_metadata_of_the_shared_stack_offers_par_without_requiring_it(stack: LocalStack) -> None:
    metadata = requests.get(f"{stack.issuer}/.well-known/openid-configuration", timeout=10).json()
    assert metadata["pushed_authorization_request_endpoint"] == f"{stack.issuer}/par"
    assert metadata["require_pushed_authorization_requests"] is False
    assert metadata["request_uri_parameter_supported"] is False
