"""Asset hashes and the fallback: an asset is rebuilt (and deployed anew) whenever what it
holds would differ (the wheels' architecture, the Python that compiled its bytecode, whether
it has any), and a machine without the runtime's Python still deploys, without bytecode and
with a warning."""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from infra import bytecode
from infra.bundling import asset_hash, function_code, layer_asset_hash
from infra.bytecode import PYTHON_ENV_VAR, RUNTIME_PYTHON, Interpreter, find_python, probe
from infra.config import StackConfig

PY313_0 = Interpreter("/opt/py/3.13.0/bin/python3.13", "3.13.0", "cpython-313", "f30d0d0a")
PY313_1 = Interpreter("/opt/py/3.13.1/bin/python3.13", "3.13.1", "cpython-313", "f30d0d0a")
PY314 = Interpreter("/opt/py/3.14.0/bin/python3.14", "3.14.0", "cpython-314", "2b0e0d0a")
ARM64 = StackConfig(architecture="arm64").pip_platforms
X86_64 = StackConfig(architecture="x86_64").pip_platforms


@pytest.fixture
def function_source(tmp_path: Path) -> Path:
    source = tmp_path / "functions" / "example"
    source.mkdir(parents=True)
    (source / "example_handler.py").write_text("def lambda_handler(event, context):\n    pass\n")
    return source


def test_layer_hash_differs_by_architecture() -> None:
    assert layer_asset_hash(ARM64, PY313_0) != layer_asset_hash(X86_64, PY313_0)
    assert layer_asset_hash(ARM64, None) != layer_asset_hash(X86_64, None)


def test_hashes_differ_with_the_bytecode_and_the_python_that_compiled_it(
    function_source: Path,
) -> None:
    compilers = (None, PY313_0, PY314)
    assert len({layer_asset_hash(ARM64, c) for c in compilers}) == len(compilers)
    assert len({asset_hash(function_source, c) for c in compilers}) == len(compilers)


def test_hashes_are_stable_and_a_patch_release_compiles_the_same_bytecode(
    function_source: Path,
) -> None:
    assert layer_asset_hash(ARM64, PY313_0) == layer_asset_hash(ARM64, PY313_1)
    assert asset_hash(function_source, PY313_0) == asset_hash(function_source, PY313_1)


def test_a_function_hash_follows_its_sources_not_local_bytecode(function_source: Path) -> None:
    before = asset_hash(function_source, PY313_0)
    cache = function_source / "__pycache__"
    cache.mkdir()
    (cache / "example_handler.cpython-311.pyc").write_bytes(b"left by a test run")
    assert asset_hash(function_source, PY313_0) == before
    (function_source / "example_handler.py").write_text("def lambda_handler(e, c):\n    pass\n")
    assert asset_hash(function_source, PY313_0) != before


def test_only_an_interpreter_of_the_asked_python_compiles(monkeypatch: pytest.MonkeyPatch) -> None:
    assert probe(str(Path(sys.executable).parent / "no-such-python")) is None
    monkeypatch.setenv(PYTHON_ENV_VAR, sys.executable)
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    found = find_python.__wrapped__(running)
    assert found is not None
    assert found.version.startswith(f"{running}.")
    assert found.cache_tag == sys.implementation.cache_tag
    assert find_python.__wrapped__("3.99") is None


def test_without_the_runtimes_python_a_function_ships_source_only_with_a_warning(
    tmp_path: Path,
    function_source: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(bytecode, "find_python", lambda version=RUNTIME_PYTHON: None)
    bytecode.warn_missing.cache_clear()
    outdir = tmp_path / "cdk.out"
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Example")
    lambda_.Function(
        stack,
        "Example",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="example_handler.lambda_handler",
        code=function_code(function_source, skip_bundling=False),
    )
    template = app.synth().get_stack_by_name("Example").template
    (function,) = (
        r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    )
    asset = outdir / f"asset.{function['Properties']['Code']['S3Key'].removesuffix('.zip')}"
    assert (asset / "example_handler.py").is_file()
    assert not list(asset.rglob("*.pyc"))
    assert f"no Python {RUNTIME_PYTHON} found" in capsys.readouterr().err
