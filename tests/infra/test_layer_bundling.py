"""The layer and the function code, bundled as a deploy bundles them (the whole stack
synthesized with bundling on, for arm64), without Docker: manylinux wheels for the runtime's
Python and architecture, the project's package beside them, no boto3, and bytecode for the
runtime's Python beside every source file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from infra.bytecode import RUNTIME_PYTHON, Interpreter, find_python
from infra.config import StackConfig
from infra.stack import OAuthServerStack

# The name every .pyc for the runtime carries: <module>.cpython-313.pyc.
RUNTIME_CACHE_TAG = "cpython-" + RUNTIME_PYTHON.replace(".", "")
# PEP 552 flags: bit 0, hash-based; bit 1, check the source. Unchecked hash: 0b01.
UNCHECKED_HASH = 0b01
OUR_HANDLER = re.compile(r"^(\w+)_handler\.lambda_handler$")


@dataclass(frozen=True)
class Bundled:
    layer: Path
    functions: dict[str, Path]  # handler module -> its code asset
    compiler: Interpreter | None


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Bundled:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(outdir))
    stack = OAuthServerStack(app, "OAuthServer", StackConfig(architecture="arm64"))
    assembly = app.synth()
    resources: dict[str, dict[str, Any]] = assembly.get_stack_by_name(stack.stack_name).template[
        "Resources"
    ]

    def asset_dir(s3_key: str) -> Path:
        return outdir / f"asset.{s3_key.removesuffix('.zip')}"

    layers = [r for r in resources.values() if r["Type"] == "AWS::Lambda::LayerVersion"]
    assert len(layers) == 1
    functions = {
        match.group(1): asset_dir(r["Properties"]["Code"]["S3Key"])
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function"
        and (match := OUR_HANDLER.match(r["Properties"].get("Handler", "")))
    }
    return Bundled(asset_dir(layers[0]["Properties"]["Content"]["S3Key"]), functions, find_python())


@pytest.fixture(scope="module")
def compiler(bundled: Bundled) -> Interpreter:
    if bundled.compiler is None:
        pytest.skip(
            f"no Python {RUNTIME_PYTHON} on this machine (PATH, pyenv, uv or "
            f"$OAUTH_BUNDLE_PYTHON): the bundles carry no bytecode, so there is none to check"
        )
    return bundled.compiler


def sources_without_runtime_bytecode(tree: Path, compiler: Interpreter) -> list[str]:
    """Every .py under `tree` whose unchecked-hash .pyc for the runtime is missing or wrong."""
    wrong = []
    for source in sorted(tree.rglob("*.py")):
        pyc = source.parent / "__pycache__" / f"{source.stem}.{RUNTIME_CACHE_TAG}.pyc"
        name = str(source.relative_to(tree))
        if not pyc.is_file():
            wrong.append(f"{name}: no {pyc.name}")
            continue
        header = pyc.read_bytes()[:8]
        magic, flags = header[:4].hex(), int.from_bytes(header[4:8], "little")
        if magic != compiler.magic or flags != UNCHECKED_HASH:
            wrong.append(f"{name}: magic {magic}, flags {flags:#04b}")
    return wrong


def test_layer_bundle_has_manylinux_wheels_and_oauth_core(bundled: Bundled) -> None:
    python = bundled.layer / "python"
    for package in ("oauth_core", "jwt", "cryptography", "aws_lambda_powertools"):
        assert (python / package).is_dir(), package
    assert not (python / "boto3").exists()
    assert (python / "oauth_core" / "__init__.py").is_file()
    assert len(list((python / "oauth_core").rglob("*.py"))) > 10
    wheels = {p.read_text() for p in python.glob("*.dist-info/WHEEL")}
    native = [w for w in wheels if "Root-Is-Purelib: false" in w]
    assert native, "cryptography and cffi ship native code"
    for wheel in native:
        tags = [line for line in wheel.splitlines() if line.startswith("Tag:")]
        assert all("manylinux" in t and "aarch64" in t for t in tags), tags
        assert any("cp313" in t or "abi3" in t for t in tags), tags


def test_no_bytecode_but_the_runtimes_is_shipped(bundled: Bundled) -> None:
    # Bytecode of the bundling machine's Python (tests, pip) would only be dead weight.
    trees = [bundled.layer, *bundled.functions.values()]
    stray = [
        str(pyc)
        for tree in trees
        for pyc in tree.rglob("*.pyc")
        if bundled.compiler is None or not pyc.name.endswith(f".{RUNTIME_CACHE_TAG}.pyc")
    ]
    assert not stray


def test_every_source_in_the_layer_has_unchecked_hash_bytecode_for_the_runtime(
    bundled: Bundled, compiler: Interpreter
) -> None:
    python = bundled.layer / "python"
    assert len(list(python.rglob("*.py"))) > 100, "the third-party packages are in"
    assert sources_without_runtime_bytecode(python, compiler) == []


def test_every_function_asset_has_unchecked_hash_bytecode_for_the_runtime(
    bundled: Bundled, compiler: Interpreter
) -> None:
    assert {"token", "resource", "authorize", "login", "rotate_keys"} <= set(bundled.functions)
    for name, asset in bundled.functions.items():
        handler = asset / f"{name}_handler.py"
        assert handler.is_file(), name
        assert sources_without_runtime_bytecode(asset, compiler) == [], name
