"""Cold starts as Lambda has them, against floors measured in the same run.

Every measurement is a fresh interpreter of the runtime's Python (3.13, where this machine has
it), isolated (`-I -S -B`: no site-packages, no PYTHON* variables, no bytecode written, as on
Lambda's read-only /opt and /var/task), that can import only the function's code asset and the
layer, both made by the project's own bundling code for this machine's architecture, and a copy
of boto3 as the runtime provides it. It imports the handler module and serves a first request;
AWS is the local stack's moto on loopback, as AWS would be on Lambda.

Floors, same interpreter, same isolation: nothing; `import boto3`; and for each function its
AWS floor, which imports boto3, creates the clients the function created and makes the calls
its first request made (recorded in the function's own runs, not listed here), nothing else.

Both bundles are measured: with bytecode (as deployed) and without (as deployed before)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.metadata
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from benchmarks import cold_scripts
from infra.bundling import bundle_function, bundle_layer, install_wheels
from infra.bytecode import RUNTIME_PYTHON, Interpreter, compile_tree, find_python, probe
from infra.config import StackConfig
from local_stack.process import spawn

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "tests" / "events"
RUNS = 5
# The functions behind the API; each serves the first request `_first_requests` makes for it.
FUNCTIONS = ("token", "resource", "authorize", "login")
BYTECODE = "bytecode"
SOURCE_ONLY = "no bytecode"
BOTO3_SOURCE_ONLY = "import boto3 (boto3 without bytecode)"
PYJWT = "import jwt"
PYJWT_AND_TLS = "import jwt, then a default TLS context"
FLOORS = ("nothing", "import boto3", BOTO3_SOURCE_ONLY, PYJWT, PYJWT_AND_TLS)
# As on Lambda: nothing from the environment or site-packages, and nothing written back.
ISOLATED = ("-I", "-S", "-B")


@dataclass
class ColdStart:
    name: str
    bundle: str
    import_ms: float
    first_request_ms: float
    total_ms: float
    rss_mb: float
    imports_boto3: bool


@dataclass
class AwsWork:
    """What a function's cold start asked of AWS: its clients and its calls, in order."""

    clients: list[str]
    calls: list[list[str]]  # [service, operation, parameters as JSON]
    varied: bool = False  # not the same in every run (then the first run's is the floor's)

    def summary(self) -> str:
        if not self.clients:
            return "none"
        counted = Counter(f"{service} {operation}" for service, operation, _ in self.calls)
        calls = ", ".join(f"{n} {op}" if n > 1 else op for op, n in counted.items())
        return f"clients: {', '.join(self.clients)}; calls: {calls or 'none'}" + (
            " (varied across runs)" if self.varied else ""
        )


@dataclass
class ColdReport:
    interpreter: Interpreter
    interpreter_note: str
    architecture: str
    boto3_version: str
    starts: dict[str, dict[str, ColdStart]]  # bundle -> function -> median cold start
    floors: dict[str, float]  # by FLOORS' labels
    aws_floors: dict[str, float]  # function -> its AWS floor
    aws_work: dict[str, AwsWork]  # function -> what its cold start asked of AWS
    restored: dict[str, float]  # function -> after-restore hooks and first request (SnapStart)

    def as_json(self) -> dict[str, Any]:
        return {
            "interpreter": vars(self.interpreter),
            "architecture": self.architecture,
            "boto3": self.boto3_version,
            "starts": {b: {n: vars(s) for n, s in fs.items()} for b, fs in self.starts.items()},
            "floors_ms": self.floors,
            "aws_floors_ms": self.aws_floors,
            "aws_work": {n: w.summary() for n, w in self.aws_work.items()},
            "restored_first_request_ms": self.restored,
        }


@dataclass(frozen=True)
class Bundles:
    layers: dict[str, Path]  # bundle -> the layer's python/ folder
    code: dict[str, dict[str, Path]]  # bundle -> function -> its code asset
    runtime: Path  # boto3 and its dependencies, compiled, as the Lambda runtime has them
    runtime_source_only: Path  # the same without bytecode: only to compare with other figures


def start_stack() -> tuple[subprocess.Popen[str], str, str]:
    """The local stack for the load run (benchmarks/load.py): process, issuer, AWS endpoint."""
    started = spawn()
    return started.process, started.issuer, started.aws_endpoint


def runtime_python() -> tuple[Interpreter, str]:
    """The runtime's Python if this machine has it, else the running one (and say so)."""
    found = find_python(RUNTIME_PYTHON)
    if found:
        return found, f"Python {found.version} ({found.path})"
    running = probe(sys.executable)
    assert running is not None
    return running, (
        f"Python {running.version} ({running.path}): **no Python {RUNTIME_PYTHON} found**, so "
        f"the layer is bundled for {running.version.rsplit('.', 1)[0]} and the figures are "
        f"not the runtime's"
    )


def machine_architecture() -> str:
    return "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


def build_bundles(root: Path, python: Interpreter, architecture: str) -> Bundles:
    """Both bundles, by infra.bundling, and a runtime copy of the project's boto3 version."""
    platforms = StackConfig(architecture=architecture).pip_platforms
    minor = python.version.rsplit(".", 1)[0]
    layers: dict[str, Path] = {}
    code: dict[str, dict[str, Path]] = {}
    for bundle, compiler in ((BYTECODE, python), (SOURCE_ONLY, None)):
        bundle_layer(root / bundle / "layer", platforms, compiler, python_version=minor)
        layers[bundle] = root / bundle / "layer" / "python"
        code[bundle] = {}
        for name in FUNCTIONS:
            target = root / bundle / "functions" / name
            bundle_function(ROOT / "functions" / name, target, compiler)
            code[bundle][name] = target
    runtime = root / "runtime"
    install_wheels(
        runtime,
        minor,
        f"boto3=={importlib.metadata.version('boto3')}",
        # The runtime's SnapStart hooks module (Lambda's Python runtime has it).
        f"snapshot-restore-py=={importlib.metadata.version('snapshot-restore-py')}",
    )
    runtime_source_only = root / "runtime-source-only"
    shutil.copytree(runtime, runtime_source_only)
    # The runtime's own packages come compiled (pip compiles what it installs).
    compile_tree(runtime, python, f"/var/lang/lib/python{minor}/site-packages")
    return Bundles(layers, code, runtime, runtime_source_only)


def _event(name: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    for key, value in overrides.items():
        data[key] = {**data[key], **value} if key == "headers" else value
    return data


def _first_requests(issuer: str) -> dict[str, dict[str, Any]]:
    """The first request each function serves: a client-credentials token, a resource call
    with a token, an authorization request (to sign-in) and the sign-in page it leads to."""
    seed = json.loads((ROOT / "local/local_stack/default_seed.json").read_text())
    secret = next(c["client_secret"] for c in seed["clients"] if c["client_id"] == "demo-service")
    basic = base64.b64encode(f"demo-service:{secret}".encode()).decode()
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
    events = {
        "token": _event(
            "token_client_credentials",
            body="grant_type=client_credentials",
            headers={"authorization": f"Basic {basic}"},
        ),
        "resource": _event("resource_get", headers={"authorization": f"Bearer {token}"}),
        "authorize": _event("authorize", rawQueryString=query),
        "login": _event("login_get", rawQueryString=login_query),
    }
    for data in events.values():
        data["requestContext"]["domainName"] = urlsplit(issuer).netloc
    return events


def _child_env(issuer: str, aws_endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    env.update(
        {
            "AWS_ENDPOINT_URL": aws_endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "OAUTH_ISSUER": issuer,
            "POWERTOOLS_METRICS_NAMESPACE": "OAuthServer",
        }
    )
    return env


class Runner:
    """Runs scripts in fresh isolated interpreters of one Python, from an empty folder."""

    def __init__(self, python: Interpreter, env: dict[str, str], cwd: Path):
        self._python, self._env, self._cwd = python, env, cwd

    def __call__(self, script: str, **extra_env: str) -> dict[str, Any]:
        output = subprocess.run(  # noqa: S603 - a probed interpreter and our own script
            [self._python.path, *ISOLATED, "-c", script],
            env={**self._env, **extra_env},
            cwd=self._cwd,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if output.returncode != 0:
            raise RuntimeError(f"cold-start child failed:\n{output.stderr[-3000:]}")
        return dict(json.loads(output.stdout.strip().splitlines()[-1]))


@contextlib.contextmanager
def _local_stack() -> Iterator[tuple[str, str]]:
    started = spawn()
    try:
        yield started.issuer, started.aws_endpoint
    finally:
        started.stop()


def run() -> ColdReport:
    python, note = runtime_python()
    architecture = machine_architecture()
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        bundles = build_bundles(Path(tmp), python, architecture)
        empty = Path(tmp) / "cwd"
        empty.mkdir()
        with _local_stack() as (issuer, aws_endpoint):
            runner = Runner(python, _child_env(issuer, aws_endpoint), empty)
            measured = _measure(runner, bundles, _first_requests(issuer))
    return ColdReport(python, note, architecture, importlib.metadata.version("boto3"), *measured)


def _measure(
    run: Runner, bundles: Bundles, events: dict[str, dict[str, Any]]
) -> tuple[
    dict[str, dict[str, ColdStart]],
    dict[str, float],
    dict[str, float],
    dict[str, AwsWork],
    dict[str, float],
]:
    """Median cold starts by bundle and function, the floors, the AWS floors, the AWS work,
    and what a container restored from a SnapStart snapshot still spends."""
    runtime = str(bundles.runtime)
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    floors: dict[str, list[float]] = {}
    work: dict[str, AwsWork] = {}
    # Round by round, every kind of run in each, so that a slow spell of the machine shows in
    # all of them rather than in one.
    for _ in range(RUNS):
        for name in FUNCTIONS:
            for bundle in (BYTECODE, SOURCE_ONLY):
                paths = [str(bundles.code[bundle][name]), str(bundles.layers[bundle]), runtime]
                script = cold_scripts.FUNCTION.format(paths=paths, module=f"{name}_handler")
                result = run(script, BENCH_EVENT=json.dumps(events[name]))
                assert result["status"] < 500, (name, bundle, result)
                samples.setdefault((name, bundle), []).append(result)
                seen = AwsWork(result["clients"], result["calls"])
                if name not in work:
                    work[name] = seen
                elif (seen.clients, _operations(seen)) != (
                    work[name].clients,
                    _operations(work[name]),
                ):
                    work[name].varied = True
        layer = str(bundles.layers[BYTECODE])
        for label, paths, body in (
            ("nothing", [runtime], "pass"),
            ("import boto3", [runtime], "import boto3"),
            (BOTO3_SOURCE_ONLY, [str(bundles.runtime_source_only)], "import boto3"),
            # What the resource function cannot do without: PyJWT verifies every token, and the
            # issuer's JWKS comes over HTTPS (urllib's TLS context loads the trusted CAs).
            (PYJWT, [layer, runtime], "import jwt"),
            (PYJWT_AND_TLS, [layer, runtime], "import jwt, ssl\nssl.create_default_context()"),
        ):
            script = cold_scripts.FLOOR.format(paths=paths, body=body)
            floors.setdefault(label, []).append(run(script)["ms"])
        for name in FUNCTIONS:
            paths = [str(bundles.code[BYTECODE][name]), str(bundles.layers[BYTECODE]), runtime]
            script = cold_scripts.RESTORED.format(paths=paths, module=f"{name}_handler")
            result = run(script, BENCH_EVENT=json.dumps(events[name]))
            assert result["status"] < 500, (name, "restored", result)
            floors.setdefault(f"restored:{name}", []).append(result["ms"])
        for name in FUNCTIONS:
            if work[name].clients:
                script = cold_scripts.AWS_FLOOR.format(
                    paths=[runtime], clients=work[name].clients, calls=work[name].calls
                )
                floors.setdefault(f"aws:{name}", []).append(run(script)["ms"])
    median = {label: statistics.median(values) for label, values in floors.items()}
    starts: dict[str, dict[str, ColdStart]] = {}
    for (name, bundle), results in samples.items():
        starts.setdefault(bundle, {})[name] = ColdStart(
            name,
            bundle,
            statistics.median(r["import_ms"] for r in results),
            statistics.median(r["first_request_ms"] for r in results),
            statistics.median(r["import_ms"] + r["first_request_ms"] for r in results),
            max(r["rss_mb"] for r in results),
            any(r["boto3"] for r in results),
        )
    floor_of = {label: median[label] for label in FLOORS}
    # A function that creates no client has nothing to do with AWS: its floor is boto3's.
    aws_floors = {name: median.get(f"aws:{name}", median["import boto3"]) for name in FUNCTIONS}
    restored = {name: median[f"restored:{name}"] for name in FUNCTIONS}
    return starts, floor_of, aws_floors, work, restored


def _operations(work: AwsWork) -> list[tuple[str, str]]:
    return [(service, operation) for service, operation, _ in work.calls]
