"""Users as an operator manages them, over the CLI, and the effect in the next token over
HTTP: groups in access and ID tokens, a group removed gone from the very next refresh, a claim
changed likewise; list with a filter and pages."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from tests.e2e.conftest import LocalStack, local_stack
from tests.e2e.flows import exchange, get_code, refresh
from tests.e2e.test_security_client_credentials import oauthctl

USER, PASSWORD = "groups-user", "groups user password"


def claims_of(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


@pytest.fixture(scope="module")
def user(stack: LocalStack) -> str:
    made = oauthctl(
        stack,
        "users",
        "create",
        USER,
        "--password-stdin",
        "--claim",
        "name=Gail Groups",
        stdin=PASSWORD + "\n",
    )
    assert made.returncode == 0, made.stderr
    return USER


def test_groups_and_claims_reach_the_next_token(stack: LocalStack, user: str) -> None:
    assert oauthctl(stack, "users", "groups", "add", user, "editors").returncode == 0
    assert oauthctl(stack, "users", "groups", "add", user, "admins").returncode == 0
    result = get_code(stack, username=user, password=PASSWORD)
    tokens = exchange(stack, result).json()
    assert claims_of(tokens["access_token"])["groups"] == ["admins", "editors"]
    assert claims_of(tokens["id_token"])["groups"] == ["admins", "editors"]
    assert claims_of(tokens["id_token"])["name"] == "Gail Groups"

    assert oauthctl(stack, "users", "groups", "remove", user, "admins").returncode == 0
    changed = oauthctl(stack, "users", "update", user, "--claim", "name=Gail Renamed")
    assert changed.returncode == 0, changed.stderr
    renewed = refresh(stack, tokens["refresh_token"]).json()
    access = claims_of(renewed["access_token"])
    assert access["groups"] == ["editors"]  # at the very next refresh, not the next sign-in
    assert access["name"] == "Gail Renamed"

    assert oauthctl(stack, "users", "groups", "remove", user, "editors").returncode == 0
    last = refresh(stack, renewed["refresh_token"]).json()
    assert "groups" not in claims_of(last["access_token"])


def test_list_filters_and_pages(stack: LocalStack, user: str) -> None:
    def listed(*args: str) -> tuple[list[dict[str, Any]], str]:
        ran = oauthctl(stack, "users", "list", "--output", "json", *args)
        assert ran.returncode == 0, ran.stderr
        return json.loads(ran.stdout), ran.stderr

    named, _ = listed("--filter", 'name ^= "Gail"')
    assert [u["username"] for u in named] == [user]
    none, _ = listed("--filter", "username = nobody-at-all")
    assert none == []
    first, more = listed("--limit", "1")
    assert len(first) == 1 and "--next-token" in more
    token = more.split("--next-token", 1)[1].split()[0]
    second, _ = listed("--limit", "1", "--next-token", token)
    assert second and second[0]["username"] != first[0]["username"]
    bad = oauthctl(stack, "users", "list", "--filter", "what?")
    assert bad.returncode == 2 and "NAME = VALUE" in bad.stderr


def test_an_email_verified_flag_must_be_a_boolean(stack: LocalStack, user: str) -> None:
    wrong = oauthctl(stack, "users", "update", user, "--claim", "email_verified=maybe")
    assert wrong.returncode == 2 and "email_verified" in wrong.stderr
    right = oauthctl(stack, "users", "update", user, "--email-verified", "--output", "json")
    assert json.loads(right.stdout)["claims"]["email_verified"] is True


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack of its own: renaming the default API's groups claim would reach other tests'
    tokens on the shared one."""
    with local_stack(tmp_path_factory, "local-stack-apis") as running:
        yield running


def test_attributes_and_the_groups_claim_of_an_api(own_stack: LocalStack) -> None:
    stack = own_stack
    made = oauthctl(
        stack, "users", "create", "attr-user", "--password-stdin", stdin="attribute user pw\n"
    )
    assert made.returncode == 0, made.stderr
    undeclared = oauthctl(stack, "users", "update", "attr-user", "--attribute", "department=x")
    assert undeclared.returncode == 2 and "not a declared attribute" in undeclared.stderr
    declared = oauthctl(
        stack, "attributes", "create", "department", "--type", "string", "--claim", "dept"
    )
    assert declared.returncode == 0, declared.stderr
    oauthctl(stack, "attributes", "create", "level", "--type", "number")
    wrong = oauthctl(stack, "users", "update", "attr-user", "--attribute", "level=high")
    assert wrong.returncode == 2 and "must be a number" in wrong.stderr
    reserved = oauthctl(stack, "attributes", "create", "who", "--claim", "sub")
    assert reserved.returncode == 2 and "sets itself" in reserved.stderr
    updated = oauthctl(
        stack,
        "users",
        "update",
        "attr-user",
        "--attribute",
        "department=sales",
        "--attribute",
        "level=3",
    )
    assert updated.returncode == 0, updated.stderr
    assert oauthctl(stack, "users", "groups", "add", "attr-user", "buyers").returncode == 0
    renamed = oauthctl(stack, "apis", "update", "default", "--groups-claim", "roles")
    assert renamed.returncode == 0, renamed.stderr
    deadline = time.monotonic() + 10  # the token function reads the catalog every 2 s here
    while True:
        result = get_code(stack, username="attr-user", password="attribute user pw")
        tokens = exchange(stack, result).json()
        access = claims_of(tokens["access_token"])
        if "roles" in access or time.monotonic() > deadline:
            break
    assert access["dept"] == "sales" and "level" not in access  # only mapped ones
    assert access["roles"] == ["buyers"] and "groups" not in access
    assert claims_of(tokens["id_token"])["groups"] == ["buyers"]
