"""Bundling the shared layer without Docker: pip fetches manylinux wheels for the Lambda
runtime's Python and architecture (`--platform`, `--only-binary=:all:`), then the project's own
package is copied beside them. boto3 is left out: the runtime provides it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

ROOT = Path(__file__).resolve().parents[1]
LAYER_SOURCE = ROOT / "layers" / "common"
RUNTIME_PYTHON = "3.13"
# What the layer ships: the runtime dependencies of pyproject.toml less boto3.
LAYER_REQUIREMENTS = ("aws-lambda-powertools>=3.20,<4", "pyjwt>=2.10,<3", "cryptography>=45")


def bundle_layer(output_dir: Path, platforms: tuple[str, ...]) -> None:
    target = output_dir / "python"
    target.mkdir(parents=True, exist_ok=True)
    platform_args = [arg for platform in platforms for arg in ("--platform", platform)]
    subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
            str(target),
            "--implementation",
            "cp",
            "--python-version",
            RUNTIME_PYTHON,
            "--only-binary=:all:",
            "--upgrade",
            *platform_args,
            *LAYER_REQUIREMENTS,
        ],
        check=True,
    )
    shutil.copytree(
        LAYER_SOURCE / "python" / "oauth_core",
        target / "oauth_core",
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    for cache in target.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


@jsii.implements(ILocalBundling)
class PipLayerBundler:
    def __init__(self, platforms: tuple[str, ...]):
        self._platforms = platforms

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: object) -> bool:
        bundle_layer(Path(output_dir), self._platforms)
        return True


def layer_code(platforms: tuple[str, ...], skip_bundling: bool) -> lambda_.Code:
    if skip_bundling:
        # Fast synth for tests: the project's package only, no third-party wheels.
        return lambda_.Code.from_asset(str(LAYER_SOURCE))
    return lambda_.Code.from_asset(
        str(LAYER_SOURCE),
        bundling=BundlingOptions(
            # Never used: local bundling always succeeds, so no Docker is needed.
            image=DockerImage.from_registry("local-bundling-only"),
            local=PipLayerBundler(platforms),
        ),
    )
