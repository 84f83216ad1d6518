"""A seed that declares the catalog, on the local stack (DynamoDB under moto): the demo seed's
API and scope and a seeded attribute reach discovery, tokens and oauthctl; a bad declaration
stops `python -m local_stack` before it starts, naming its place in the file."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local_stack.seed import DEFAULT_SEED
from tests.e2e.conftest import ROOT, LocalStack, local_stack
from tests.e2e.flows import exchange, get_code
from tests.e2e.test_oauthctl_users import claims_of
from tests.e2e.test_security_client_credentials import oauthctl

USERNAME, PASSWORD = "olga", "olga's seeded password"


def seed_with_attributes() -> dict[str, object]:
    """The demo seed (its API and scope), and an attribute carried in a claim, on a user."""
    seed = json.loads(DEFAULT_SEED.read_text())
    seed["attributes"] = [{"name": "department", "type": "string", "claim": "dept"}]
    seed["users"].append(
        {
            "username": USERNAME,
            "password": PASSWORD,
            "attributes": {"department": "sales"},
            "groups": ["buyers"],
        }
    )
    return seed


@pytest.fixture(scope="module")
def seeded_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    path = tmp_path_factory.mktemp("catalog-seed") / "seed.json"
    path.write_text(json.dumps(seed_with_attributes()))
    with local_stack(tmp_path_factory, "local-stack-seed-catalog", {"OAUTH_SEED": str(path)}) as s:
        yield s


def test_the_demo_seeds_scope_is_advertised_and_given(seeded_stack: LocalStack) -> None:
    stack = seeded_stack
    document = requests.get(f"{stack.issuer}/.well-known/openid-configuration", timeout=5).json()
    assert "invoices:read" in document["scopes_supported"]
    token = requests.post(
        f"{stack.issuer}/token",
        data={"grant_type": "client_credentials", "scope": "invoices:read"},
        auth=("demo-service", stack.client_secret("demo-service")),
        timeout=5,
    )
    assert token.status_code == 200, token.text
    assert token.json()["scope"] == "invoices:read"
    shown = oauthctl(stack, "scopes", "show", "invoices:read", "--output", "json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["audience"] == "https://invoices.example.com"


def test_a_seeded_attribute_reaches_the_users_tokens(seeded_stack: LocalStack) -> None:
    stack = seeded_stack
    shown = oauthctl(stack, "users", "show", USERNAME, "--output", "json")
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert record["attributes"] == {"department": "sales"} and record["groups"] == ["buyers"]
    tokens = exchange(stack, get_code(stack, username=USERNAME, password=PASSWORD)).json()
    access = claims_of(tokens["access_token"])
    assert access["dept"] == "sales" and access["groups"] == ["buyers"]


def test_a_bad_declaration_stops_the_stack_naming_its_place(tmp_path: Path) -> None:
    seed = seed_with_attributes()
    seed["scopes"] = [{"name": "invoices:read", "description": "x", "audience": "https://nope.ex"}]
    path = tmp_path / "bad-seed.json"
    path.write_text(json.dumps(seed))
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "local_stack", "--port", "0", "--seed", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"error: bad seed: {path}: scopes[0].audience: https://nope.ex is not" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 30  # refused before anything started
