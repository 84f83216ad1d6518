"""The layer and the function code as `cdk deploy` ships them: the app synthesized by the real
CDK CLI with bundling on, for arm64 (tests/deployed/artifacts.py, shared with the deployed
suite), without Docker: manylinux wheels for the runtime's Python and architecture, the
project's package beside them, no boto3, and bytecode for the runtime's Python beside every
source file. The same layer bundled for this machine, which the deployed suite runs, differs
from it only in platform."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

import pytest

from infra.bytecode import RUNTIME_PYTHON, Interpreter, find_python
from tests.deployed.artifacts import ROOT, Artifacts, build, shared_root

pytestmark = pytest.mark.xdist_group("deployed")

# The name every .pyc for the runtime carries: <module>.cpython-313.pyc.
RUNTIME_CACHE_TAG = "cpython-" + RUNTIME_PYTHON.replace(".", "")
# PEP 552 flags: bit 0, hash-based; bit 1, check the source. Unchecked hash: 0b01.
UNCHECKED_HASH = 0b01
OUR_HANDLER = re.compile(r"^(\w+)_handler\.lambda_handler$")
ELF_MAGIC = b"\x7fELF"
ELF_MACHINES = {"arm64": 183, "x86_64": 62}  # e_machine: EM_AARCH64, EM_X86_64
RUNTIME_TAG = "cp" + RUNTIME_PYTHON.replace(".", "")
MANYLINUX_AARCH64 = re.compile(r"^manylinux(1|2010|2014|_\d+_\d+)_aarch64$")
ARCHITECTURE_NAMES = re.compile(r"aarch64|x86_64")


@dataclass(frozen=True)
class Bundled:
    layer: Path  # the deploy layer's asset (arm64)
    functions: dict[str, Path]  # handler module -> its code asset
    compiler: Interpreter | None


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Artifacts:
    return build(shared_root(tmp_path_factory))


@pytest.fixture(scope="module")
def bundled(artifacts: Artifacts) -> Bundled:
    resources = artifacts.template["Resources"].values()
    layers = [r for r in resources if r["Type"] == "AWS::Lambda::LayerVersion"]
    assert len(layers) == 1
    functions = {
        match.group(1): artifacts.asset(r["Properties"]["Code"], "function code")
        for r in resources
        if r["Type"] == "AWS::Lambda::Function"
        and (match := OUR_HANDLER.match(r["Properties"].get("Handler", "")))
    }
    layer = artifacts.asset(layers[0]["Properties"]["Content"], "layer content")
    return Bundled(layer, functions, find_python())


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


def distributions(site: Path) -> dict[str, str]:
    """Name -> version of every distribution installed in `site` (its dist-info METADATA)."""
    found = {}
    for metadata in site.glob("*.dist-info/METADATA"):
        headers = HeaderParser().parsestr(metadata.read_text())
        found[headers["Name"].lower().replace("_", "-")] = headers["Version"]
    return found


def wheel_problems(site: Path) -> list[str]:
    """Every WHEEL tag that is not pure Python, nor CPython 3.13 or the stable ABI (abi3, for a
    CPython no newer than 3.13) on manylinux aarch64."""
    problems = []
    for wheel in sorted(site.glob("*.dist-info/WHEEL")):
        text = wheel.read_text()
        pure = "Root-Is-Purelib: true" in text
        tags = [
            line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")
        ]
        for tag in tags or ["(none)"]:
            python, abi, platform = [*tag.split("-"), "", ""][:3]
            if pure and abi == "none" and platform == "any":
                continue
            runtime_abi = python == abi == RUNTIME_TAG
            stable_abi = (
                abi == "abi3"
                and re.fullmatch(r"cp3(\d+)", python) is not None
                and (int(python[3:]) <= int(RUNTIME_TAG[3:]))
            )
            if not (runtime_abi or stable_abi) or not MANYLINUX_AARCH64.match(platform):
                problems.append(f"{wheel.parent.name}: {tag}")
    return problems


def elf_machines(tree: Path) -> dict[str, int]:
    """Every ELF file under `tree` (shared objects and any other) -> its e_machine, with the
    header checked to be a 64-bit little-endian one."""
    machines = {}
    for path in sorted(p for p in tree.rglob("*") if p.is_file()):
        with path.open("rb") as file:
            header = file.read(20)
        if not header.startswith(ELF_MAGIC):
            assert not path.name.endswith(".so") and ".so." not in path.name, f"{path}: not ELF"
            continue
        assert header[4] == 2 and header[5] == 1, f"{path}: not a 64-bit little-endian ELF"
        machines[str(path.relative_to(tree))] = int.from_bytes(header[18:20], "little")
    return machines


def digests(tree: Path) -> dict[str, str]:
    """Relative path, with the architecture's name made neutral -> the file's SHA-256."""
    return {
        ARCHITECTURE_NAMES.sub("<arch>", str(p.relative_to(tree))): hashlib.sha256(
            p.read_bytes()
        ).hexdigest()
        for p in tree.rglob("*")
        if p.is_file()
    }


def test_layer_bundle_has_manylinux_wheels_and_oauth_core(bundled: Bundled) -> None:
    python = bundled.layer / "python"
    for package in ("oauth_core", "jwt", "cryptography", "aws_lambda_powertools"):
        assert (python / package).is_dir(), f"{package} is not in the layer"
    assert not (python / "boto3").exists()
    assert not (python / "botocore").exists()
    assert (python / "oauth_core" / "__init__.py").is_file()
    assert len(list((python / "oauth_core").rglob("*.py"))) > 10


def test_the_deploy_layer_holds_only_aarch64_wheels_for_cpython_313_or_abi3(
    bundled: Bundled,
) -> None:
    python = bundled.layer / "python"
    assert wheel_problems(python) == []
    machines = elf_machines(python)
    assert machines, "cryptography and cffi ship native code"
    wrong = {
        path: machine for path, machine in machines.items() if machine != ELF_MACHINES["arm64"]
    }
    assert wrong == {}, f"shared objects not for AArch64 (e_machine 183): {wrong}"


def test_the_host_layer_differs_from_the_deploy_layer_only_in_platform(
    artifacts: Artifacts, bundled: Bundled
) -> None:
    if not artifacts.python.version.startswith(f"{RUNTIME_PYTHON}."):
        pytest.skip(
            f"the host layer is for Python {artifacts.python.version}, not {RUNTIME_PYTHON}"
        )
    deployed, host = bundled.layer / "python", artifacts.host_layer / "python"
    assert distributions(host) == distributions(deployed)
    machines = set(elf_machines(host).values())
    assert machines == {ELF_MACHINES[artifacts.host_architecture]}, machines
    deployed_files, host_files = digests(deployed), digests(host)
    assert set(host_files) == set(deployed_files), set(host_files) ^ set(deployed_files)
    differing = sorted(p for p in host_files if host_files[p] != deployed_files[p])
    # Native code, and the metadata that describes its build (tags, hashes, SBOMs).
    beyond_platform = [p for p in differing if not p.endswith(".so") and ".dist-info/" not in p]
    assert beyond_platform == [], "the layers differ beyond their platform"
    assert any(p.endswith(".so") for p in differing), "no native code differs: same platform?"


def test_the_layer_names_no_path_of_the_machine_that_built_it(
    artifacts: Artifacts, bundled: Bundled
) -> None:
    # A path of the build (a shebang, a source path in bytecode) would make the layer's content
    # depend on who deployed it, under the same asset hash.
    local = [str(ROOT).encode(), str(artifacts.cloud_assembly.parent).encode()]
    naming = [
        str(path.relative_to(bundled.layer))
        for path in bundled.layer.rglob("*")
        if path.is_file() and any(part in path.read_bytes() for part in local)
    ]
    assert naming == []


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
