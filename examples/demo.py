"""`make demo`: the local stack, the web app and the backend service, together.

Starts the local stack, then the web app (Authorization Code + PKCE) on 127.0.0.1:8400, runs
the backend service (Client Credentials) once, and prints where to click.

A port in use stops it before anything starts, with a message and exit status 2. Ctrl-C
(SIGINT) and SIGTERM stop every process it started; so does any failure.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import requests

from local_stack.process import StackDidNotStart, spawn
from local_stack.seed import DEFAULT_SEED

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WEBAPP_PORT = 8400  # the demo seed registers demo-web's redirect URI on this port
WEBAPP_CLIENT = "demo-web"
STOP_WAIT = 10  # seconds a child gets to exit after SIGTERM, before SIGKILL


class DemoError(Exception):
    """A reason the demo cannot run, said in one message."""


class Stop(BaseException):
    """SIGTERM or SIGINT arrived: leave whatever is running and stop the children."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Signals:
    """SIGTERM and SIGINT raise Stop, except while a child is being started (its handle is not
    yet ours to stop): then Stop is raised as soon as the start is over."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self._holding = False
        self._pending: int | None = None
        self._before: dict[int, Any] = {}

    def install(self) -> None:
        for signum in self.SIGNALS:
            self._before[signum] = signal.signal(signum, self._handle)

    @contextmanager
    def ignored(self) -> Iterator[None]:
        """While the children stop, a second Ctrl-C does not interrupt their stopping."""
        for signum in self.SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        try:
            yield
        finally:
            for number, handler in self._before.items():
                signal.signal(number, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._holding:
            self._pending = signum
            return
        raise Stop(signum)

    @contextmanager
    def held(self) -> Iterator[None]:
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
            if self._pending is not None:
                raise Stop(self._pending)


def port_in_use(port: int) -> str | None:
    """Why 127.0.0.1:port cannot be listened on, or None when it can."""
    with socket.socket() as probe:
        # As the servers bind: a port in TIME_WAIT is free to them.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            return "it is in use" if exc.errno == errno.EADDRINUSE else str(exc)
    return None


def check_ports(stack_port: int, webapp_port: int) -> None:
    if stack_port and stack_port == webapp_port:
        raise DemoError(f"the server and the web app cannot share port {stack_port}")
    for port, what, how in (
        (stack_port, "the authorization server", f"PORT={stack_port + 1} make demo"),
        (webapp_port, "the web app", f"make demo WEBAPP_PORT={webapp_port + 10}"),
    ):
        if port and (why := port_in_use(port)):
            raise DemoError(
                f"cannot listen on 127.0.0.1:{port} for {what}: {why}. Stop what listens "
                f"there, or choose another port: {how}"
            )


def seed_for(webapp_port: int, directory: Path) -> Path | None:
    """The demo seed with the web app's URIs (redirect, post-logout redirect, back-channel
    logout) on its port, when that is not 8400."""
    if webapp_port == DEFAULT_WEBAPP_PORT:
        return None
    seed = json.loads(DEFAULT_SEED.read_text())
    for client in seed["clients"]:
        if client["client_id"] == WEBAPP_CLIENT:
            hosts = ("127.0.0.1", "localhost")
            client["redirect_uris"] = [f"http://{host}:{webapp_port}/callback" for host in hosts]
            client["post_logout_redirect_uris"] = [
                f"http://{host}:{webapp_port}/signed-out" for host in hosts
            ]
            client["backchannel_logout_uri"] = f"http://127.0.0.1:{webapp_port}/backchannel-logout"
    path = directory / "demo-seed.json"
    path.write_text(json.dumps(seed))
    return path


def wait_for_webapp(url: str, webapp: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    """Until the web app answers as itself; a web app that exited is an error."""
    deadline = time.monotonic() + seconds
    while True:
        if webapp.poll() is not None:
            output = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise DemoError(
                f"the web app exited with status {webapp.returncode}:\n  " + "\n  ".join(output)
            )
        try:
            if "Demo app" in requests.get(url, timeout=1).text:
                return
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise DemoError(f"the web app did not answer on {url} within {seconds:.0f} s")
        time.sleep(0.2)


def stop(children: list[subprocess.Popen[Any]]) -> None:
    """SIGTERM to every child still running, then SIGKILL to any that outlives STOP_WAIT."""
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + STOP_WAIT
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=STOP_WAIT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument(
        "--webapp-port",
        type=int,
        default=int(os.environ.get("WEBAPP_PORT", str(DEFAULT_WEBAPP_PORT))),
    )
    parser.add_argument("--exit-after-start", action="store_true", help="for tests")
    args = parser.parse_args(argv)

    signals = Signals()
    signals.install()
    children: list[subprocess.Popen[Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="oauth-demo-") as scratch:
            run(args, signals, children, Path(scratch))
    except DemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Stop as stopped:
        print(f"\nStopping ({stopped}).", file=sys.stderr)
        return 0
    finally:
        with signals.ignored():
            stop(children)
    return 0


def run(
    args: argparse.Namespace,
    signals: Signals,
    children: list[subprocess.Popen[Any]],
    scratch: Path,
) -> None:
    check_ports(args.port, args.webapp_port)
    seed = seed_for(args.webapp_port, scratch)
    try:
        with signals.held():
            started = spawn(args.port, {"OAUTH_SEED": str(seed)} if seed else None)
            children.append(started.process)
    except StackDidNotStart as exc:
        raise DemoError(f"{exc}(is port {args.port} free? PORT=... make demo)") from exc
    issuer, aws = started.issuer, started.aws_endpoint
    webapp_url = f"http://127.0.0.1:{args.webapp_port}"
    webapp_log = scratch / "webapp.log"
    with signals.held(), webapp_log.open("wb") as log:
        children.append(
            subprocess.Popen(
                [sys.executable, "-m", "examples.webapp.app"],
                cwd=ROOT,
                env={**os.environ, "OAUTH_ISSUER": issuer, "PORT": str(args.webapp_port)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    wait_for_webapp(webapp_url, children[-1], webapp_log, seconds=30)
    with signals.held():
        service = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "examples.service.service", "--issuer", issuer],
            cwd=ROOT,
            env={**os.environ, "AWS_ENDPOINT_URL": aws},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        children.append(service)
    try:
        out, err = service.communicate(timeout=60)
    except subprocess.TimeoutExpired as exc:
        raise DemoError("the backend service did not finish within 60 s") from exc
    answer = json.loads(out) if service.returncode == 0 else err
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
    if args.exit_after_start:
        return
    # Until a signal (Stop, raised out of the wait) or the stack's own exit: a Ctrl-C reaches
    # the whole process group, and the stack exits 0 on it.
    status = children[0].wait()
    if status != 0:
        raise DemoError(f"the local stack exited with status {status}")


if __name__ == "__main__":
    sys.exit(main())
