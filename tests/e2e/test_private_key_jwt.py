"""private_key_jwt (RFC 7523, OpenID Connect Core 9) over HTTP against the local stack: clients
whose keys are registered inline or published at a jwks_uri (served here from a loopback
server, which the local stack may fetch), Authlib as a client, and SECURITY E11-E14."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from cryptography.hazmat.primitives import serialization
from joserfc.jwk import ECKey

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import session_from
from tests.signing_clients import Signer, assertion_form, hmac_signed, unsigned

EC = Signer("e2e-ec")
RSA = Signer("e2e-rsa", alg="RS256")
OTHER = Signer("e2e-other")  # registered by another client
PUBLISHED = Signer("e2e-published")  # served at a jwks_uri
TOKEN_HEADERS = {"cache-control": "no-store", "pragma": "no-cache"}
CLIENT_CACHE_TTL = 2  # tests/e2e/conftest.py sets it for the test stacks


def register(stack: LocalStack, client_id: str, **keys: Any) -> str:
    from oauthctl.admin import Admin

    Admin.connect(endpoint_url=stack.aws_endpoint).clients().create(
        {
            "client_id": client_id,
            "token_endpoint_auth_method": "private_key_jwt",
            "grant_types": ["client_credentials"],
            "scope": "read:data",
            **(keys or {"jwks": {"keys": [EC.public_jwk, RSA.public_jwk]}}),
        },
        replace=True,
    )
    return client_id


def token(
    stack: LocalStack, assertion: str, http: requests.Session | None = None, **extra: str
) -> requests.Response:
    form = assertion_form(assertion, grant_type="client_credentials", **extra)
    return (http or requests.Session()).post(f"{stack.issuer}/token", data=form, timeout=10)


def assert_invalid_client(response: requests.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"
    for name, value in TOKEN_HEADERS.items():
        assert response.headers[name] == value
    assert "WWW-Authenticate" not in response.headers  # no Basic challenge: none was used


@pytest.fixture(scope="module")
def key_host() -> Iterator[tuple[str, dict[str, Any]]]:
    """A loopback server of JWK Sets, as a client publishes its keys: path -> JWK Set, and
    `hits` counting the fetches."""
    served: dict[str, Any] = {"hits": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served["hits"] += 1
            document = served.get(self.path)
            body = json.dumps(document).encode() if document is not None else b"not found"
            self.send_response(200 if document is not None else 404)
            self.send_header("content-type", "application/jwk-set+json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", served
    server.shutdown()


def test_metadata_offers_private_key_jwt_with_asymmetric_algorithms(stack: LocalStack) -> None:
    metadata = requests.get(f"{stack.issuer}/.well-known/openid-configuration", timeout=10).json()
    for endpoint in ("token", "revocation", "introspection"):
        assert "private_key_jwt" in metadata[f"{endpoint}_endpoint_auth_methods_supported"]
        algs = metadata[f"{endpoint}_endpoint_auth_signing_alg_values_supported"]
        assert algs == ["ES256", "PS256", "RS256"]


def test_authlib_client_credentials_introspection_and_revocation_with_private_key_jwt(
    stack: LocalStack,
) -> None:
    client_id = register(stack, "pkjwt-authlib")
    metadata = requests.get(f"{stack.issuer}/.well-known/oauth-authorization-server", timeout=10)
    endpoints = metadata.json()
    private_pem = RSA.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    session = OAuth2Session(
        client_id=client_id,
        client_secret=private_pem,  # Authlib signs assertions with it (RS256 by default)
        scope="read:data",
        # aud = the token endpoint; for revocation, aud = the URL called (/revoke): both are
        # accepted there.
        token_endpoint_auth_method=PrivateKeyJWT(endpoints["token_endpoint"]),
        revocation_endpoint_auth_method=PrivateKeyJWT(),
    )
    issued = session.fetch_token(endpoints["token_endpoint"], grant_type="client_credentials")
    assert issued["token_type"].lower() == "bearer" and issued["scope"] == "read:data"
    assert "refresh_token" not in issued
    # Authlib makes each assertion valid for an hour, with a fresh jti: accepted again and again.
    again = session.fetch_token(endpoints["token_endpoint"], grant_type="client_credentials")
    assert again["access_token"] != issued["access_token"]

    introspected = session.introspect_token(
        endpoints["introspection_endpoint"], token=issued["access_token"]
    )
    assert introspected.status_code == 200, introspected.text
    assert introspected.json()["active"] is True
    assert introspected.json()["client_id"] == client_id

    revoked = session.revoke_token(endpoints["revocation_endpoint"], token=issued["access_token"])
    assert revoked.status_code == 200, revoked.text
    after = session.introspect_token(
        endpoints["introspection_endpoint"], token=issued["access_token"]
    )
    assert after.json() == {"active": False}
    resource = requests.get(
        f"{stack.issuer}/resource",
        headers={"Authorization": f"Bearer {again['access_token']}"},
        timeout=10,
    )
    assert resource.status_code == 200


def test_authlib_with_an_ec_key_as_docs_integrate_shows(stack: LocalStack) -> None:
    """docs/integrate.md's Authlib example: an EC key as a joserfc key, ES256, a kid."""
    client_id = register(stack, "pkjwt-authlib-ec")
    token_endpoint = f"{stack.issuer}/token"
    pem = EC.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    signing: dict[str, Any] = {"alg": "ES256", "headers": {"kid": EC.kid}}
    session = OAuth2Session(
        client_id=client_id,
        client_secret=ECKey.import_key(pem),
        token_endpoint_auth_method=PrivateKeyJWT(token_endpoint, **signing),
        revocation_endpoint_auth_method=PrivateKeyJWT(token_endpoint, **signing),
    )
    issued = session.fetch_token(token_endpoint, grant_type="client_credentials", scope="read:data")
    assert issued["scope"] == "read:data"
    revoked = session.revoke_token(f"{stack.issuer}/revoke", token=issued["access_token"])
    assert revoked.status_code == 200, revoked.text


def test_e11_an_assertion_is_accepted_once(stack: LocalStack) -> None:
    client_id = register(stack, "pkjwt-once")
    assertion = EC.assertion(client_id, f"{stack.issuer}/token")
    assert token(stack, assertion).status_code == 200
    replayed = token(stack, assertion)
    assert_invalid_client(replayed)
    assert replayed.json()["error_description"] == "the client assertion was used before"
    # Nor at another endpoint of the same server.
    revoke = requests.post(
        f"{stack.issuer}/revoke", data={**assertion_form(assertion), "token": "x"}, timeout=10
    )
    assert_invalid_client(revoke)
    records = [json.loads(line)["audit"] for line in stack.audit_file.read_text().splitlines()]
    reasons = [
        r["detail"]["reason"]
        for r in records
        if r["event"] == "client_auth.failure" and r.get("client_id") == client_id
    ]
    assert reasons == ["assertion_replayed", "assertion_replayed"]
    assert assertion.split(".")[2] not in stack.audit_file.read_text()
    assert assertion.split(".")[2] not in stack.output.read_text()


def test_e12_alg_none_and_hmac_with_the_public_key_are_refused(stack: LocalStack) -> None:
    client_id = register(stack, "pkjwt-algs")
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": f"{stack.issuer}/token", "iat": now,
              "exp": now + 60}  # fmt: skip
    forgeries = [
        unsigned({"alg": "none"}, {**claims, "jti": "none-1"}),
        unsigned({"alg": "none", "kid": EC.kid}, {**claims, "jti": "none-2"}, signature=b"x"),
        hmac_signed({**claims, "jti": "hs-1"}, RSA.public_pem(), RSA.kid),
        hmac_signed({**claims, "jti": "hs-2"}, json.dumps(EC.public_jwk).encode(), EC.kid),
        unsigned({"alg": "ES384", "kid": EC.kid}, {**claims, "jti": "es384"}, signature=b"s" * 96),
    ]
    for forged in forgeries:
        assert_invalid_client(token(stack, forged))
    assert token(stack, EC.assertion(client_id, f"{stack.issuer}/token")).status_code == 200


def test_e13_audience_issuer_subject_and_time_are_enforced(stack: LocalStack) -> None:
    client_id = register(stack, "pkjwt-claims")
    endpoint = f"{stack.issuer}/token"
    now = int(time.time())
    bad = {
        "wrong aud": EC.assertion(client_id, "https://other-server.example/token"),
        "expired": EC.assertion(client_id, endpoint, now=now - 600, lifetime=60),
        "too far ahead": EC.assertion(client_id, endpoint, lifetime=7200),
        "too old": EC.assertion(client_id, endpoint, now=now - 900, lifetime=3600),
        "iss is not sub": EC.assertion(client_id, endpoint, iss="pkjwt-once"),
        "no jti": EC.assertion(client_id, endpoint, drop=("jti",)),
        "no exp": EC.assertion(client_id, endpoint, drop=("exp",)),
    }
    for what, assertion in bad.items():
        response = token(stack, assertion)
        assert response.status_code == 401, what
        assert response.json()["error"] == "invalid_client", what
    # A client_id beside the assertion must be the same client.
    mismatch = token(stack, EC.assertion(client_id, endpoint), client_id="pkjwt-once")
    assert mismatch.status_code == 400 and mismatch.json()["error"] == "invalid_request"
    for audience in (stack.issuer, endpoint, [endpoint, "https://another.example"]):
        assert token(stack, EC.assertion(client_id, audience)).status_code == 200, audience


def test_e14_someone_elses_key_or_an_unregistered_key_is_refused(stack: LocalStack) -> None:
    client_id = register(stack, "pkjwt-keys")
    register(stack, "pkjwt-keys-other", jwks=OTHER.jwks())
    endpoint = f"{stack.issuer}/token"
    assert_invalid_client(token(stack, OTHER.assertion(client_id, endpoint)))
    assert_invalid_client(token(stack, Signer(EC.kid).assertion(client_id, endpoint)))
    assert_invalid_client(token(stack, Signer("never-registered").assertion(client_id, endpoint)))
    # A client registered for a secret cannot present an assertion, and the other way round.
    from oauthctl.admin import Admin

    Admin.connect(endpoint_url=stack.aws_endpoint).clients().create(
        {
            "client_id": "pkjwt-keys-secret",
            "client_secret": "pkjwt-keys-secret-0123456789abcdefghijklmnop",
            "grant_types": ["client_credentials"],
        },
        replace=True,
    )
    assert_invalid_client(token(stack, EC.assertion("pkjwt-keys-secret", endpoint)))
    secret = requests.post(
        f"{stack.issuer}/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, "a-secret-it-never-had-0123456789abcdef"),
        timeout=10,
    )
    assert secret.status_code == 401 and secret.json()["error"] == "invalid_client"
    assert token(stack, OTHER.assertion("pkjwt-keys-other", endpoint)).status_code == 200


def test_e14_keys_published_at_a_jwks_uri_authenticate_and_a_bad_jwks_uri_is_refused(
    stack: LocalStack, key_host: tuple[str, dict[str, Any]]
) -> None:
    base, served = key_host
    served["/signer/jwks.json"] = PUBLISHED.jwks()
    client_id = register(stack, "pkjwt-uri", jwks_uri=f"{base}/signer/jwks.json")
    endpoint = f"{stack.issuer}/token"
    assert token(stack, PUBLISHED.assertion(client_id, endpoint)).status_code == 200
    hits = served["hits"]
    assert token(stack, PUBLISHED.assertion(client_id, endpoint)).status_code == 200
    assert served["hits"] == hits  # kept, not fetched per request
    # Assertions naming keys the set does not hold cost the host at most one more fetch.
    for n in range(5):
        assert_invalid_client(token(stack, Signer(f"made-up-{n}").assertion(client_id, endpoint)))
    assert served["hits"] <= hits + 1

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    unreachable = {
        "pkjwt-uri-404": f"{base}/nothing-here.json",
        "pkjwt-uri-closed": f"http://127.0.0.1:{closed}/jwks.json",
        "pkjwt-uri-private": "https://10.255.255.1/jwks.json",  # never called
        "pkjwt-uri-metadata": "https://169.254.169.254/latest/meta-data/",
    }
    for unusable, url in unreachable.items():
        register(stack, unusable, jwks_uri=url)
        assert_invalid_client(token(stack, PUBLISHED.assertion(unusable, endpoint)))


def test_e9_refused_assertions_never_lock_the_client_out_from_elsewhere(
    stack: LocalStack,
) -> None:
    client_id = register(stack, "pkjwt-lockout")
    endpoint = f"{stack.issuer}/token"
    attacker, real = session_from("127.0.0.51"), session_from("127.0.0.52")
    statuses = [
        token(stack, OTHER.assertion(client_id, endpoint), attacker).status_code for _ in range(12)
    ]
    assert statuses[-1] == 429
    assert token(stack, EC.assertion(client_id, endpoint), real).status_code == 200


def test_oauthctl_registers_keys_inline_or_by_url_and_update_switches_between_them(
    stack: LocalStack, key_host: tuple[str, dict[str, Any]], tmp_path: Path
) -> None:
    base, served = key_host
    served["/cli/jwks.json"] = PUBLISHED.jwks()
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [RSA.public_jwk]}))  # PyJWT's, with key_ops
    client_id, endpoint = "pkjwt-cli", f"{stack.issuer}/token"
    created = oauthctl(
        stack, "clients", "create", client_id, "--auth-method", "private_key_jwt",
        "--jwks", str(jwks_file), "--grant-type", "client_credentials", "--scope", "read:data",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "client_secret" not in created.stdout + created.stderr
    assert token(stack, RSA.assertion(client_id, endpoint)).status_code == 200

    # Each change reaches the token function once its client cache turns over
    # (CLIENT_CACHE_TTL=2 s in the test stacks): waited out, so that no refused assertion is
    # sent meanwhile to count against the client from here (E9).
    switched = oauthctl(
        stack, "clients", "update", client_id, "--jwks-uri", f"{base}/cli/jwks.json"
    )
    assert switched.returncode == 0, switched.stderr
    time.sleep(CLIENT_CACHE_TTL + 0.5)
    assert token(stack, PUBLISHED.assertion(client_id, endpoint)).status_code == 200
    assert token(stack, RSA.assertion(client_id, endpoint)).status_code == 401

    back = oauthctl(stack, "clients", "update", client_id, "--jwks", str(jwks_file))
    assert back.returncode == 0, back.stderr
    time.sleep(CLIENT_CACHE_TTL + 0.5)
    assert token(stack, RSA.assertion(client_id, endpoint)).status_code == 200
    assert token(stack, PUBLISHED.assertion(client_id, endpoint)).status_code == 401
    refused = oauthctl(stack, "clients", "rotate-secret", client_id)
    assert refused.returncode == 2 and "has no secret" in refused.stderr


def oauthctl(stack: LocalStack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oauthctl.cli", "--endpoint-url", stack.aws_endpoint, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
