"""`make demo` as a process (examples.demo): a port in use stops it with a message and a
non-zero status before anything starts; SIGTERM and SIGINT, at any point, stop every process it
started. Children are found through /proc (Linux); every wait is bounded."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parents[2]
READY_LINE = "Ctrl-C stops everything."

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def descendants(pid: int) -> set[int]:
    """Every live process below pid (children, their children, ...), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def demo_env() -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "PYTHONUNBUFFERED": "1",
    }


class Demo:
    """`python -m examples.demo` with its output read line by line on a thread."""

    def __init__(self, *args: str):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "examples.demo", *args],
            cwd=ROOT,
            env=demo_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for_line(self, text: str, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.seen.append(line)
            if text in line:
                return
        raise AssertionError(f"no {text!r} from the demo:\n{''.join(self.seen)}")

    def wait_for_children(self, count: int, seconds: float = 60) -> set[int]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = descendants(self.process.pid)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"the demo did not start {count} child process(es)")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def demo_factory() -> Iterator[list[Demo]]:
    started: list[Demo] = []
    yield started
    for demo in started:
        orphans = descendants(demo.process.pid)
        demo.stop()
        for pid in orphans:  # never leave a test's processes behind, whatever it asserted
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def assert_all_gone(pids: set[int], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.1)
    assert not [pid for pid in pids if alive(pid)], "child processes survived the demo"


@pytest.fixture
def stale_webapp() -> Iterator[int]:
    """A port taken by something that answers as the web app would: a demo left running."""

    class Stale(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>Demo app</title><h1>Demo app</h1>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Stale)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_a_taken_web_app_port_is_a_clear_error_not_a_success(
    demo_factory: list[Demo], stale_webapp: int
) -> None:
    port = stale_webapp
    demo = Demo("--port", "0", "--webapp-port", str(port), "--exit-after-start")
    demo_factory.append(demo)
    status = demo.process.wait(timeout=60)
    output = "".join(demo.lines.queue)
    assert status == 2, output
    assert f"cannot listen on 127.0.0.1:{port} for the web app: it is in use" in output
    assert "WEBAPP_PORT=" in output
    assert "Web app (Authorization Code" not in output  # nothing reported as running


def test_a_taken_server_port_is_a_clear_error(demo_factory: list[Demo]) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        demo = Demo("--port", str(port), "--webapp-port", str(free_port()), "--exit-after-start")
        demo_factory.append(demo)
        status = demo.process.wait(timeout=60)
        output = "".join(demo.lines.queue)
    assert status == 2, output
    assert f"cannot listen on 127.0.0.1:{port} for the authorization server" in output
    assert f"PORT={port + 1} make demo" in output


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_once_running_stops_every_child(
    demo_factory: list[Demo], signum: signal.Signals
) -> None:
    webapp_port = free_port()
    demo = Demo("--port", "0", "--webapp-port", str(webapp_port))
    demo_factory.append(demo)
    demo.wait_for_line(READY_LINE)
    children = descendants(demo.process.pid)
    assert len(children) >= 2, children  # the local stack and the web app
    demo.process.send_signal(signum)  # to the demo alone, as `kill` or a supervisor sends it
    assert demo.process.wait(timeout=30) == 0
    assert_all_gone(children)
    with socket.socket() as probe:  # the web app's port is free again
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", webapp_port))


def test_sigterm_while_the_stack_is_starting_stops_it_too(demo_factory: list[Demo]) -> None:
    demo = Demo("--port", "0", "--webapp-port", str(free_port()))
    demo_factory.append(demo)
    children = demo.wait_for_children(1)  # the local stack, not yet up
    demo.process.send_signal(signal.SIGTERM)
    assert demo.process.wait(timeout=90) == 0
    assert_all_gone(children | descendants(demo.process.pid))
    assert READY_LINE not in "".join(demo.lines.queue)


def test_the_demo_on_another_web_app_port_signs_in(
    chromium: Browser, demo_factory: list[Demo]
) -> None:
    """Not 8400: the demo registers demo-web's redirect URI on the port it was given."""
    webapp_port = free_port()
    demo = Demo("--port", "0", "--webapp-port", str(webapp_port))
    demo_factory.append(demo)
    demo.wait_for_line(READY_LINE)
    webapp = f"http://127.0.0.1:{webapp_port}"
    page = chromium.new_page()
    try:
        page.goto(webapp)
        page.get_by_role("link", name="Log in").click()
        page.get_by_label("Username").fill("demo")
        page.get_by_label("Password").fill("demo-password")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{webapp}/")
        assert "Signed in as Dana Demo" in page.locator("#user").inner_text()
    finally:
        page.close()
    children = descendants(demo.process.pid)
    demo.process.send_signal(signal.SIGTERM)
    assert demo.process.wait(timeout=30) == 0
    assert_all_gone(children)
