"""A DPoP client's key pair and the proofs it signs (RFC 9449 4), for the tests: made with PyJWT
and cryptography, as a client library would, never with the server's own code."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class DpopKey:
    def __init__(self, alg: str = "ES256"):
        self.alg = alg
        if alg == "ES256":
            self.private_key: Any = ec.generate_private_key(ec.SECP256R1())
        else:
            self.private_key = rsa.generate_private_key(65537, 2048)
        self.jwk: dict[str, Any] = json.loads(
            jwt.algorithms.get_default_algorithms()[alg].to_jwk(self.private_key.public_key())
        )

    @property
    def jkt(self) -> str:
        """RFC 7638 thumbprint, computed here independently of the server."""
        members = ("crv", "kty", "x", "y") if self.jwk["kty"] == "EC" else ("e", "kty", "n")
        canonical = json.dumps({m: self.jwk[m] for m in members}, separators=(",", ":"))
        return _b64(hashlib.sha256(canonical.encode()).digest())

    def proof(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        iat: int | None = None,
        jti: str | None = None,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
        key: Any = None,
        alg: str | None = None,
    ) -> str:
        payload: dict[str, Any] = {
            "htm": method,
            "htu": url,
            "iat": int(time.time()) if iat is None else iat,
            "jti": jti or secrets.token_urlsafe(16),
        }
        if access_token is not None:
            payload["ath"] = _b64(hashlib.sha256(access_token.encode()).digest())
        if nonce is not None:
            payload["nonce"] = nonce
        payload.update(claims or {})
        headers = {"typ": "dpop+jwt", "jwk": self.jwk, **(header or {})}
        return jwt.encode(
            payload, key if key is not None else self.private_key, alg or self.alg, headers
        )
