"""SECURITY.md rows F1-F6: the sample protected API (RFC 6750), over HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from oauth_core.keys import KeySet, SigningKey
from tests.e2e.conftest import LocalStack
from tests.e2e.flows import service_token


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def keys(stack: LocalStack) -> KeySet:
    from oauthctl.admin import Admin

    return Admin.connect(endpoint_url=stack.aws_endpoint).key_store().load()


@pytest.fixture(scope="module")
def current_key(stack: LocalStack, keys: KeySet) -> SigningKey:
    """An ES256 key the server publishes now (other tests rotate keys; the token function
    serves its cached set), preferring the one that signs."""
    served = {
        k["kid"]
        for k in requests.get(f"{stack.issuer}/.well-known/jwks.json", timeout=5).json()["keys"]
    }
    candidates = [k for k in keys.keys if k.alg == "ES256" and k.kid in served]
    return sorted(candidates, key=lambda k: k.status != "current")[0]


def claims_for(stack: LocalStack, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": stack.issuer,
        "sub": "forged",
        "aud": f"{stack.issuer}/resource",
        "client_id": "demo-service",
        "scope": "read:data write:data",
        "iat": now,
        "exp": now + 300,
        "jti": "forged-jti",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def sign(claims: dict[str, Any], key: SigningKey, **headers: Any) -> str:
    all_headers = {"kid": key.kid, "typ": "at+jwt", **headers}
    return jwt.encode(claims, key.private_key, algorithm=key.alg, headers=all_headers)


def call(
    stack: LocalStack, token: str | None, scheme: str = "Bearer", method: str = "GET"
) -> requests.Response:
    headers = {"Authorization": f"{scheme} {token}"} if token is not None else {}
    return requests.request(method, f"{stack.issuer}/resource", headers=headers, timeout=5)


def assert_invalid_token(response: requests.Response) -> None:
    assert response.status_code == 401, response.text
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="invalid_token"' in challenge


def test_f1_no_token_is_401_with_bare_bearer_challenge(stack: LocalStack) -> None:
    response = call(stack, None)
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer realm=")
    assert "error=" not in challenge


def test_f1_other_scheme_counts_as_no_token(stack: LocalStack) -> None:
    response = call(stack, "dXNlcjpwYXNz", scheme="Basic")
    assert response.status_code == 401
    assert "error=" not in response.headers["WWW-Authenticate"]


def test_f2_expired_token(stack: LocalStack, current_key: SigningKey) -> None:
    past = int(time.time()) - 3600
    assert_invalid_token(call(stack, sign(claims_for(stack, iat=past, exp=past + 60), current_key)))


@pytest.mark.parametrize(
    "token", ["abc", "a.b.c", "eyJhbGciOiJFUzI1NiJ9..", "x" * 9000, "e30.e30.e30"]
)
def test_f2_malformed_token(stack: LocalStack, token: str) -> None:
    assert_invalid_token(call(stack, token))


def test_f2_wrongly_signed_token(stack: LocalStack, current_key: SigningKey) -> None:
    impostor = SigningKey.generate("ES256", "current", 0)
    forged = jwt.encode(
        claims_for(stack),
        impostor.private_key,
        algorithm="ES256",
        headers={"kid": current_key.kid, "typ": "at+jwt"},
    )
    assert_invalid_token(call(stack, forged))


def test_f2_alg_none(stack: LocalStack, current_key: SigningKey) -> None:
    header = {"alg": "none", "typ": "at+jwt", "kid": current_key.kid}
    token = (
        f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims_for(stack)).encode())}."
    )
    assert_invalid_token(call(stack, token))


def test_f2_hmac_signed_with_the_public_key(stack: LocalStack, current_key: SigningKey) -> None:
    public_pem = current_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "at+jwt", "kid": current_key.kid}
    signing_input = (
        f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims_for(stack)).encode())}"
    )
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert_invalid_token(call(stack, f"{signing_input}.{b64url(signature)}"))


def test_f2_unknown_crit_header(stack: LocalStack, current_key: SigningKey) -> None:
    token = sign(claims_for(stack), current_key, crit=["urn:example:must-understand"])
    assert_invalid_token(call(stack, token))


def test_f2_unencoded_payload_header(stack: LocalStack, current_key: SigningKey) -> None:
    assert_invalid_token(call(stack, sign(claims_for(stack), current_key, b64=False)))


def test_f2_embedded_jwk_header(stack: LocalStack) -> None:
    attacker = SigningKey.generate("ES256", "current", 0)
    token = sign(claims_for(stack), attacker, jwk=attacker.public_jwk())
    assert_invalid_token(call(stack, token))


def test_f2_jku_header(stack: LocalStack, current_key: SigningKey) -> None:
    attacker = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(
        claims_for(stack),
        attacker,
        algorithm="ES256",
        headers={"kid": current_key.kid, "typ": "at+jwt", "jku": "https://attacker.example/jwks"},
    )
    assert_invalid_token(call(stack, token))


@pytest.mark.parametrize("typ", ["JWT", "id_token", None])
def test_f2_wrong_typ(stack: LocalStack, current_key: SigningKey, typ: str | None) -> None:
    # typ=None makes pyjwt leave the header out altogether.
    headers: dict[str, Any] = {"kid": current_key.kid, "typ": typ}
    token = jwt.encode(
        claims_for(stack), current_key.private_key, algorithm="ES256", headers=headers
    )
    assert jwt.get_unverified_header(token).get("typ") == typ
    assert_invalid_token(call(stack, token))


def test_f2_the_real_token_passes(stack: LocalStack, current_key: SigningKey) -> None:
    """The forgeries above fail for their fault alone: the same claims, properly signed, pass."""
    assert call(stack, sign(claims_for(stack), current_key)).status_code == 200


def test_f3_valid_token_without_needed_scope_is_403(stack: LocalStack) -> None:
    response = call(stack, service_token(stack, "read:data"), method="POST")
    assert response.status_code == 403
    challenge = response.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="write:data"' in challenge


def test_f4_token_in_query_string_is_refused(stack: LocalStack) -> None:
    token = service_token(stack)
    response = requests.get(f"{stack.issuer}/resource?access_token={token}", timeout=5)
    assert response.status_code in (400, 401)
    assert response.status_code != 200
    # Even alongside a valid header, a token in the URL is refused.
    both = requests.get(
        f"{stack.issuer}/resource?access_token={token}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert both.status_code == 400


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_f5_scheme_name_is_case_insensitive(stack: LocalStack, scheme: str) -> None:
    assert call(stack, service_token(stack), scheme=scheme).status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "https://other-api.example.com"},
        {"aud": None},
        {"iss": "https://evil.example.com"},
        {"iss": "ISSUER/"},
        {"iss": "ISSUER.evil.com"},
        {"iss": "ISSUER@evil.com"},
    ],
)
def test_f6_wrong_audience_or_issuer(
    stack: LocalStack, current_key: SigningKey, overrides: dict[str, Any]
) -> None:
    resolved = {
        k: (v.replace("ISSUER", stack.issuer) if isinstance(v, str) else v)
        for k, v in overrides.items()
    }
    assert_invalid_token(call(stack, sign(claims_for(stack, **resolved), current_key)))
