"""Starts the local stack (`python -m local_stack`) on a free port, once per test session."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from local_stack.process import spawn

ROOT = Path(__file__).resolve().parents[2]
SEED = json.loads((ROOT / "local" / "local_stack" / "default_seed.json").read_text())


@dataclass(frozen=True)
class LocalStack:
    issuer: str
    aws_endpoint: str
    output: Path

    def client_secret(self, client_id: str) -> str:
        return next(c["client_secret"] for c in SEED["clients"] if c["client_id"] == client_id)

    def aws_env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
        }


def start_local_stack(
    log_path: Path, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], LocalStack]:
    env = {
        # Every test comes from 127.0.0.1: keep the per-address limit out of the way of the
        # per-account and per-client limits the tests exercise.
        "MAX_FAILED_ATTEMPTS_PER_IP": "100000",
        # Disabling a client takes effect within the client cache's lifetime: short here.
        "CLIENT_CACHE_TTL": "2",
        **(extra_env or {}),
    }
    started = spawn(0, env, log_path)
    requests.get(
        f"{started.issuer}/.well-known/oauth-authorization-server", timeout=10
    ).raise_for_status()
    return started.process, LocalStack(started.issuer, started.aws_endpoint, log_path)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    log_path = tmp_path_factory.mktemp("local-stack") / "server.log"
    process, running = start_local_stack(log_path)
    try:
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def stack_with_short_codes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A second stack whose codes live one second and refresh tokens three (C4, D7)."""
    log_path = tmp_path_factory.mktemp("local-stack-short") / "server.log"
    process, running = start_local_stack(
        log_path,
        {"CODE_TTL": "1", "REFRESH_TOKEN_IDLE_TTL": "3", "REFRESH_TOKEN_ABSOLUTE_TTL": "6"},
    )
    try:
        yield running
    finally:
        process.terminate()
        process.wait(timeout=10)
