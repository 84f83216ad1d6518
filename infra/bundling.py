"""Bundling without Docker. The shared layer: pip fetches manylinux wheels for the Lambda
runtime's Python and architecture (`--platform`, `--only-binary=:all:`), then the project's own
package is copied beside them; boto3 is left out (the runtime provides it). Each function's
code: its folder, copied. Both then get bytecode for the runtime's Python (`infra.bytecode`),
when this machine has that Python.

Each asset's hash is computed here, not by CDK: it covers the sources, the requirements, the
architecture, the runtime's Python, the bytecode (which Python compiled it, or none) and this
bundling code, so a change to any of them makes a new asset and none reuses a stale one."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra import bytecode
from infra.bytecode import FUNCTION_MOUNT, LAYER_MOUNT, RUNTIME_PYTHON, Interpreter

ROOT = Path(__file__).resolve().parents[1]
LAYER_SOURCE = ROOT / "layers" / "common"
LAYER_PACKAGE = LAYER_SOURCE / "python" / "oauth_core"
# What the layer ships: the runtime dependencies of pyproject.toml less boto3.
LAYER_REQUIREMENTS = (
    "aws-lambda-powertools>=3.20,<4",
    "pyjwt>=2.10,<3",
    "cryptography>=45",
    # Second factors: TOTP codes (RFC 6238) and the QR code of the enrolment page, both pure
    # Python and imported only where used (oauth_core.rules.totp).
    "pyotp>=2.9,<3",
    "segno>=1.6,<2",
    "webauthn>=3.0.1,<4",
)
# Left behind by tests and local runs: bytecode of whatever Python ran them, never shipped.
_LOCAL_BYTECODE = shutil.ignore_patterns("__pycache__", "*.pyc")
# The code that decides what an asset holds, so that changing it changes every asset hash.
_BUNDLING_CODE = (Path(__file__), Path(bytecode.__file__))


def install_wheels(target: Path, python_version: str, *arguments: str) -> None:
    """pip-install binary wheels for CPython `python_version` into `target`, without bytecode
    (pip would compile for the interpreter running it; the right bytecode is made apart)."""
    subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(target),
            "--implementation",
            "cp",
            "--python-version",
            python_version,
            "--only-binary=:all:",
            *arguments,
        ],
        check=True,
    )


def bundle_layer(
    output_dir: Path,
    platforms: tuple[str, ...],
    compiler: Interpreter | None,
    python_version: str = RUNTIME_PYTHON,
) -> None:
    """The layer in `output_dir`: wheels for `python_version` and `platforms`, oauth_core,
    and bytecode by `compiler` (none without one)."""
    target = output_dir / "python"
    target.mkdir(parents=True, exist_ok=True)
    platform_args = [arg for platform in platforms for arg in ("--platform", platform)]
    install_wheels(target, python_version, "--upgrade", *platform_args, *LAYER_REQUIREMENTS)
    # pip's console scripts (jp.py, cffi-gen-src): nothing imports them, /opt/python/bin is not
    # on Lambda's PATH, and their shebang names this machine's interpreter, so the layer's
    # content would depend on where it was built.
    shutil.rmtree(target / "bin", ignore_errors=True)
    shutil.copytree(
        LAYER_PACKAGE,
        target / "oauth_core",
        dirs_exist_ok=True,
        ignore=_LOCAL_BYTECODE,
    )
    for cache in target.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    if compiler:
        bytecode.compile_tree(target, compiler, LAYER_MOUNT)


def bundle_function(source: Path, output_dir: Path, compiler: Interpreter | None) -> None:
    """A function's code asset in `output_dir`: its folder, with bytecode by `compiler`."""
    shutil.copytree(source, output_dir, dirs_exist_ok=True, ignore=_LOCAL_BYTECODE)
    if compiler:
        bytecode.compile_tree(output_dir, compiler, FUNCTION_MOUNT)


def asset_hash(source: Path, compiler: Interpreter | None, *inputs: str) -> str:
    """A digest of the files under `source` (local bytecode aside), the bundling code, the
    runtime's Python, the bytecode's compiler (or its absence) and any other `inputs`."""
    digest = hashlib.sha256()
    files = sorted(p for p in source.rglob("*") if p.is_file())
    for path in files:
        if "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        digest.update(path.relative_to(source).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for code in _BUNDLING_CODE:
        digest.update(hashlib.sha256(code.read_bytes()).digest())
    bytecode_id = compiler.bytecode_id if compiler else "no-bytecode"
    for value in (RUNTIME_PYTHON, bytecode_id, *inputs):
        digest.update(value.encode() + b"\0")
    return digest.hexdigest()


def layer_asset_hash(platforms: tuple[str, ...], compiler: Interpreter | None) -> str:
    return asset_hash(LAYER_PACKAGE, compiler, "layer", *LAYER_REQUIREMENTS, *platforms)


@jsii.implements(ILocalBundling)
class LocalBundler:
    """Bundles on this machine (`build(output_dir)`), so CDK never needs Docker."""

    def __init__(self, build: Callable[[Path], None]):
        self._build = build

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: object) -> bool:
        self._build(Path(output_dir))
        return True


def _bundled_asset(source: Path, asset_hash: str, build: Callable[[Path], None]) -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(source),
        asset_hash=asset_hash,
        bundling=BundlingOptions(
            # Never used: local bundling always succeeds, so no Docker is needed.
            image=DockerImage.from_registry("local-bundling-only"),
            local=LocalBundler(build),
        ),
    )


def _compiler() -> Interpreter | None:
    compiler = bytecode.find_python(RUNTIME_PYTHON)
    if compiler is None:
        bytecode.warn_missing(RUNTIME_PYTHON)
    return compiler


def layer_code(platforms: tuple[str, ...], skip_bundling: bool) -> lambda_.Code:
    if skip_bundling:
        # Fast synth for tests: the project's package only, no third-party wheels.
        return lambda_.Code.from_asset(str(LAYER_SOURCE))
    compiler = _compiler()
    return _bundled_asset(
        LAYER_SOURCE,
        layer_asset_hash(platforms, compiler),
        lambda output_dir: bundle_layer(output_dir, platforms, compiler),
    )


def function_code(source: Path, skip_bundling: bool) -> lambda_.Code:
    """One function's code asset: its folder and, where Python 3.13 is found, its bytecode."""
    if skip_bundling:
        return lambda_.Code.from_asset(str(source))
    compiler = _compiler()
    return _bundled_asset(
        source,
        asset_hash(source, compiler, "function"),
        lambda output_dir: bundle_function(source, output_dir, compiler),
    )
