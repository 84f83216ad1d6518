"""The layer as CDK bundles it for the default architecture (bytecode included where this
machine has the runtime's Python), zipped as Lambda stores it."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from infra.bundling import bundle_layer
from infra.bytecode import RUNTIME_PYTHON, find_python
from infra.config import StackConfig


def zipped_layer_mb() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "layer"
        bundle_layer(root, StackConfig().pip_platforms, find_python(RUNTIME_PYTHON))
        archive = Path(tmp) / "layer.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    zipped.write(path, path.relative_to(root))
        return archive.stat().st_size / 1024 / 1024
