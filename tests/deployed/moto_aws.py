"""AWS for the suite: moto's server on 127.0.0.1 in a process of its own (the local stack's
server, which takes one request at a time so that conditional writes are atomic), and clients
for the suite itself. A process of its own keeps moto's state apart from the tests that run
moto in-process in the same worker."""

from __future__ import annotations

import selectors
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import boto3
import requests

REGION = "us-east-1"
# moto accepts any credentials; the functions get these in place of their role's.
ACCESS_KEY, SECRET_KEY = "deployed-suite", "deployed-suite"
START_TIMEOUT = 60  # seconds

_SERVE = """
import sys
from local_stack.aws import MotoServer
server = MotoServer("127.0.0.1", 0).start()
print(server.endpoint_url, flush=True)
sys.stdin.read()  # until the suite closes it
server.stop()
"""


@dataclass
class MotoAws:
    process: subprocess.Popen[str]
    endpoint_url: str
    account_id: str = ""

    @classmethod
    def start(cls) -> MotoAws:
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            listening = selector.select(START_TIMEOUT)
        endpoint = process.stdout.readline().strip() if listening else ""
        if not endpoint.startswith("http://127.0.0.1:"):
            process.kill()
            raise RuntimeError(f"moto did not start: {endpoint!r}")
        aws = cls(process, endpoint)
        # Lambda functions are created, never run by moto (that needs Docker): its Lambda
        # without Docker only answers, which is all Secrets Manager's RotateSecret needs.
        requests.post(
            f"{endpoint}/moto-api/config", json={"lambda": {"use_docker": False}}, timeout=10
        ).raise_for_status()
        aws.account_id = aws.client("sts").get_caller_identity()["Account"]
        return aws

    def client(self, service: str) -> Any:
        return self.session().client(service, endpoint_url=self.endpoint_url)

    def session(self) -> Any:
        return boto3.session.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
        )

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=START_TIMEOUT)
