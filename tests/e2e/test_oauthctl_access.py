"""Who is signed in with which apps, over the CLI, and each ending taking effect at once over
HTTP: a revoked grant's refresh token is refused, a withdrawn consent is asked again, an ended
session signs in again."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import SPA, Browser, authorize_params, exchange, get_code, pkce_pair, refresh
from tests.e2e.test_security_client_credentials import oauthctl

USER, PASSWORD = "access-user", "access user password"


def read(stack: LocalStack, *command: str) -> Any:
    ran = oauthctl(stack, *command, "--output", "json")
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


@pytest.fixture(scope="module")
def user(stack: LocalStack) -> str:
    made = oauthctl(stack, "users", "create", USER, "--password-stdin", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    return USER


def test_sessions_grants_and_consents_are_listed_and_ended_at_once(
    stack: LocalStack, user: str
) -> None:
    browser = Browser(stack)
    result = get_code(stack, browser=browser, username=user, password=PASSWORD)
    tokens = exchange(stack, result).json()

    (session,) = read(stack, "users", "sessions", user)
    assert set(session) == {"session", "signed_in", "expires"}
    (grant,) = read(stack, "users", "grants", user)
    assert grant["client_id"] == SPA and grant["state"] == "live"
    assert grant["last_used"] is None
    assert "read:data" in grant["scope"]
    renewed = refresh(stack, tokens["refresh_token"]).json()
    (grant,) = read(stack, "users", "grants", user)
    assert grant["last_used"] is not None
    (consent,) = read(stack, "users", "consents", user)
    assert consent["client_id"] == SPA and "read:data" in consent["scopes"]
    held = read(stack, "clients", "grants", SPA)
    assert any(row["grant_id"] == grant["grant_id"] for row in held)

    revoked = oauthctl(stack, "grants", "revoke", user, "--client", SPA)
    assert revoked.returncode == 0 and "revoked 1 grant" in revoked.stdout
    refused = refresh(stack, renewed["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert read(stack, "users", "grants", user) == []
    assert read(stack, "users", "grants", user, "--all")[0]["state"] == "revoked"

    withdrawn = oauthctl(stack, "consents", "revoke", user, "--client", SPA)
    assert withdrawn.returncode == 0, withdrawn.stderr
    asked = browser.authorize(**authorize_params(challenge=pkce_pair()[1]))
    assert asked.headers["Location"].startswith("/consent")

    ended = oauthctl(stack, "sessions", "end", user)
    assert ended.returncode == 0 and "ended 1 session" in ended.stdout
    again = browser.authorize(**authorize_params(challenge=pkce_pair()[1]))
    assert again.headers["Location"].startswith("/login")
    assert read(stack, "users", "sessions", user) == []


@pytest.mark.parametrize(
    "command",
    [
        ("users", "sessions", "nobody"),
        ("grants", "revoke", "nobody"),
        ("consents", "revoke", "nobody", "--client", SPA),
        ("clients", "grants", "no-such-client"),
    ],
)
def test_asking_about_no_one_is_not_found(stack: LocalStack, command: tuple[str, ...]) -> None:
    ran = oauthctl(stack, *command)
    assert ran.returncode == 1 and "no " in ran.stderr
