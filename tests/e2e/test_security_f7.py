"""SECURITY.md row F7: revocation reaches APIs. A revoked access token, and every access token of
a revoked grant (refresh-token reuse, code replay, a user disabled, a grant revoked by an
operator, the app removed on the account page), is refused by the bundled resource function and
/userinfo within the bound (here REVOCATION_REFRESH_SECONDS=1, so 1 s + the token function's
copy of at most 1 s), with no storage read per API request; /revocations names no token."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import (
    SPA,
    WEB,
    WEB_REDIRECT,
    exchange,
    get_code,
    refresh,
    service_token,
)
from tests.e2e.test_security_client_credentials import oauthctl
from tests.e2e.test_security_revocation import revoke

# The configured bound in this stack (1 s + at most 1 s), and the scheduling slack of a test.
BOUND = 2.0
SLACK = 3.0
PASSWORD = "f7 user password 1"


def resource(stack: LocalStack, token: str, path: str = "/resource") -> requests.Response:
    return requests.get(
        f"{stack.issuer}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def refused_within(stack: LocalStack, tokens: dict[str, str], since: float) -> dict[str, float]:
    """How long after `since` each named token was first refused as revoked (polling)."""
    refused: dict[str, float] = {}
    while len(refused) < len(tokens) and time.monotonic() - since < BOUND + SLACK:
        for name, token in tokens.items():
            if name in refused:
                continue
            answer = resource(stack, token)
            if answer.status_code == 401:
                assert 'error="invalid_token"' in answer.headers["www-authenticate"]
                refused[name] = time.monotonic() - since
        time.sleep(0.1)
    return refused


def user_tokens(stack: LocalStack, username: str | None = None) -> dict[str, str]:
    extra = {"username": username, "password": PASSWORD} if username else {}
    code = get_code(stack, client_id=WEB, redirect_uri=WEB_REDIRECT, **extra)  # type: ignore[arg-type]
    tokens = exchange(stack, code, client_id=WEB, redirect_uri=WEB_REDIRECT).json()
    assert resource(stack, tokens["access_token"]).status_code == 200
    return dict(tokens)


def new_user(stack: LocalStack, username: str) -> None:
    made = oauthctl(stack, "users", "create", username, "--password-stdin", stdin=PASSWORD)
    assert made.returncode == 0, made.stderr


def test_f7_revoked_tokens_and_grants_are_refused_by_the_api_within_the_bound(
    stack: LocalStack,
) -> None:
    new_user(stack, "f7-disabled")
    new_user(stack, "f7-operator")
    revoked_access = user_tokens(stack)
    reused = user_tokens(stack)
    replayed_code = get_code(stack)
    replayed = exchange(stack, replayed_code).json()
    disabled = user_tokens(stack, "f7-disabled")
    by_operator = user_tokens(stack, "f7-operator")
    service = service_token(stack)
    untouched = user_tokens(stack)

    # Each way a token or its grant ends, at nearly the same moment.
    steps: dict[str, Callable[[], object]] = {
        "access token revoked (RFC 7009)": lambda: revoke(
            stack, revoked_access["access_token"], WEB, token_type_hint="access_token"
        ),
        "refresh token reused": lambda: (
            refresh(stack, reused["refresh_token"], client_id=WEB),
            refresh(stack, reused["refresh_token"], client_id=WEB),
        ),
        "code replayed": lambda: exchange(stack, replayed_code),
        "user disabled": lambda: oauthctl(stack, "users", "disable", "f7-disabled"),
        "grant revoked by an operator": lambda: oauthctl(
            stack, "grants", "revoke", "f7-operator", "--client", WEB
        ),
        "service token revoked": lambda: requests.post(
            f"{stack.issuer}/revoke",
            data={"token": service},
            auth=("demo-service", stack.client_secret("demo-service")),
            timeout=10,
        ),
    }
    for step in steps.values():
        step()
    since = time.monotonic()
    watched = {
        "access token revoked (RFC 7009)": revoked_access["access_token"],
        "refresh token reused": reused["access_token"],
        "code replayed": replayed["access_token"],
        "user disabled": disabled["access_token"],
        "grant revoked by an operator": by_operator["access_token"],
        "service token revoked": service,
    }
    refused = refused_within(stack, watched, since)
    assert set(refused) == set(watched), {k: refused.get(k) for k in watched}
    # /userinfo is the same resource function, with the same list.
    assert resource(stack, disabled["access_token"], "/userinfo").status_code == 401
    # A token of a grant no one touched still works.
    assert resource(stack, untouched["access_token"]).status_code == 200


def test_f7_the_published_list_names_no_token_and_no_grant(stack: LocalStack) -> None:
    tokens = user_tokens(stack)
    claims_part = tokens["access_token"].split(".")[1]
    revoke(stack, tokens["refresh_token"], WEB, token_type_hint="refresh_token")
    listed = requests.get(f"{stack.issuer}/revocations", timeout=10)
    assert listed.status_code == 200
    body = listed.json()
    assert all(len(rid) == 24 and int(rid, 16) >= 0 for rid in body["revoked"])
    import base64
    import json

    claims = json.loads(base64.urlsafe_b64decode(claims_part + "=" * (-len(claims_part) % 4)))
    assert claims["grant_id"] not in listed.text and claims["jti"] not in listed.text
    assert listed.headers["cache-control"].startswith("public, max-age=")


def test_f7_the_spa_token_of_a_removed_app_is_refused(stack: LocalStack) -> None:
    """A grant ended by its user (the account page's Remove access) reaches the API too."""
    new_user(stack, "f7-account")
    code = get_code(stack, username="f7-account", password=PASSWORD)
    tokens = exchange(stack, code).json()
    removed = oauthctl(stack, "grants", "revoke", "f7-account", "--client", SPA)
    assert removed.returncode == 0, removed.stderr
    refused = refused_within(stack, {"spa": tokens["access_token"]}, time.monotonic())
    assert "spa" in refused
