"""The layers of oauth_core, and the import rules that hold them (docs/architecture.md).

A module may import modules of a lower layer, or of its own folder; arrows only point down.
Imports made only for type checking (under `if TYPE_CHECKING:`) are not dependencies.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import oauth_core
from tests.support import SERVICE_SECRET

PACKAGE = Path(oauth_core.__file__).parent
ROOT = Path(__file__).resolve().parents[2]

# Lowest first. A folder is one layer; the top-level modules are the base.
LAYERS: dict[str, int] = {
    "": 0,  # constants, config, errors, clock, models, ports, tables, keys, metrics, logs
    "storage": 1,  # adapters of the ports: the only modules that may import boto3
    "http": 1,  # requests, responses, forms, routes, CORS, pages, answers, dispatch
    "rules": 2,
    "tokens": 3,
    "grants": 4,
    "admin": 4,
    "endpoints": 5,
    "wiring": 6,  # builds everything; nothing in the core imports it
}


def folder_of(module: str) -> str:
    parts = module.split(".")[1:]  # drop "oauth_core"
    if not parts:
        return ""
    if parts[0] == "wiring":
        return "wiring"
    return parts[0] if parts[0] in LAYERS else ""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts).removesuffix(".__init__")


def runtime_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import that runs, at module level or inside functions."""
    tree = ast.parse(path.read_text())
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in ast.walk(node):
                type_only.add(id(inner))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "oauth_core":
                found.extend((node.lineno, f"oauth_core.{a.name}") for a in node.names)
            else:
                found.append((node.lineno, node.module))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_the_layers(path: Path) -> None:
    importer = folder_of(module_name(path))
    for line, imported in runtime_imports(path):
        if not imported.startswith("oauth_core"):
            continue
        target = folder_of(imported)
        same_folder = target == importer and importer != ""
        assert same_folder or LAYERS[target] < LAYERS[importer] or (target == importer == ""), (
            f"{path.relative_to(PACKAGE)}:{line} imports {imported} ({target or 'base'} layer) "
            f"from the {importer or 'base'} layer"
        )


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_storage_adapters_import_the_aws_sdk(path: Path) -> None:
    if folder_of(module_name(path)) == "storage":
        return
    sdk = [m for _, m in runtime_imports(path) if m.split(".")[0] in ("boto3", "botocore")]
    assert not sdk, f"{path.relative_to(PACKAGE)} imports {sdk}"


def test_nothing_in_the_core_imports_the_wiring() -> None:
    for path in MODULES:
        if module_name(path) == "oauth_core.wiring":
            continue
        assert "oauth_core.wiring" not in {m for _, m in runtime_imports(path)}, path


def test_functions_import_only_the_wiring() -> None:
    for path in ROOT.glob("functions/*/*_handler.py"):
        if path.parent.name in ("rotate_keys", "audit_forwarder", "authorizer"):
            # Not behind the API's routes: AWS services' events (the authorizer's: API
            # Gateway's authorization requests, with no routes or endpoints to wire).
            continue
        core = {m for _, m in runtime_imports(path) if m.startswith("oauth_core")}
        assert core == {"oauth_core.wiring"}, path


CHILD = r"""
import json, sys
sys.path[:0] = [{code!r}]
import resource_handler
event = json.loads({event!r})
answer = resource_handler.lambda_handler(event, None)
loaded = sorted(m for m in sys.modules if m in {forbidden!r})
print(json.dumps({{"status": answer["statusCode"], "loaded": loaded}}))
"""


def test_the_resource_function_loads_no_aws_sdk_no_signing_code_and_no_html() -> None:
    forbidden = [
        # (Powertools imports the botocore package to tag its user agent: 0.4 ms, no client.)
        "boto3",
        "botocore.session",
        "botocore.client",
        "oauth_core.http.pages",
        "oauth_core.keys",
        "oauth_core.tokens.jws",
        "oauth_core.tokens.issuer",
        "oauth_core.tokens.access_token",
        "oauth_core.tokens.id_token",
        "oauth_core.storage.aws",
    ]
    event = (ROOT / "tests" / "events" / "resource_get.json").read_text()
    script = CHILD.format(
        code=str(ROOT / "functions" / "resource"), event=event, forbidden=forbidden
    )
    env = {"POWERTOOLS_METRICS_DISABLED": "true", "OAUTH_ISSUER": "https://auth.example.com"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 401  # no token: answered without a key set
    assert answer["loaded"] == []


TOKEN_CHILD = r"""
import json, sys
sys.path[:0] = [{code!r}]
import token_handler
from oauth_core.wiring import endpoints_for, memory_components
components = memory_components()
components.registry.create({{
    "client_id": "svc", "client_secret": {secret!r}, "grant_types": ["client_credentials"],
    "scope": "read:data",
}})
token_handler.lambda_handler.install(endpoints_for("token", components))
event = json.loads({event!r})
answer = token_handler.lambda_handler(event, None)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {forbidden!r} or m in {forbidden!r})
print(json.dumps({{"status": answer["statusCode"], "loaded": loaded}}))
"""


def test_the_token_function_issues_a_token_without_pyjwt_powertools_or_html() -> None:
    # It signs with oauth_core.tokens.jws: PyJWT (tens of milliseconds to import) is for
    # verification, which only revocation and introspection do in this function. A token
    # issued logs nothing, so Powertools' Logger is not loaded either (observability).
    forbidden = ["jwt", "aws_lambda_powertools", "oauth_core.http.pages"]
    event = (ROOT / "tests" / "events" / "token_client_credentials.json").read_text()
    # The sample event's Authorization header carries tests.support's service client.
    script = TOKEN_CHILD.format(
        code=str(ROOT / "functions" / "token"),
        event=event,
        forbidden=forbidden,
        secret=SERVICE_SECRET,
    )
    env = {"POWERTOOLS_METRICS_DISABLED": "true", "OAUTH_ISSUER": "https://auth.example.com"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200, result.stdout
    assert answer["loaded"] == []
