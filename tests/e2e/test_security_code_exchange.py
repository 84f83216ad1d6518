"""SECURITY.md rows B4-B6 and C1-C6: redeeming a code at the token endpoint, over HTTP."""

from __future__ import annotations

import base64
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import (
    SPA,
    WEB,
    WEB_REDIRECT,
    exchange,
    get_code,
    introspect,
    redeem_as,
    refresh,
    token_request,
)

TOKEN_HEADERS = {"cache-control": "no-store", "pragma": "no-cache"}


def assert_error(response: requests.Response, error: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    for name, value in TOKEN_HEADERS.items():
        assert response.headers[name] == value


def web_code(stack: LocalStack):  # type: ignore[no-untyped-def]
    return get_code(stack, client_id=WEB, redirect_uri=WEB_REDIRECT)


def entropy_bits(value: str) -> int:
    return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))) * 8


def test_b4_missing_or_wrong_verifier_is_invalid_grant(stack: LocalStack) -> None:
    result = get_code(stack)
    assert_error(exchange(stack, result, code_verifier=None), "invalid_grant")
    assert_error(exchange(stack, result, code_verifier="A" * 43), "invalid_grant")
    # The failed attempts did not burn the code: the right verifier still works.
    assert exchange(stack, result).status_code == 200


@pytest.mark.parametrize(
    "verifier", ["short", "a" * 42, "a" * 129, "a" * 42 + "!", "a" * 42 + " ", "é" * 43]
)
def test_b5_malformed_verifier_is_400(stack: LocalStack, verifier: str) -> None:
    result = get_code(stack)
    response = exchange(stack, result, code_verifier=verifier)
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_request", "invalid_grant")


def test_b6_verifier_for_code_without_challenge_is_refused(stack: LocalStack) -> None:
    """No code is ever issued without a challenge; one planted in storage is refused."""
    from oauth_core.models import AuthorizationCode
    from oauth_core.rules.hashing import token_hash
    from oauth_core.storage.dynamodb_grants import DynamoGrantStore
    from oauthctl.admin import Admin

    admin = Admin.connect(endpoint_url=stack.aws_endpoint)
    store = DynamoGrantStore(admin.settings.grants_table, dynamodb=admin.client("dynamodb"))
    now = int(time.time())
    store.put_code(
        AuthorizationCode(
            code_hash=token_hash("planted-code-without-pkce"),
            client_id=SPA,
            redirect_uri="http://127.0.0.1:8401/callback",
            scope="read:data",
            code_challenge=None,  # type: ignore[arg-type]
            nonce=None,
            sub="someone",
            auth_time=now,
            claims={},
            expires_at=now + 60,
        ),
        retain_until=now + 120,
    )
    response = token_request(
        stack,
        SPA,
        {
            "grant_type": "authorization_code",
            "code": "planted-code-without-pkce",
            "redirect_uri": "http://127.0.0.1:8401/callback",
            "code_verifier": "a" * 43,
        },
    )
    assert_error(response, "invalid_grant")


def test_c1_success_has_token_headers_bearer_expires_in_and_entropy(stack: LocalStack) -> None:
    result = web_code(stack)
    assert entropy_bits(result.code) >= 128
    response = exchange(stack, result, client_id=WEB, redirect_uri=WEB_REDIRECT)
    assert response.status_code == 200
    for name, value in TOKEN_HEADERS.items():
        assert response.headers[name] == value
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    assert entropy_bits(body["refresh_token"]) >= 128
    assert {"access_token", "id_token", "refresh_token", "scope"} <= set(body)


def test_c2_second_redemption_fails_and_revokes_the_first_tokens(stack: LocalStack) -> None:
    result = web_code(stack)
    first = exchange(stack, result, client_id=WEB, redirect_uri=WEB_REDIRECT).json()
    assert introspect(stack, first["refresh_token"])["active"] is True
    assert introspect(stack, first["access_token"])["active"] is True
    replay = exchange(stack, result, client_id=WEB, redirect_uri=WEB_REDIRECT)
    assert_error(replay, "invalid_grant")
    assert introspect(stack, first["refresh_token"]) == {"active": False}
    assert introspect(stack, first["access_token"]) == {"active": False}
    assert_error(refresh(stack, first["refresh_token"], client_id=WEB), "invalid_grant")


def test_c2_replay_with_bad_credentials_or_verifier_revokes_nothing(stack: LocalStack) -> None:
    result = web_code(stack)
    first = exchange(stack, result, client_id=WEB, redirect_uri=WEB_REDIRECT).json()
    bad_secret = redeem_as(stack, result, (WEB, "wrong-secret"), WEB_REDIRECT)
    assert_error(bad_secret, "invalid_client", status=401)
    bad_verifier = exchange(
        stack, result, client_id=WEB, redirect_uri=WEB_REDIRECT, code_verifier="B" * 43
    )
    assert_error(bad_verifier, "invalid_grant")
    assert introspect(stack, first["refresh_token"])["active"] is True


def test_c3_code_presented_by_another_client_is_invalid_grant(stack: LocalStack) -> None:
    result = get_code(stack)  # issued to demo-spa
    response = exchange(stack, result, client_id=WEB)
    assert_error(response, "invalid_grant")
    assert exchange(stack, result).status_code == 200  # the real client is unaffected


def test_c4_expired_code_is_invalid_grant(stack_with_short_codes: LocalStack) -> None:
    stack = stack_with_short_codes
    result = get_code(stack)
    time.sleep(3.2)  # codes live 3 s on this stack; the item itself is still in the table
    assert_error(exchange(stack, result), "invalid_grant")


def test_c5_redirect_uri_must_equal_the_one_used_at_authorize(stack: LocalStack) -> None:
    result = get_code(stack)
    assert_error(
        exchange(stack, result, redirect_uri="http://localhost:8401/callback"), "invalid_grant"
    )
    assert_error(exchange(stack, result, redirect_uri=None), "invalid_grant")
    assert exchange(stack, result).status_code == 200


def test_c6_parallel_redemptions_exactly_one_success(stack: LocalStack) -> None:
    result = web_code(stack)
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(
            pool.map(
                lambda _: exchange(stack, result, client_id=WEB, redirect_uri=WEB_REDIRECT),
                range(20),
            )
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 1, statuses
    assert all(r.json()["error"] == "invalid_grant" for r in responses if r.status_code != 200)
    # Consistent afterwards: the losers' redemptions were replays, so the one grant the winner
    # got is revoked, its refresh token and access token both inactive, and nothing else exists.
    winner = next(r for r in responses if r.status_code == 200).json()
    assert introspect(stack, winner["refresh_token"]) == {"active": False}
    assert introspect(stack, winner["access_token"]) == {"active": False}


@pytest.mark.parametrize(
    "data",
    [
        {"grant_type": "authorization_code"},
        {"grant_type": "authorization_code", "code": ""},
        {"grant_type": "authorization_code", "code": "x" * 10000},
        {"grant_type": "authorization_code", "code": "\x00\x01"},
        {"grant_type": "authorization_code", "code": "abc", "code_verifier": "\u202e" * 50},
        {"grant_type": "refresh_token", "refresh_token": "' OR 1=1 --"},
    ],
)
def test_c6_garbage_input_is_4xx_never_5xx(stack: LocalStack, data: dict[str, str]) -> None:
    response = token_request(stack, SPA, data)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["cache-control"] == "no-store"
