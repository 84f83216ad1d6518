"""SECURITY.md rows D8-D10 and H5: what life-cycle events end, what a refresh may yield, when a
refresh token is given at all, and who may introspect. Each reproduces a finding of the
outside review against the running local stack."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from oauthctl.admin import Admin
from tests.e2e.conftest import LocalStack
from tests.e2e.flows import (
    SPA,
    WEB,
    WEB_REDIRECT,
    Browser,
    CodeResult,
    authorize_params,
    exchange,
    form_fields,
    get_code,
    introspect,
    pkce_pair,
    query_of,
    redeem_as,
    refresh,
    session_from,
)

PASSWORD = "lifecycle-password-1"
CLIENT_CACHE_TTL = 2  # tests/e2e/conftest.py sets it for the test stacks


def admin(stack: LocalStack) -> Admin:
    return Admin.connect(endpoint_url=stack.aws_endpoint)


def new_user(stack: LocalStack, username: str) -> str:
    admin(stack).users().create(username, PASSWORD, {"name": username}, replace_existing=True)
    return username


def code_as(stack: LocalStack, username: str, **options: Any) -> CodeResult:
    return get_code(stack, username=username, password=PASSWORD, **options)


def assert_invalid_grant(response: requests.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_grant"


def until(condition: Callable[[], bool], seconds: float = 10) -> bool:
    """Poll while a cache (CLIENT_CACHE_TTL=2 s in the test stacks) catches up; the bound only
    ends a failing run."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True


def test_d8_disabling_a_user_refuses_their_unredeemed_codes(stack: LocalStack) -> None:
    username = new_user(stack, "d8-disabled")
    result = code_as(stack, username, client_id=WEB, redirect_uri=WEB_REDIRECT)
    admin(stack).users().set_disabled(username, True)
    assert_invalid_grant(exchange(stack, result, client_id=WEB, redirect_uri=WEB_REDIRECT))


def test_d8_a_password_change_ends_sessions_codes_and_refresh_families(stack: LocalStack) -> None:
    username = new_user(stack, "d8-password")
    browser = Browser(stack)
    web = {"client_id": WEB, "redirect_uri": WEB_REDIRECT, "browser": browser}
    tokens = exchange(stack, code_as(stack, username, **web), WEB, WEB_REDIRECT).json()
    unredeemed = code_as(stack, username, **web)
    time.sleep(1.1)  # sign-in times are whole seconds: the change must come after them
    admin(stack).users().set_password(username, "a-brand-new-password")
    assert_invalid_grant(refresh(stack, tokens["refresh_token"], client_id=WEB))
    assert introspect(stack, tokens["access_token"]) == {"active": False}
    assert_invalid_grant(exchange(stack, unredeemed, client_id=WEB, redirect_uri=WEB_REDIRECT))
    silent = browser.authorize(**authorize_params(WEB, WEB_REDIRECT, pkce_pair()[1], prompt="none"))
    assert query_of(silent.headers["Location"])["error"] == "login_required"


def test_d8_a_client_deleted_and_registered_again_inherits_nothing(stack: LocalStack) -> None:
    clients = admin(stack).clients()
    first: dict[str, Any] = {
        "client_id": "d8-app",
        "client_secret": "d8-app-first-owner-secret-0123456789abcd",
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": [WEB_REDIRECT],
        "scope": "openid offline_access read:data",
    }
    clients.create(first, replace=True)
    username = new_user(stack, "d8-client-user")
    browser = Browser(stack)
    result = code_as(
        stack,
        username,
        client_id="d8-app",
        redirect_uri=WEB_REDIRECT,
        browser=browser,
        scope="openid offline_access",
    )
    tokens = redeem_as(stack, result, ("d8-app", first["client_secret"]), WEB_REDIRECT).json()
    assert "refresh_token" in tokens
    assert clients.delete("d8-app")
    # Another owner registers the same id, with another secret and redirect URI.
    new_secret = "d8-app-second-owner-secret-0123456789abc"
    new_redirect = "http://127.0.0.1:8499/callback"
    clients.create({**first, "client_secret": new_secret, "redirect_uris": [new_redirect]})

    def refresh_with_new_owner() -> requests.Response:
        return requests.post(
            f"{stack.issuer}/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=("d8-app", new_secret),
            timeout=10,
        )

    assert until(lambda: refresh_with_new_owner().status_code != 401)  # new record cached
    assert_invalid_grant(refresh_with_new_owner())
    # The user's consent was given to the first owner: the second is asked again.
    params = authorize_params("d8-app", new_redirect, pkce_pair()[1], scope="openid")
    assert until(lambda: browser.authorize(**params).status_code == 303)  # new record cached
    assert browser.authorize(**params).headers["Location"].startswith("/consent?")


def test_d9_refresh_never_yields_a_scope_the_client_lost(stack: LocalStack) -> None:
    spec: dict[str, Any] = {
        "client_id": "d9-app",
        "client_secret": "d9-app-secret-0123456789abcdefghijklmno",
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": [WEB_REDIRECT],
        "scope": "openid read:data write:data",
        "first_party": True,
    }
    clients = admin(stack).clients()
    clients.create(spec, replace=True)
    auth = (spec["client_id"], spec["client_secret"])
    result = get_code(stack, "d9-app", WEB_REDIRECT, scope="openid read:data write:data")
    tokens = redeem_as(stack, result, auth, WEB_REDIRECT).json()
    assert tokens["scope"] == "openid read:data write:data"
    clients.update("d9-app", {"scope": "openid read:data"})
    current = {"refresh_token": tokens["refresh_token"]}

    def refreshed_scope() -> str:
        response = requests.post(
            f"{stack.issuer}/token",
            data={"grant_type": "refresh_token", "refresh_token": current["refresh_token"]},
            auth=auth,
            timeout=10,
        )
        assert response.status_code == 200, response.text
        current["refresh_token"] = response.json()["refresh_token"]
        return str(response.json()["scope"])

    assert until(lambda: "write:data" not in refreshed_scope())
    assert refreshed_scope() == "openid read:data"
    asked = requests.post(
        f"{stack.issuer}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": current["refresh_token"],
            "scope": "write:data",
        },
        auth=auth,
        timeout=10,
    )
    assert asked.status_code == 400
    assert asked.json()["error"] == "invalid_scope"


def test_d10_a_third_party_client_gets_a_refresh_token_only_with_offline_access(
    stack: LocalStack,
) -> None:
    without = exchange(stack, get_code(stack, SPA, scope="openid read:data")).json()
    assert "refresh_token" not in without
    assert without["scope"] == "openid read:data"
    # Asked for, offline access is named on the consent page in plain words, then granted.
    browser = Browser(stack)
    verifier, challenge = pkce_pair()
    params = authorize_params(
        challenge=challenge, scope="openid offline_access read:data", prompt="consent"
    )
    response = browser.authorize(**params)
    response = browser.sign_in(response.headers["Location"])
    consent = browser.get(response.headers["Location"])
    assert 'id="offline"' in consent.text
    assert "while you are away" in consent.text
    decided = browser.post("/consent", {**form_fields(consent.text), "decision": "allow"})
    code = query_of(decided.headers["Location"])["code"]
    with_offline = exchange(stack, CodeResult(code, verifier, params["state"], {}, browser)).json()
    assert "refresh_token" in with_offline


def test_d10_a_first_party_client_needs_no_offline_access(stack: LocalStack) -> None:
    result = get_code(stack, WEB, WEB_REDIRECT, scope="openid read:data")
    assert "refresh_token" in exchange(stack, result, WEB, WEB_REDIRECT).json()


@pytest.fixture(scope="module")
def resource_server(stack: LocalStack) -> tuple[str, str]:
    """A client registered for introspection: a resource server of this server's API."""
    secret = "h5-api-secret-0123456789abcdefghijklmnop"
    admin(stack).clients().create(
        {
            "client_id": "h5-api",
            "client_secret": secret,
            "grant_types": ["client_credentials"],
            "scope": "read:data",
            "introspection": True,
        },
        replace=True,
    )
    return "h5-api", secret


def test_h5_introspection_answers_only_the_tokens_client_or_a_resource_server(
    stack: LocalStack, resource_server: tuple[str, str]
) -> None:
    user_token = exchange(stack, get_code(stack, WEB, WEB_REDIRECT), WEB, WEB_REDIRECT).json()[
        "access_token"
    ]
    # Another client that is no resource server learns nothing (the reported finding).
    assert introspect(stack, user_token, client_id="demo-service") == {"active": False}
    own = introspect(stack, user_token, client_id=WEB)
    assert own["active"] is True
    response = requests.post(
        f"{stack.issuer}/introspect",
        data={"token": user_token},
        auth=resource_server,
        timeout=10,
    )
    answer = response.json()
    assert answer["active"] is True
    assert answer["client_id"] == WEB
    assert "sub" in answer


def test_d7_a_disabled_client_asking_for_its_own_token_is_told_so(stack: LocalStack) -> None:
    secret = "d7-service-secret-0123456789abcdefghijklm"
    clients = admin(stack).clients()
    clients.create(
        {
            "client_id": "d7-service",
            "client_secret": secret,
            "grant_types": ["client_credentials"],
            "scope": "read:data",
        },
        replace=True,
    )
    clients.update("d7-service", {"disabled": True})

    def ask() -> requests.Response:
        return requests.post(
            f"{stack.issuer}/token",
            data={"grant_type": "client_credentials"},
            auth=("d7-service", secret),
            timeout=10,
        )

    assert until(lambda: ask().status_code != 200)
    response = ask()
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "the client is disabled",
    }
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    wrong = requests.post(
        f"{stack.issuer}/token",
        data={"grant_type": "client_credentials"},
        auth=("d7-service", "not-the-secret"),
        timeout=10,
    )
    assert wrong.json()["error_description"] == "client authentication failed"  # no oracle


def test_d8_a_client_registered_anew_takes_no_secret_of_the_old_registration(
    stack: LocalStack,
) -> None:
    """The red team's finding: containers kept the deleted client's secret for their secret
    cache's five minutes, and it authenticated the new registration."""
    clients = admin(stack).clients()
    spec: dict[str, Any] = {
        "client_id": "d8-service",
        "client_secret": "d8-service-old-owner-secret-0123456789ab",
        "grant_types": ["client_credentials"],
        "scope": "read:data",
    }
    clients.create(spec, replace=True)

    def ask(secret: str, source: str) -> int:
        return (
            session_from(source)
            .post(
                f"{stack.issuer}/token",
                data={"grant_type": "client_credentials"},
                auth=("d8-service", secret),
                timeout=10,
            )
            .status_code
        )

    for _ in range(6):  # warm the token containers with the old secret
        assert ask(spec["client_secret"], "127.0.0.51") == 200
    assert clients.delete("d8-service")
    new_secret = "d8-service-new-owner-secret-0123456789ab"
    clients.create({**spec, "client_secret": new_secret})
    # Once the client record's cache has turned over (CLIENT_CACHE_TTL: 2 s here, 60 s
    # deployed), the new owner's secret works and the old one does not, secret cache or not.
    time.sleep(CLIENT_CACHE_TTL + 0.5)
    assert ask(new_secret, "127.0.0.52") == 200
    assert ask(spec["client_secret"], "127.0.0.53") == 401
    # A re-registration in place (no delete) gives the old secret no grace period either.
    clients.create({**spec, "client_secret": spec["client_secret"]}, replace=True)
    time.sleep(CLIENT_CACHE_TTL + 0.5)
    assert ask(spec["client_secret"], "127.0.0.54") == 200
    assert ask(new_secret, "127.0.0.55") == 401


def test_d10_a_client_that_loses_offline_access_loses_its_refresh_tokens(
    stack: LocalStack,
) -> None:
    clients = admin(stack).clients()
    spec: dict[str, Any] = {
        "client_id": "d10-app",
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": [WEB_REDIRECT],
        "scope": "openid offline_access read:data",
    }
    clients.create(spec, replace=True)
    result = get_code(stack, "d10-app", WEB_REDIRECT, scope="openid offline_access read:data")
    tokens = requests.post(
        f"{stack.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": result.code,
            "redirect_uri": WEB_REDIRECT,
            "code_verifier": result.verifier,
            "client_id": "d10-app",
        },
        timeout=10,
    ).json()
    clients.update("d10-app", {"scope": "openid read:data"})
    current = {"token": tokens["refresh_token"]}

    def refreshed() -> requests.Response:
        response = requests.post(
            f"{stack.issuer}/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": current["token"],
                "client_id": "d10-app",
            },
            timeout=10,
        )
        if response.status_code == 200:
            current["token"] = response.json()["refresh_token"]
        return response

    assert until(lambda: refreshed().status_code == 400)
    assert_invalid_grant(refreshed())


def test_d8_a_sign_in_request_made_for_an_earlier_registration_does_not_resume(
    stack: LocalStack,
) -> None:
    clients = admin(stack).clients()
    spec: dict[str, Any] = {
        "client_id": "d8-resume",
        "token_endpoint_auth_method": "none",
        "redirect_uris": [WEB_REDIRECT],
        "scope": "openid",
    }
    clients.create(spec, replace=True)
    browser = Browser(stack)
    params = authorize_params("d8-resume", WEB_REDIRECT, pkce_pair()[1], scope="openid")
    start = browser.authorize(**params)
    login = start.headers["Location"]
    clients.create(spec, replace=True)  # registered anew: another registration_id
    assert until(lambda: browser.get(login).status_code == 400)
