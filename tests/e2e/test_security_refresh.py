"""SECURITY.md rows D1-D7: refresh tokens, rotation and reuse detection, over HTTP."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import SPA, WEB, WEB_REDIRECT, exchange, get_code, introspect, refresh


def web_tokens(stack: LocalStack, scope: str = "openid profile read:data") -> dict[str, Any]:
    result = get_code(stack, client_id=WEB, redirect_uri=WEB_REDIRECT, scope=scope)
    response = exchange(stack, result, client_id=WEB, redirect_uri=WEB_REDIRECT)
    assert response.status_code == 200, response.text
    return dict(response.json())


def assert_invalid_grant(response: requests.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_grant"
    assert response.headers["cache-control"] == "no-store"


def test_d1_every_refresh_rotates_and_the_old_token_stops_working(stack: LocalStack) -> None:
    tokens = web_tokens(stack)
    first = refresh(stack, tokens["refresh_token"], client_id=WEB)
    assert first.status_code == 200
    rotated = first.json()["refresh_token"]
    assert rotated != tokens["refresh_token"]
    assert introspect(stack, tokens["refresh_token"]) == {"active": False}
    second = refresh(stack, rotated, client_id=WEB)
    assert second.status_code == 200


def test_d2_reuse_revokes_the_whole_family_newest_included(stack: LocalStack) -> None:
    tokens = web_tokens(stack)
    newest = refresh(stack, tokens["refresh_token"], client_id=WEB).json()
    assert_invalid_grant(refresh(stack, tokens["refresh_token"], client_id=WEB))
    assert introspect(stack, newest["refresh_token"]) == {"active": False}
    assert introspect(stack, newest["access_token"]) == {"active": False}
    assert_invalid_grant(refresh(stack, newest["refresh_token"], client_id=WEB))


def test_d3_refresh_token_is_bound_to_its_client(stack: LocalStack) -> None:
    result = get_code(stack)
    spa_tokens = exchange(stack, result).json()
    assert_invalid_grant(refresh(stack, spa_tokens["refresh_token"], client_id=WEB))
    # The attempt by another client neither used nor revoked it.
    assert refresh(stack, spa_tokens["refresh_token"], client_id=SPA).status_code == 200


def test_d4_confidential_client_must_authenticate_to_refresh(stack: LocalStack) -> None:
    tokens = web_tokens(stack)
    unauthenticated = requests.post(
        f"{stack.issuer}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": WEB,
        },
        timeout=10,
    )
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"] == "invalid_client"
    wrong = requests.post(
        f"{stack.issuer}/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(WEB, "not-the-secret"),
        timeout=10,
    )
    assert wrong.status_code == 401
    assert refresh(stack, tokens["refresh_token"], client_id=WEB).status_code == 200


def test_d5_narrower_scope_narrows_the_access_token_not_the_family(stack: LocalStack) -> None:
    tokens = web_tokens(stack, scope="openid profile read:data write:data")
    narrow = refresh(stack, tokens["refresh_token"], client_id=WEB, scope="read:data")
    assert narrow.status_code == 200
    assert narrow.json()["scope"] == "read:data"
    claims = jwt.decode(narrow.json()["access_token"], options={"verify_signature": False})
    assert claims["scope"] == "read:data"
    wide_again = refresh(stack, narrow.json()["refresh_token"], client_id=WEB)
    assert set(wide_again.json()["scope"].split()) == {
        "openid",
        "profile",
        "read:data",
        "write:data",
    }
    wider = refresh(
        stack, wide_again.json()["refresh_token"], client_id=WEB, scope="read:data email"
    )
    assert wider.status_code == 400
    assert wider.json()["error"] == "invalid_scope"


def test_d6_parallel_refreshes_exactly_one_success(stack: LocalStack) -> None:
    tokens = web_tokens(stack)
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(
            pool.map(lambda _: refresh(stack, tokens["refresh_token"], client_id=WEB), range(20))
        )
    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) == 1, [r.status_code for r in responses]
    assert all(r.json()["error"] == "invalid_grant" for r in responses if r.status_code != 200)
    # Documented: a loser of the race gets invalid_grant. The family either survives (a loser
    # that lost inside the transaction) or was revoked (a loser that read the token as already
    # used): the winner's new token works exactly when the family is live.
    newest = winners[0].json()["refresh_token"]
    live = introspect(stack, newest)["active"]
    assert (refresh(stack, newest, client_id=WEB).status_code == 200) is live


def test_d7_idle_and_absolute_expiry(stack_with_short_codes: LocalStack) -> None:
    stack = stack_with_short_codes
    result = get_code(stack, client_id=WEB, redirect_uri=WEB_REDIRECT)
    tokens = exchange(stack, result, client_id=WEB, redirect_uri=WEB_REDIRECT).json()
    time.sleep(3.2)  # idle lifetime 3 s
    assert_invalid_grant(refresh(stack, tokens["refresh_token"], client_id=WEB))

    result = get_code(stack, client_id=WEB, redirect_uri=WEB_REDIRECT)
    started = time.monotonic()
    current = exchange(stack, result, client_id=WEB, redirect_uri=WEB_REDIRECT).json()[
        "refresh_token"
    ]
    # Refreshed every second (well inside the 3 s idle lifetime) the family still ends at its
    # absolute lifetime, 6 s; the deadline only bounds a failing run.
    deadline = started + 20
    response = refresh(stack, current, client_id=WEB)
    while response.status_code == 200 and time.monotonic() < deadline:
        current = response.json()["refresh_token"]
        time.sleep(1)
        response = refresh(stack, current, client_id=WEB)
    assert_invalid_grant(response)
    assert time.monotonic() - started >= 6 - 1  # (clock granularity: whole seconds)


def test_d7_disabled_user_or_client_is_invalid_grant(stack: LocalStack) -> None:
    from oauthctl.admin import Admin

    admin = Admin.connect(endpoint_url=stack.aws_endpoint)
    admin.users().create("d7-user", "d7-password!", {"name": "D Seven"}, replace_existing=True)
    result = get_code(stack, client_id=WEB, redirect_uri=WEB_REDIRECT)
    # Sign in as d7-user in a fresh browser.
    from tests.e2e.flows import Browser, authorize_params, pkce_pair, query_of

    browser = Browser(stack)
    verifier, challenge = pkce_pair()
    response = browser.authorize(**authorize_params(WEB, WEB_REDIRECT, challenge))
    response = browser.sign_in(response.headers["Location"], "d7-user", "d7-password!")
    code = query_of(response.headers["Location"])["code"]
    result.code, result.verifier = code, verifier
    tokens = exchange(stack, result, client_id=WEB, redirect_uri=WEB_REDIRECT).json()
    admin.users().set_disabled("d7-user", True)
    assert_invalid_grant(refresh(stack, tokens["refresh_token"], client_id=WEB))

    admin.clients().create(
        {
            "client_id": "d7-client",
            "client_secret": "d7-client-secret-0123456789abcdefghijkl",
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [WEB_REDIRECT],
            "scope": "read:data",
            "first_party": True,
        },
        replace=True,
    )
    browser = Browser(stack)
    verifier, challenge = pkce_pair()
    params = authorize_params("d7-client", WEB_REDIRECT, challenge, scope="read:data")
    final = browser.until_client(browser.authorize(**params))
    code = query_of(final.headers["Location"])["code"]
    auth = ("d7-client", "d7-client-secret-0123456789abcdefghijkl")
    issued = requests.post(
        f"{stack.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": WEB_REDIRECT,
            "code_verifier": verifier,
        },
        auth=auth,
        timeout=10,
    ).json()
    admin.clients().update("d7-client", {"disabled": True})
    time.sleep(0.1)
    response = requests.post(
        f"{stack.issuer}/token",
        data={"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
        auth=auth,
        timeout=10,
    )
    # The token function caches client records briefly; wait out the cache, then refuse.
    deadline = time.monotonic() + 70
    while response.status_code == 200 and time.monotonic() < deadline:
        time.sleep(2)
        response = requests.post(
            f"{stack.issuer}/token",
            data={"grant_type": "refresh_token", "refresh_token": response.json()["refresh_token"]},
            auth=auth,
            timeout=10,
        )
    assert_invalid_grant(response)
