"""`make demo`: the local stack, the web app and the backend service, together.

Starts the local stack, then the web app (Authorization Code + PKCE) on 127.0.0.1:8400, runs
the backend service (Client Credentials) once, and prints where to click.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from local_stack.process import StackDidNotStart, spawn

ROOT = Path(__file__).resolve().parents[1]


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--webapp-port", type=int, default=8400)
    parser.add_argument("--exit-after-start", action="store_true", help="for tests")
    args = parser.parse_args(argv)

    try:
        started = spawn(args.port)
    except StackDidNotStart as exc:
        raise SystemExit(f"{exc}\n(is the port free? PORT=... make demo)") from exc
    stack, issuer, aws = started.process, started.issuer, started.aws_endpoint
    webapp_url = f"http://127.0.0.1:{args.webapp_port}"
    webapp = subprocess.Popen(
        [sys.executable, "-m", "examples.webapp.app"],
        cwd=ROOT,
        env={**os.environ, "OAUTH_ISSUER": issuer, "PORT": str(args.webapp_port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(webapp_url)
        service = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "examples.service.service", "--issuer", issuer],
            cwd=ROOT,
            env={**os.environ, "AWS_ENDPOINT_URL": aws},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        answer = json.loads(service.stdout) if service.returncode == 0 else service.stderr
        print(
            "\n".join(
                [
                    "",
                    f"Authorization server: {issuer}",
                    "",
                    "Backend service (Client Credentials, secret read from Secrets Manager) called",
                    f"{issuer}/resource and got:",
                    json.dumps(answer, indent=2) if isinstance(answer, dict) else answer,
                    "",
                    f"Web app (Authorization Code + PKCE): open {webapp_url}",
                    "  click 'Log in', sign in as demo / demo-password, and see your profile",
                    "  (/userinfo) and the protected API's answer for your token.",
                    "",
                    "Ctrl-C stops everything.",
                ]
            ),
            flush=True,
        )
        if not args.exit_after_start:
            stack.wait()
    except KeyboardInterrupt:
        pass
    finally:
        webapp.terminate()
        stack.terminate()
        for process in (webapp, stack):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
