"""Bytecode for the Lambda runtime's Python, compiled at bundling time.

Lambda mounts the layer at /opt and the function code at /var/task, both read-only, so a
module shipped without its `.pyc` is compiled from source at every cold start and the result
thrown away. Bytecode is specific to a Python minor version (its magic number), so it must be
compiled by the runtime's own version: this module finds that interpreter on the deploying
machine, and the bundlers ship source only (with a warning) where it is missing.

Unchecked-hash `.pyc` files (PEP 552) are used: Python loads them without reading the source
or comparing timestamps (asset zips do not keep meaningful ones), and the import system never
tries to rewrite them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

RUNTIME_PYTHON = "3.13"
# An explicit interpreter for the runtime's Python, when it is not found by itself.
PYTHON_ENV_VAR = "OAUTH_BUNDLE_PYTHON"
# Where each asset is mounted on Lambda: the paths tracebacks show for bundled code.
LAYER_MOUNT = "/opt/python"
FUNCTION_MOUNT = "/var/task"

_PROBE = (
    "import importlib.util, json, platform, sys; print(json.dumps({"
    "'version': platform.python_version(), 'implementation': sys.implementation.name, "
    "'cache_tag': sys.implementation.cache_tag, "
    "'magic': importlib.util.MAGIC_NUMBER.hex()}))"
)


@dataclass(frozen=True)
class Interpreter:
    """A Python that compiles bytecode the runtime loads."""

    path: str
    version: str  # e.g. 3.13.0
    cache_tag: str  # e.g. cpython-313, the middle of every .pyc name it writes
    magic: str  # hex of the magic number opening every .pyc it writes

    @property
    def bytecode_id(self) -> str:
        """What decides whether two bundles' bytecode is interchangeable (for asset hashes)."""
        return f"{self.cache_tag}-{self.magic}"


def probe(path: str) -> Interpreter | None:
    """The interpreter at `path`, if it runs (a pyenv shim for an inactive version does not)."""
    try:
        result = subprocess.run(  # noqa: S603 - a candidate interpreter and a fixed script
            [path, "-I", "-S", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return None
    if result.returncode != 0:
        return None
    facts = json.loads(result.stdout)
    if facts["implementation"] != "cpython":
        return None
    return Interpreter(path, facts["version"], facts["cache_tag"], facts["magic"])


def _candidates(version: str) -> list[str]:
    explicit = os.environ.get(PYTHON_ENV_VAR)
    found = [explicit] if explicit else []
    found.append(sys.executable)
    on_path = shutil.which(f"python{version}")
    if on_path:
        found.append(on_path)
    # Interpreters that version managers install but may not have put on PATH (pyenv's shim
    # fails for a version that is not selected), newest patch release first.
    managed = (
        Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions",
        Path.home() / ".local" / "share" / "uv" / "python",
    )
    for root in managed:
        pattern = f"*{version}.*/bin/python{version}"
        found.extend(str(p) for p in sorted(root.glob(pattern), reverse=True))
    return found


@cache
def find_python(version: str = RUNTIME_PYTHON) -> Interpreter | None:
    """A CPython of `version` (major.minor) on this machine: `$OAUTH_BUNDLE_PYTHON`, the
    running interpreter, `python3.13` on PATH, then pyenv's and uv's installations."""
    for candidate in _candidates(version):
        interpreter = probe(candidate)
        if interpreter and interpreter.version.rsplit(".", 1)[0] == version:
            return interpreter
        if candidate == os.environ.get(PYTHON_ENV_VAR):
            print(
                f"warning: ${PYTHON_ENV_VAR}={candidate} is not a working CPython {version}",
                file=sys.stderr,
            )
    return None


@cache
def warn_missing(version: str = RUNTIME_PYTHON) -> None:
    """Once per process: deploying without bytecode works, but every cold start pays for it."""
    print(
        f"warning: no Python {version} found (tried ${PYTHON_ENV_VAR}, python{version} on PATH, "
        f"pyenv and uv installations): bundling the Lambda layer and functions WITHOUT bytecode, "
        f"so every cold start compiles them (hundreds of milliseconds). Install Python {version} "
        f"or set {PYTHON_ENV_VAR} to one, then deploy again (docs/deploy.md).",
        file=sys.stderr,
    )


def compile_tree(tree: Path, interpreter: Interpreter, mount: str) -> None:
    """Write an unchecked-hash `.pyc` beside every `.py` under `tree`, naming the sources by
    where Lambda mounts them (`mount`) rather than by this machine's build directory."""
    subprocess.run(  # noqa: S603 - a probed interpreter, fixed arguments
        [
            interpreter.path,
            "-I",
            "-m",
            "compileall",
            # Serial: under a second for the whole layer, and no process pool to go wrong.
            "-q",
            "--invalidation-mode",
            "unchecked-hash",
            "-s",
            str(tree),
            "-p",
            mount,
            str(tree),
        ],
        check=True,
        timeout=600,
    )
