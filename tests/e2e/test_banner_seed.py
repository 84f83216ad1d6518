"""The local stack's banner: the built-in demo seed's secrets are printed (a demo needs them and
the repository holds them anyway); a custom seed's never are, only its client ids and usernames,
with where each secret is."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from local_stack import READY
from local_stack.seed import DEFAULT_SEED

ROOT = Path(__file__).resolve().parents[2]
GIVEN_SECRET = "operator-written-secret-0123456789abcdefXYZ"
PASSWORD = "operator-written-password"
CUSTOM = {
    "clients": [
        {
            "client_id": "ops-service",
            "client_secret": GIVEN_SECRET,
            "grant_types": ["client_credentials"],
            "scope": "read:data",
        },
        {"client_id": "ops-generated", "grant_types": ["client_credentials"]},
        {
            "client_id": "ops-spa",
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"],
            "redirect_uris": ["http://127.0.0.1:5173/callback"],
        },
    ],
    "users": [{"username": "olga", "password": PASSWORD}],
}


def banner_of(*args: str, env: dict[str, str] | None = None) -> str:
    """Start `python -m local_stack` on a free port, read its banner, stop it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "local_stack", "--port", "0", *args],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OAUTH_SEED"))},
            **(env or {}),
            "PYTHONUNBUFFERED": "1",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith(READY):
                return "".join(lines)
        raise AssertionError("no banner:\n" + "".join(lines))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def custom_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seed") / "ops-seed.json"
    path.write_text(json.dumps(CUSTOM))
    return path


def test_a_custom_seed_prints_ids_and_where_the_secrets_are_never_the_secrets(
    custom_seed: Path,
) -> None:
    banner = banner_of("--seed", str(custom_seed))
    assert GIVEN_SECRET not in banner and PASSWORD not in banner
    assert f"ops-service    secret: clients[0].client_secret in {custom_seed}" in banner
    assert "ops-generated  secret: generated, in local Secrets Manager as oauth/clients/" in banner
    assert "ops-spa        public (PKCE)" in banner
    assert f"Users (their passwords: in {custom_seed}):\n  olga\n" in banner
    assert '-u "ops-service:$CLIENT_SECRET"' in banner
    assert "Demo" not in banner and "demo-" not in banner
    # No secret-looking value at all: the generated secret is not on the banner either.
    assert not re.search(r"secret [^\s:]{32,}", banner)


def test_oauth_seed_names_a_custom_seed_too(custom_seed: Path) -> None:
    banner = banner_of(env={"OAUTH_SEED": str(custom_seed)})
    assert GIVEN_SECRET not in banner and "ops-service" in banner


@pytest.mark.parametrize("how", ["default", "named"])
def test_the_built_in_demo_seed_prints_its_demo_secrets(how: str) -> None:
    banner = banner_of(*(["--seed", str(DEFAULT_SEED)] if how == "named" else []))
    seed = json.loads(DEFAULT_SEED.read_text())
    for client in seed["clients"]:
        if "client_secret" in client:
            assert f"secret {client['client_secret']}" in banner
    assert "demo / demo-password" in banner
    assert '-u "demo-service:demo-service-secret-change-me-' in banner
