"""Helpers for private_key_jwt clients (RFC 7523): key pairs, their public JWKs, and client
assertions made with PyJWT, as a client would make them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class Signer:
    """A client's key pair: `public_jwk` is what it registers, `private_key` stays with it."""

    kid: str
    alg: str = "ES256"
    private_key: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.alg == "ES256":
            self.private_key = ec.generate_private_key(ec.SECP256R1())
        else:
            self.private_key = rsa.generate_private_key(65537, 2048)

    @property
    def public_jwk(self) -> dict[str, Any]:
        algorithm = (
            jwt.algorithms.ECAlgorithm if self.alg == "ES256" else jwt.algorithms.RSAAlgorithm
        )
        jwk: dict[str, Any] = json.loads(algorithm.to_jwk(self.private_key.public_key()))
        jwk["kid"] = self.kid
        return jwk

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk]}

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def assertion(
        self,
        client_id: str,
        audience: str | list[str],
        *,
        now: int | None = None,
        lifetime: int = 60,
        headers: dict[str, Any] | None = None,
        alg: str | None = None,
        drop: tuple[str, ...] = (),
        **claims: Any,
    ) -> str:
        """A client assertion: iss = sub = client_id, aud, iat, exp, a fresh jti; `claims`
        override or add, `drop` removes."""
        issued = int(time.time()) if now is None else now
        body: dict[str, Any] = {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": issued,
            "exp": issued + lifetime,
            "jti": secrets.token_urlsafe(16),
            **claims,
        }
        for name in drop:
            body.pop(name, None)
        header = {k: v for k, v in {"kid": self.kid, **(headers or {})}.items() if v is not None}
        return jwt.encode(body, self.private_key, algorithm=alg or self.alg, headers=header)


def assertion_form(assertion: str, **extra: str) -> dict[str, str]:
    return {"client_assertion_type": JWT_BEARER, "client_assertion": assertion, **extra}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A JWS made by hand: `alg: none` and other forgeries PyJWT will not make."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(signature)}"


def hmac_signed(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """HS256 keyed with `secret` (say, the client's public key): the classic confusion attack."""
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"
