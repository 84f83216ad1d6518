"""The layer bundles without Docker: manylinux wheels for the runtime's Python and
architecture, the project's package beside them, and no boto3."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.bundling import bundle_layer
from infra.config import StackConfig


@pytest.mark.parametrize("architecture", ["arm64"])
def test_layer_bundle_has_manylinux_wheels_and_oauth_core(
    tmp_path: Path, architecture: str
) -> None:
    config = StackConfig(architecture=architecture)
    bundle_layer(tmp_path, config.pip_platforms)
    python = tmp_path / "python"
    for package in ("oauth_core", "jwt", "cryptography", "aws_lambda_powertools"):
        assert (python / package).is_dir(), package
    assert not (python / "boto3").exists()
    assert (python / "oauth_core" / "endpoints" / "token.py").is_file()
    wheels = {p.read_text() for p in python.glob("*.dist-info/WHEEL")}
    native = [w for w in wheels if "Root-Is-Purelib: false" in w]
    assert native, "cryptography and cffi ship native code"
    for wheel in native:
        tags = [line for line in wheel.splitlines() if line.startswith("Tag:")]
        assert all("manylinux" in t and "aarch64" in t for t in tags), tags
        assert any("cp313" in t or "abi3" in t for t in tags), tags
    assert not list(python.rglob("__pycache__"))
