"""Refresh concurrency a client survives (issue 15, item 5), within the D rows: with a client's
`refresh_token_reuse_grace_seconds`, the refresh token just rotated, presented again within the
grace (the client's answer was lost), rotates its unused successor: a fresh pair, one live token
in the grant. A rotated token presented after the grace, or with no grace at all, is a reuse
and revokes the grant, as before (the D rows hold with grace 0)."""

from __future__ import annotations

import json
import time

import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import WEB_REDIRECT, get_code
from tests.e2e.test_security_client_credentials import oauthctl


def grace_client(stack: LocalStack, client_id: str, grace: int) -> tuple[str, str]:
    made = oauthctl(
        stack, "clients", "create", client_id, "--redirect-uri", WEB_REDIRECT,
        "--grant-type", "authorization_code", "--grant-type", "refresh_token",
        "--scope", "openid offline_access read:data",
        "--refresh-token-reuse-grace", str(grace),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return client_id, json.loads(made.stdout)["client_secret"]


def refresh_token_of(stack: LocalStack, client: tuple[str, str]) -> str:
    code = get_code(stack, client_id=client[0], redirect_uri=WEB_REDIRECT,
                    scope="openid offline_access read:data")  # fmt: skip
    tokens = requests.post(
        f"{stack.issuer}/token", auth=client, timeout=10,
        data={"grant_type": "authorization_code", "code": code.code,
              "redirect_uri": WEB_REDIRECT, "code_verifier": code.verifier},
    ).json()  # fmt: skip
    return str(tokens["refresh_token"])


def refresh(stack: LocalStack, client: tuple[str, str], token: str) -> requests.Response:
    return requests.post(
        f"{stack.issuer}/token", auth=client, timeout=10,
        data={"grant_type": "refresh_token", "refresh_token": token},
    )  # fmt: skip


def test_within_the_grace_the_old_token_rotates_its_unused_successor(stack: LocalStack) -> None:
    client = grace_client(stack, "grace-client", 30)
    first = refresh_token_of(stack, client)
    lost = refresh(stack, client, first)  # the answer the client never saw
    assert lost.status_code == 200
    again = refresh(stack, client, first)
    assert again.status_code == 200, again.text
    newest = again.json()["refresh_token"]
    assert newest != lost.json()["refresh_token"]
    # One live token in the grant: the newest rotates as usual.
    onward = refresh(stack, client, newest)
    assert onward.status_code == 200, onward.text


def test_without_a_grace_reuse_revokes_as_before(stack: LocalStack) -> None:
    client = grace_client(stack, "no-grace-client", 0)
    first = refresh_token_of(stack, client)
    rotated = refresh(stack, client, first)
    assert rotated.status_code == 200
    assert refresh(stack, client, first).status_code == 400
    assert refresh(stack, client, rotated.json()["refresh_token"]).status_code == 400


def test_after_the_grace_reuse_revokes(stack: LocalStack) -> None:
    client = grace_client(stack, "short-grace-client", 1)
    first = refresh_token_of(stack, client)
    rotated = refresh(stack, client, first)
    assert rotated.status_code == 200
    time.sleep(2.1)  # past the one-second grace
    assert refresh(stack, client, first).status_code == 400
    assert refresh(stack, client, rotated.json()["refresh_token"]).status_code == 400


def test_the_grace_is_at_most_a_minute(stack: LocalStack) -> None:
    made = oauthctl(
        stack, "clients", "create", "too-much-grace", "--grant-type", "client_credentials",
        "--refresh-token-reuse-grace", "61",
    )  # fmt: skip
    assert made.returncode == 2 and "refresh_token_reuse_grace_seconds" in made.stderr
