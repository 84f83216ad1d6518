"""A load run against the local stack on loopback: N parallel clients each get a token with
Client Credentials and call /resource with it. Bounded in count and time; reports throughput
and errors (expected: none)."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests

from benchmarks.cold import start_stack

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class LoadResult:
    clients: int
    requests: int
    errors: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def run(clients: int = 8, rounds: int = 60, time_limit: float = 60.0) -> LoadResult:
    process, issuer, _ = start_stack()
    seed = json.loads((ROOT / "local/local_stack/default_seed.json").read_text())
    secret = next(c["client_secret"] for c in seed["clients"] if c["client_id"] == "demo-service")
    deadline = time.monotonic() + time_limit
    counted = {"requests": 0, "errors": 0}
    lock = threading.Lock()

    def client() -> None:
        session = requests.Session()
        for _ in range(rounds):
            if time.monotonic() > deadline:
                return
            ok = 0
            token = session.post(
                f"{issuer}/token",
                data={"grant_type": "client_credentials"},
                auth=("demo-service", secret),
                timeout=10,
            )
            ok += token.status_code == 200
            if token.status_code == 200:
                bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
                ok += (
                    session.get(f"{issuer}/resource", headers=bearer, timeout=10).status_code == 200
                )
            with lock:
                counted["requests"] += 2
                counted["errors"] += 2 - ok

    try:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            for future in [pool.submit(client) for _ in range(clients)]:
                future.result()
        return LoadResult(
            clients, counted["requests"], counted["errors"], time.monotonic() - started
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
