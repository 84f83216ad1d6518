"""SECURITY R1, measured: how long "Forgot your password?" takes to answer for an account with a
verified address (a link written, an e-mail sent through moto's SES), one whose address is not
verified, and no account at all, on a local stack of its own, each from a source of its own.

    python -m benchmarks.email_timing [ROUNDS]
    EMAIL_ANSWER_MS=1 python -m benchmarks.email_timing [ROUNDS]   # the work alone, unheld

Prints min / median / max in milliseconds per kind. The answers are held until EMAIL_ANSWER_MS
(1000) after their request arrived, so the three rows should agree to within the noise of the
machine: the hold, not the work, sets the time.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

from local_stack.process import spawn
from oauth_core.admin.users import UserDirectory
from oauth_core.clock import SystemClock
from oauth_core.storage.dynamodb import DynamoUserStore

KINDS = {
    "verified address": "timing-verified",
    "unverified address": "timing-unverified",
    "no account": "timing-nobody",
}


def _csrf(session: requests.Session, issuer: str) -> str:
    page = session.get(f"{issuer}/forgot-password", timeout=10)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def measure(rounds: int) -> dict[str, list[float]]:
    log = Path(tempfile.mkdtemp()) / "server.log"
    # Per source: more requests than the default 20 an hour; per address: likewise.
    env = {"RECOVERIES_PER_SOURCE": "100000", "EMAILS_PER_ADDRESS": "100000"}
    stack = spawn(0, env, log)
    try:
        import boto3

        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=stack.aws_endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        users = UserDirectory(DynamoUserStore("oauth-users", dynamodb=dynamodb), SystemClock())
        users.create("timing-verified", "timing password 1",
                     {"email": "verified@example.org", "email_verified": True})  # fmt: skip
        users.create("timing-unverified", "timing password 1",
                     {"email": "unverified@example.org", "email_verified": False})  # fmt: skip
        session = requests.Session()
        csrf = _csrf(session, stack.issuer)
        timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for _ in range(rounds):
            for kind, typed in KINDS.items():  # interleaved: drift hits each kind alike
                started = time.perf_counter()
                answer = session.post(
                    f"{stack.issuer}/forgot-password",
                    data={"csrf_token": csrf, "identifier": typed},
                    allow_redirects=False,
                    timeout=10,
                )
                timings[kind].append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 303, answer.text
        return timings
    finally:
        stack.stop()


def main(argv: list[str]) -> int:
    rounds = int(argv[0]) if argv else 20
    timings = measure(rounds)
    print(f"| kind ({rounds} each) | min ms | median ms | max ms |")
    print("|---|---|---|---|")
    for kind, values in timings.items():
        print(
            f"| {kind} | {min(values):.0f} | {statistics.median(values):.0f} | {max(values):.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
