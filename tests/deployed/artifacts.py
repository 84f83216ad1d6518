"""What `cdk deploy` would ship, built once per test run: the app synthesized by the real
CDK CLI with bundling on (the arm64 layer and every function's code asset, as uploaded), the same
layer bundled for this machine's architecture by the same code (`infra.bundling.bundle_layer`,
only the platform differs), and boto3 as the Lambda runtime provides it (pip-installed and
compiled, as benchmarks/cold.py makes it).

The three are built side by side (the synth is a Node process, the others are pip runs), by
whichever xdist worker asks first; the others wait for it and use what it built."""

from __future__ import annotations

import fcntl
import functools
import importlib.metadata
import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from benchmarks.cold import machine_architecture, runtime_python
from infra.bundling import bundle_layer, install_wheels
from infra.bytecode import Interpreter, compile_tree
from infra.config import StackConfig

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_ARCHITECTURE = "arm64"
SYNTH_TIMEOUT = 600  # seconds: pip may fetch the layer's wheels


@dataclass(frozen=True)
class Artifacts:
    cloud_assembly: Path  # cdk.out
    stack_name: str
    template: dict[str, Any]
    assets: dict[str, Path]  # S3 object key -> the directory `cdk deploy` zips and uploads there
    host_layer: Path  # the layer's asset, bundled for this machine (its python/ inside)
    host_architecture: str
    runtime: Path  # boto3 and its dependencies, compiled, as the runtime's site-packages
    python: Interpreter  # what runs the functions: the runtime's Python where this machine has it
    python_note: str  # which Python that is, for the report

    def asset(self, code: dict[str, Any], where: str) -> Path:
        """The asset a Lambda `Code` / layer `Content` property names by its S3 key."""
        key = code.get("S3Key")
        if not isinstance(key, str) or key not in self.assets:
            raise LookupError(
                f"{where}: S3Key {key!r} is not an asset of {self.cloud_assembly} "
                f"(assets: {sorted(self.assets)})"
            )
        return self.assets[key]


def offline_env(home: Path) -> dict[str, str]:
    """CDK's environment without AWS credentials or telemetry (synth must not need them)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_CONFIG_FILE": str(home / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "CDK_DISABLE_CLI_TELEMETRY": "1",
        }
    )
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20,22")
    return env


def synthesize(out: Path) -> None:
    """`npx --no-install cdk synth` as a deployer runs it, bundling on, for arm64, with dynamic
    client registration open (so that the registration function's flows run too)."""
    result = subprocess.run(
        [
            "npx",
            "--no-install",
            "cdk",
            "synth",
            "--quiet",
            "-c",
            f"architecture={DEPLOY_ARCHITECTURE}",
            "-c",
            "skip_bundling=false",
            "-c",
            "client_registration=open",
            "-o",
            str(out),
        ],
        cwd=ROOT,
        env=offline_env(out.parent),
        capture_output=True,
        text=True,
        timeout=SYNTH_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"cdk synth failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")


def read_assembly(out: Path) -> tuple[str, dict[str, Any], dict[str, Path]]:
    """The stack's name, its template and its file assets by S3 object key, from the cloud
    assembly's manifests (what `cdk deploy` reads to upload and deploy)."""
    manifest = json.loads((out / "manifest.json").read_text())
    artifacts = manifest["artifacts"]
    stacks = {k: a for k, a in artifacts.items() if a["type"] == "aws:cloudformation:stack"}
    if len(stacks) != 1:
        raise LookupError(f"expected one stack in {out}, found {sorted(stacks)}")
    artifact_id, stack = next(iter(stacks.items()))
    properties = stack["properties"]
    template = json.loads((out / properties["templateFile"]).read_text())
    assets: dict[str, Path] = {}
    for dependency in stack.get("dependencies", []):
        if artifacts[dependency]["type"] != "cdk:asset-manifest":
            continue
        asset_manifest = json.loads((out / artifacts[dependency]["properties"]["file"]).read_text())
        for asset in asset_manifest.get("files", {}).values():
            if asset["source"].get("packaging") != "zip":
                continue  # the template itself, uploaded as a file
            for destination in asset["destinations"].values():
                assets[destination["objectKey"]] = out / asset["source"]["path"]
    return properties.get("stackName", artifact_id), template, assets


def install_runtime(target: Path, python: Interpreter) -> None:
    """boto3 as Lambda's Python runtime has it: the project's version, compiled."""
    minor = python.version.rsplit(".", 1)[0]
    install_wheels(target, minor, f"boto3=={importlib.metadata.version('boto3')}")
    compile_tree(target, python, f"/var/lang/lib/python{minor}/site-packages")


def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the artifacts of this test run are built: the folder every xdist worker of the run
    shares (the parent of its own base temp), so that only one of them builds them."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "deployed-artifacts"


@functools.cache
def build(root: Path) -> Artifacts:
    """Everything, once per run: the first process to ask builds, under a lock; the others
    wait for it and read what it built (a failed build leaves nothing, and is tried again)."""
    python, note = runtime_python()
    host = machine_architecture()
    out, host_layer, runtime = root / "cdk.out", root / "host-layer", root / "runtime"
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the builder finishes, or dies
        built = root / "built"
        if not built.exists():
            for partial in (out, host_layer, runtime):
                shutil.rmtree(partial, ignore_errors=True)
            _build(out, host_layer, runtime, python, host)
            built.touch()
    stack_name, template, assets = read_assembly(out)
    return Artifacts(out, stack_name, template, assets, host_layer, host, runtime, python, note)


def _build(out: Path, host_layer: Path, runtime: Path, python: Interpreter, host: str) -> None:
    minor = python.version.rsplit(".", 1)[0]
    with ThreadPoolExecutor(max_workers=3) as pool:
        jobs = [
            pool.submit(synthesize, out),
            pool.submit(
                bundle_layer,
                host_layer,
                StackConfig(architecture=host).pip_platforms,
                python,
                python_version=minor,
            ),
            pool.submit(install_runtime, runtime, python),
        ]
        for job in jobs:
            job.result()
