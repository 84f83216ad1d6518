"""Starts the local stack (`python -m local_stack`) on a free port, once per test session."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

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
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(extra_env or {})
    env["PYTHONUNBUFFERED"] = "1"
    # Every test comes from 127.0.0.1: keep the per-address limit out of the way of the
    # per-account and per-client limits the tests exercise.
    env.setdefault("MAX_FAILED_ATTEMPTS_PER_IP", "100000")
    # Disabling a client takes effect within the client cache's lifetime: keep it short here.
    env.setdefault("CLIENT_CACHE_TTL", "2")
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "local_stack", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    assert process.stdout is not None
    issuer = aws = None
    deadline = time.monotonic() + 60
    lines: list[str] = []
    while time.monotonic() < deadline and (issuer is None or aws is None):
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if match := re.search(r"Issuer: (http://\S+)", line):
            issuer = match.group(1)
        if match := re.search(r"AWS_ENDPOINT_URL=(http://\S+?)\)?$", line.strip()):
            aws = match.group(1)
    if issuer is None or aws is None:
        process.kill()
        raise RuntimeError(
            "the local stack did not start:\n" + "".join(lines) + log_path.read_text()
        )
    # The functions' logs (Powertools writes JSON to stdout) go to the log file too, so tests
    # can read what the server logged; draining also keeps the pipe from filling.
    stdout = process.stdout

    def copy_logs() -> None:
        with log_path.open("a") as sink:
            for line in stdout:
                sink.write(line)
                sink.flush()

    threading.Thread(target=copy_logs, daemon=True).start()
    requests.get(f"{issuer}/.well-known/oauth-authorization-server", timeout=10).raise_for_status()
    return process, LocalStack(issuer, aws, log_path)


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
