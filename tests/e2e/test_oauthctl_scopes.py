"""oauthctl scopes and the CLI as a tool, against the running local stack: a registered scope
is advertised and issued; an invented one is refused; every read prints JSON for scripts; exit
codes mean the same for every command."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.test_security_client_credentials import oauthctl


def advertised(stack: LocalStack) -> list[str]:
    document = requests.get(f"{stack.issuer}/.well-known/openid-configuration", timeout=5)
    return list(document.json()["scopes_supported"])


def test_a_registered_scope_is_advertised_given_and_issued(stack: LocalStack) -> None:
    invented = oauthctl(
        stack,
        "clients",
        "create",
        "shop",
        "--grant-type",
        "client_credentials",
        "--scope",
        "shop:read",
    )
    assert invented.returncode == 2
    assert "shop:read is not registered" in invented.stderr
    made = oauthctl(
        stack, "scopes", "create", "shop:read", "--description", "See your orders", "--no-consent"
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["consent"] is False
    deadline = time.monotonic() + 10  # the token function's registry cache: 2 s here
    while "shop:read" not in advertised(stack):
        assert time.monotonic() < deadline, "the new scope never reached discovery"
        time.sleep(0.5)
    created = oauthctl(
        stack,
        "clients",
        "create",
        "shop",
        "--grant-type",
        "client_credentials",
        "--scope",
        "shop:read",
    )
    assert created.returncode == 0, created.stderr
    secret = json.loads(created.stdout)["client_secret"]
    token = requests.post(
        f"{stack.issuer}/token",
        data={"grant_type": "client_credentials"},
        auth=("shop", secret),
        timeout=5,
    ).json()
    assert token["scope"] == "shop:read"
    in_use = oauthctl(stack, "scopes", "delete", "shop:read")
    assert in_use.returncode == 2 and "shop" in in_use.stderr
    assert oauthctl(stack, "clients", "delete", "shop").returncode == 0
    assert oauthctl(stack, "scopes", "delete", "shop:read").returncode == 0
    assert oauthctl(stack, "scopes", "show", "shop:read").returncode == 1


@pytest.mark.parametrize(
    "read",
    [
        ("clients", "list"),
        ("clients", "show", "demo-service"),
        ("users", "list"),
        ("users", "show", "demo"),
        ("scopes", "list"),
        ("scopes", "show", "openid"),
        ("keys", "list"),
    ],
)
def test_every_read_prints_json_for_scripts(stack: LocalStack, read: tuple[str, ...]) -> None:
    ran = oauthctl(stack, *read, "--output", "json")
    assert ran.returncode == 0, ran.stderr
    json.loads(ran.stdout)
    table = oauthctl(stack, *read, "--output", "table")
    assert table.returncode == 0 and table.stdout.strip()


@pytest.mark.parametrize(
    ("command", "code", "said"),
    [
        (("clients", "show", "nobody"), 1, "no client 'nobody'"),
        (("users", "disable", "nobody"), 1, "no user 'nobody'"),
        (("scopes", "update", "nothing", "--consent"), 1, "no scope 'nothing'"),
        (("clients", "create", "bad", "--redirect-uri", "javascript:x"), 2, "redirect_uris"),
        (("clients", "update", "demo-service"), 2, "nothing to update"),
        (("users", "create", "erin"), 2, "a password is needed"),
        (("scopes", "create", "x y", "--description", "d"), 2, "name:"),
        (("clients", "nonsense"), 2, "invalid choice"),
    ],
)
def test_exit_codes_mean_the_same_for_every_command(
    stack: LocalStack, command: tuple[str, ...], code: int, said: str
) -> None:
    ran = oauthctl(stack, *command)
    assert ran.returncode == code, ran.stderr
    assert said in ran.stderr
    assert "Traceback" not in ran.stderr


def test_a_redirect_uri_is_added_and_removed_without_restating_the_list(stack: LocalStack) -> None:
    def uris() -> list[str]:
        shown = oauthctl(stack, "clients", "show", "demo-web", "--output", "json")
        return list(json.loads(shown.stdout)["redirect_uris"])

    before = uris()
    added = oauthctl(
        stack, "clients", "update", "demo-web", "--add-redirect-uri", "https://web.example.com/cb"
    )
    assert added.returncode == 0, added.stderr
    assert uris() == [*before, "https://web.example.com/cb"]
    removed = oauthctl(
        stack,
        "clients",
        "update",
        "demo-web",
        "--remove-redirect-uri",
        "https://web.example.com/cb",
    )
    assert removed.returncode == 0 and uris() == before
    absent = oauthctl(
        stack,
        "clients",
        "update",
        "demo-web",
        "--remove-redirect-uri",
        "https://nowhere.example/cb",
    )
    assert absent.returncode == 2 and "has no redirect URI" in absent.stderr
