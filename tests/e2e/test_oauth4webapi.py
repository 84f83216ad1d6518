"""An outside JavaScript client, oauth4webapi from npm run with Node, against the local stack: a
client authenticated with private_key_jwt pushes its authorization request (PAR), the user signs
in (the test plays the browser), and the client redeems the code with DPoP, calls the bundled
API with a DPoP proof, refreshes (its refresh token bound to its DPoP key) and calls again. On a
stack that requires DPoP nonces, so the library's use_dpop_nonce handling is exercised too.
The server is adapted to the library, never the other way round (issue 15, Show)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.e2e.conftest import LocalStack, local_stack
from tests.e2e.flows import Browser
from tests.e2e.test_security_client_credentials import oauthctl

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("oauth4webapi_client.mjs")
CLIENT = "node-app"
REDIRECT = "http://127.0.0.1:8402/callback"

pytestmark = pytest.mark.skipif(
    not (ROOT / "node_modules" / "oauth4webapi").exists() or shutil.which("node") is None,
    reason="oauth4webapi is installed by `npm ci` (make test does it); Node is needed",
)


@pytest.fixture(scope="module")
def nonce_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(tmp_path_factory, "local-stack-oauth4webapi", {"DPOP_NONCES": "on"}) as s:
        yield s


def client_key() -> tuple[dict[str, Any], dict[str, Any]]:
    """The client's key pair as JWKs (private, public), with a kid."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    private = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private_key))
    private["kid"] = "node-app-key-1"
    public = {k: v for k, v in private.items() if k != "d"}
    return private, public


def test_oauth4webapi_par_dpop_and_private_key_jwt_end_to_end(
    nonce_stack: LocalStack, tmp_path: Path
) -> None:
    stack = nonce_stack
    private, public = client_key()
    keys_file = tmp_path / "jwks.json"
    keys_file.write_text(json.dumps({"keys": [public]}))
    made = oauthctl(
        stack, "clients", "create", CLIENT, "--auth-method", "private_key_jwt",
        "--jwks", str(keys_file), "--redirect-uri", REDIRECT,
        "--grant-type", "authorization_code", "--grant-type", "refresh_token",
        "--scope", "openid offline_access read:data", "--first-party",
        "--dpop-bound", "--require-par",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "ISSUER": stack.issuer,
        "CLIENT_ID": CLIENT,
        "CLIENT_KEY": json.dumps(private),
        "REDIRECT_URI": REDIRECT,
    }
    node = subprocess.Popen(
        [shutil.which("node") or "node", str(SCRIPT)],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert node.stdout is not None and node.stdin is not None
        first = node.stdout.readline()
        assert first, node.stderr.read() if node.stderr else ""
        pushed = json.loads(first)
        assert pushed["expires_in"] == 60
        browser = Browser(stack)
        final = browser.until_client(browser.get(pushed["authorize"]))
        assert final.status_code == 303, final.text
        callback = final.headers["Location"]
        assert callback.startswith(REDIRECT)
        node.stdin.write(callback + "\n")
        node.stdin.flush()
        out, err = node.communicate(timeout=60)
    finally:
        if node.poll() is None:
            node.kill()
    assert node.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    # The library met the nonce requirement at the first token-endpoint call it made (PAR).
    assert result["nonce_retries"], result
    assert result["token_type"].lower() == "dpop"
    assert result["refreshed_token_type"].lower() == "dpop"
    bound = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert bound["cnf"]["jkt"] and bound["client_id"] == CLIENT
    refreshed = jwt.decode(result["refreshed_access_token"], options={"verify_signature": False})
    assert refreshed["cnf"] == bound["cnf"]
    assert result["first_call"]["status"] == 200, result
    assert result["second_call"]["status"] == 200, result
    assert result["first_call"]["body"]["client_id"] == CLIENT
    assert result["rotated"] is True
    assert result["id_token_sub"] == result["first_call"]["body"]["sub"]
