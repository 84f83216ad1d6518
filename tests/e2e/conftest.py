"""Starts the local stack (`python -m local_stack`) on a free port, once per test session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
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
    audit_file: Path  # its audit records (oauth_core.audit), one JSON line each

    def client_secret(self, client_id: str) -> str:
        return next(c["client_secret"] for c in SEED["clients"] if c["client_id"] == client_id)

    def aws_env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
        }


@contextmanager
def local_stack(
    tmp_path_factory: pytest.TempPathFactory, name: str, extra_env: dict[str, str] | None = None
) -> Iterator[LocalStack]:
    """A local stack of its own for the duration of the block, its log under a fresh temp dir."""
    log_path = tmp_path_factory.mktemp(name) / "server.log"
    audit_file = log_path.with_name("audit.jsonl")
    env = {
        "OAUTH_AUDIT_FILE": str(audit_file),
        # Every test comes from 127.0.0.1: keep the per-address limit out of the way of the
        # per-account and per-client limits the tests exercise.
        "MAX_FAILED_ATTEMPTS_PER_IP": "100000",
        # Disabling a client takes effect within the client cache's lifetime: short here.
        "CLIENT_CACHE_TTL": "2",
        # So does a newly registered scope in discovery.
        "REGISTRY_CACHE_TTL": "2",
        # A revocation reaches the resource function within this and the token function's
        # copy (as long, at most): seconds here, not the deployed 20 + 5.
        "REVOCATION_REFRESH_SECONDS": "1",
        # Dynamic client registration (RFC 7591), as an MCP-ready stack runs it.
        "CLIENT_REGISTRATION": "open",
        # And clients named by their metadata document's URL (served on loopback in the tests).
        "CLIENT_ID_METADATA_DOCUMENTS": "on",
        **(extra_env or {}),
    }
    started = spawn(0, env, log_path)
    try:
        requests.get(
            f"{started.issuer}/.well-known/oauth-authorization-server", timeout=10
        ).raise_for_status()
        yield LocalStack(started.issuer, started.aws_endpoint, log_path, audit_file)
    finally:
        started.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The stack most tests share (one per xdist worker). Tests that break it, or that force
    signing-key rotations in quick succession (which can leave containers briefly disagreeing on
    the current key, see docs/operate.md), start their own."""
    with local_stack(tmp_path_factory, "local-stack") as running:
        yield running


@pytest.fixture(scope="session")
def stack_with_short_codes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A second stack whose codes live three seconds, and refresh tokens three idle and six in
    all (C4, D7). Times are whole seconds, so a lifetime of N lasts between N-1 and N: a code
    that lived one second could expire before a slow machine redeemed it."""
    env = {"CODE_TTL": "3", "REFRESH_TOKEN_IDLE_TTL": "3", "REFRESH_TOKEN_ABSOLUTE_TTL": "6"}
    with local_stack(tmp_path_factory, "local-stack-short", env) as running:
        yield running
