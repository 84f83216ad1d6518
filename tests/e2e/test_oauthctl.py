"""oauthctl against the running local stack: clients, users, keys; A10 through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import requests

from oauth_core import constants
from oauth_core.storage.cache import MIN_REFRESH_INTERVAL
from tests.e2e.conftest import LocalStack
from tests.e2e.test_security_client_credentials import oauthctl


def test_clients_lifecycle_create_token_rotate_delete(stack: LocalStack) -> None:
    created = oauthctl(
        stack,
        "clients",
        "create",
        "ctl-service",
        "--grant-type",
        "client_credentials",
        "--scope",
        "read:data",
        "--name",
        "CLI service",
    )
    assert created.returncode == 0, created.stderr
    record = json.loads(created.stdout)
    secret = record["client_secret"]
    assert len(secret) >= 43

    def token(with_secret: str) -> int:
        return requests.post(
            f"{stack.issuer}/token",
            data={"grant_type": "client_credentials"},
            auth=("ctl-service", with_secret),
            timeout=5,
        ).status_code

    assert token(secret) == 200
    listed = oauthctl(stack, "clients", "list")
    assert "ctl-service" in listed.stdout
    assert secret not in listed.stdout
    shown = json.loads(oauthctl(stack, "clients", "show", "ctl-service").stdout)
    assert "client_secret" not in shown and shown["scope"] == "read:data"

    rotated = oauthctl(stack, "clients", "rotate-secret", "ctl-service")
    new_secret = json.loads(rotated.stdout)["client_secret"]
    assert new_secret != secret
    # The new secret works within seconds: a container re-reads a secret that did not match,
    # at most once per MIN_REFRESH_INTERVAL, so guesses cannot flood Secrets Manager.
    deadline = time.monotonic() + MIN_REFRESH_INTERVAL + 3
    while token(new_secret) != 200:
        assert time.monotonic() < deadline, "the rotated secret was never accepted"
        time.sleep(0.5)
    assert token(secret) == 200  # and the old one during the grace period

    updated = oauthctl(stack, "clients", "update", "ctl-service", "--disabled")
    assert json.loads(updated.stdout)["disabled"] is True
    assert oauthctl(stack, "clients", "delete", "ctl-service").returncode == 0
    assert oauthctl(stack, "clients", "show", "ctl-service").returncode == 1


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.example.com/cb",
        "https://app.example.com/cb#frag",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,hi",
        "https://user:pw@app.example.com/cb",
        "https://*.example.com/cb",
        "https://app.example.com/*",
    ],
)
def test_a10_oauthctl_refuses_unsafe_redirect_uris(stack: LocalStack, uri: str) -> None:
    result = oauthctl(stack, "clients", "create", "unsafe-app", "--redirect-uri", uri)
    assert result.returncode == 2
    assert "redirect_uris" in result.stderr
    assert oauthctl(stack, "clients", "show", "unsafe-app").returncode == 1


def test_users_create_list_disable_delete(stack: LocalStack) -> None:
    created = oauthctl(
        stack,
        "users",
        "create",
        "ctl-user",
        "--password-stdin",
        "--claim",
        "email=c@example.com",
        stdin="correct horse battery\n",
    )
    assert created.returncode == 0, created.stderr
    record = json.loads(created.stdout)
    assert "password_hash" not in record and record["claims"]["email"] == "c@example.com"
    assert "ctl-user" in oauthctl(stack, "users", "list").stdout
    assert oauthctl(stack, "users", "disable", "ctl-user").returncode == 0
    assert json.loads(oauthctl(stack, "users", "show", "ctl-user").stdout)["disabled"] is True
    short = oauthctl(
        stack, "users", "set-password", "ctl-user", "--password-stdin", stdin="short\n"
    )
    assert short.returncode == 2 and "password" in short.stderr
    assert oauthctl(stack, "users", "delete", "ctl-user").returncode == 0


def test_keys_rotate_publishes_next_key_before_use(stack: LocalStack) -> None:
    # The served JWKS holds the next key beside the current one (other tests rotate keys too,
    # and the token function caches the set, so compare shapes here, not one snapshot's kids).
    jwks = requests.get(f"{stack.issuer}/.well-known/jwks.json", timeout=5).json()
    assert sum(1 for key in jwks["keys"] if key["alg"] == "ES256") >= 2

    def listed() -> dict[tuple[str, str], str]:
        rows = json.loads(oauthctl(stack, "keys", "list", "--output", "json").stdout)
        return {(r["alg"], r["status"]): r["kid"] for r in rows if r["status"] != "retired"}

    before = listed()
    # Refused: the set was made (or rotated) less than SECRET_CACHE_TTL ago, which is a day for
    # this call (the default five minutes is less than a long run of the suite lasts).
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "oauthctl.cli",
            "--endpoint-url",
            stack.aws_endpoint,
            "keys",
            "rotate",
        ],
        env={**os.environ, constants.ENV_SECRET_CACHE_TTL: "86400"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2  # the command cannot be done as given
    assert "--force" in refused.stderr
    assert listed() == before
    assert oauthctl(stack, "keys", "rotate", "--force").returncode == 0
    after = listed()
    assert after[("ES256", "current")] == before[("ES256", "next")]
    assert after[("RS256", "current")] == before[("RS256", "next")]
