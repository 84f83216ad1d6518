"""Running the local stack as a child process: for the end-to-end tests, the benchmark and the
demo. It reads the banner for the issuer and the embedded AWS endpoint, then keeps draining the
child's output (to a log file, if given) so the child never blocks on a full pipe."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from local_stack import READY

ROOT = Path(__file__).resolve().parents[2]
_ISSUER = re.compile(r"Issuer: (http://\S+)")
_AWS = re.compile(r"AWS_ENDPOINT_URL=(http://[^\s)]+)")


class StackDidNotStart(RuntimeError):
    pass


@dataclass
class StackProcess:
    process: subprocess.Popen[str]
    issuer: str
    aws_endpoint: str

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def spawn(
    port: int = 0,
    extra_env: dict[str, str] | None = None,
    log_path: Path | None = None,
    timeout: float = 60,
) -> StackProcess:
    """Start `python -m local_stack` (port 0: a free one) and wait for its banner."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(extra_env or {})
    env["PYTHONUNBUFFERED"] = "1"
    if log_path:
        log_path.write_text("")
    # Both the child's stderr and the copy of its stdout append (O_APPEND), so neither
    # overwrites the other in the one file.
    log = log_path.open("a") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "local_stack", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    assert process.stdout is not None
    issuer = aws = None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    # Read the whole banner (it shows demo secrets: they belong on a terminal, not in a log).
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if match := _ISSUER.search(line):
            issuer = match.group(1)
        if match := _AWS.search(line):
            aws = match.group(1)
        if line.startswith(READY):
            break
    if issuer is None or aws is None:
        process.kill()
        raise StackDidNotStart("the local stack did not start:\n" + "".join(seen))
    stdout = process.stdout

    def drain() -> None:
        # The functions' JSON logs (stdout) join the log file, where tests can read them.
        sink = log_path.open("a") if log_path else None
        for line in stdout:
            if sink:
                sink.write(line)
                sink.flush()

    threading.Thread(target=drain, daemon=True).start()
    return StackProcess(process, issuer, aws)
