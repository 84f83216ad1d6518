"""Cold start proxy: a fresh interpreter imports a handler module and serves its first request,
its AWS calls answered by the local stack's moto over loopback, as Lambda's would be by AWS.
Compared with fresh interpreters that only `import boto3` (the floor for anything that talks to
AWS) or do nothing. Peak RSS is read after the first request."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from local_stack.process import spawn

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5

CHILD = r"""
import json, os, sys, time
started = time.perf_counter()
sys.path[:0] = [{code_dir!r}, {layer!r}]
import {module}
imported = time.perf_counter()

class Context:
    function_name = {module!r}; function_version = "$LATEST"; memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    aws_request_id = "cold"; log_group_name = "bench"; log_stream_name = "bench"
    def get_remaining_time_in_millis(self): return 10000

event = json.loads(os.environ["BENCH_EVENT"])
sys.stdout = open(os.devnull, "w")
before = time.perf_counter()
result = {module}.lambda_handler(event, Context())
served = time.perf_counter()
sys.stdout = sys.__stdout__
print(json.dumps({{
    "import_ms": (imported - started) * 1000,
    "first_request_ms": (served - before) * 1000,
    "status": result["statusCode"],
    # VmHWM: this process's own peak (ru_maxrss would carry the parent's across exec).
    "rss_mb": int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]) / 1024,
    "boto3": "boto3" in sys.modules,
}}))
"""

FLOOR = r"""
import json, time
started = time.perf_counter()
{body}
print(json.dumps({{"import_ms": (time.perf_counter() - started) * 1000}}))
"""


@dataclass
class ColdStart:
    name: str
    import_ms: float
    first_request_ms: float
    total_ms: float
    rss_mb: float
    imports_boto3: bool


def _run(script: str, env: dict[str, str]) -> dict[str, Any]:
    output = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return dict(json.loads(output.stdout.strip().splitlines()[-1]))


def start_stack() -> tuple[subprocess.Popen[str], str, str]:
    started = spawn()
    return started.process, started.issuer, started.aws_endpoint


def _events(issuer: str) -> dict[str, dict[str, Any]]:
    import base64
    import hashlib
    import secrets
    from urllib.parse import urlencode, urlsplit

    from benchmarks.standin import event

    host = urlsplit(issuer).netloc
    seed = json.loads((ROOT / "local/local_stack/default_seed.json").read_text())
    secret = next(c["client_secret"] for c in seed["clients"] if c["client_id"] == "demo-service")
    basic = base64.b64encode(f"demo-service:{secret}".encode()).decode()
    context = {"domainName": host}

    def with_host(data: dict[str, Any]) -> dict[str, Any]:
        data["requestContext"].update(context)
        return data

    token = requests.post(
        f"{issuer}/token",
        data={"grant_type": "client_credentials"},
        auth=("demo-service", secret),
        timeout=10,
    ).json()["access_token"]
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(secrets.token_bytes(32)).digest())
        .rstrip(b"=")
        .decode()
    )
    query = urlencode(
        {
            "client_id": "demo-spa",
            "redirect_uri": "http://127.0.0.1:8401/callback",
            "response_type": "code",
            "scope": "openid read:data",
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    login = requests.get(f"{issuer}/authorize?{query}", allow_redirects=False, timeout=10)
    login_query = login.headers["Location"].split("?", 1)[1]
    return {
        "token": with_host(
            event(
                "token_client_credentials",
                body="grant_type=client_credentials",
                headers={"authorization": f"Basic {basic}"},
            )
        ),
        "resource": with_host(event("resource_get", headers={"authorization": f"Bearer {token}"})),
        "authorize": with_host(event("authorize", rawQueryString=query)),
        "login": with_host(event("login_get", rawQueryString=login_query)),
    }


def run() -> tuple[dict[str, ColdStart], dict[str, float]]:
    process, issuer, aws = start_stack()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            {
                "AWS_ENDPOINT_URL": aws,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_DEFAULT_REGION": "us-east-1",
                "OAUTH_ISSUER": issuer,
                "POWERTOOLS_METRICS_NAMESPACE": "OAuthServer",
                "PYTHONDONTWRITEBYTECODE": "0",
            }
        )
        events = _events(issuer)
        floors = {
            "nothing": statistics.median(
                _run(FLOOR.format(body="pass"), env)["import_ms"] for _ in range(RUNS)
            ),
            "import boto3": statistics.median(
                _run(FLOOR.format(body="import boto3"), env)["import_ms"] for _ in range(RUNS)
            ),
        }
        results = {}
        from oauth_core.http.routes import FUNCTIONS

        for name, spec in FUNCTIONS.items():
            script = CHILD.format(
                code_dir=str(ROOT / spec.code_dir),
                layer=str(ROOT / "layers/common/python"),
                module=spec.module,
            )
            runs = []
            for _ in range(RUNS):
                # The login page's request id is single use only once signed in: reusable here.
                runs.append(_run(script, {**env, "BENCH_EVENT": json.dumps(events[name])}))
            assert all(r["status"] < 500 for r in runs), (name, runs)
            results[name] = ColdStart(
                name,
                statistics.median(r["import_ms"] for r in runs),
                statistics.median(r["first_request_ms"] for r in runs),
                statistics.median(r["import_ms"] + r["first_request_ms"] for r in runs),
                max(r["rss_mb"] for r in runs),
                any(r["boto3"] for r in runs),
            )
        return results, floors
    finally:
        process.terminate()
        process.wait(timeout=10)
