"""Signing keys as a JWK set with a lifecycle: next -> current -> retired.

`kid` is the key's RFC 7638 thumbprint. The published JWKS holds every key that can still verify
a live token: the next key (so verifiers learn it before it signs anything), the current one, and
retired keys until the longest-lived token they signed has expired.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from oauth_core.constants import SIGNING_ALGORITHMS
from oauth_core.jwk import b64url, thumbprint

SUPPORTED_ALGS = SIGNING_ALGORITHMS
# Retired keys stay published this long: longer than the longest token lifetime (a client's
# access_token_ttl is at most a day), so every token they signed expires first.
RETIRED_KEY_RETENTION = 2 * 24 * 3600
NEXT, CURRENT, RETIRED = "next", "current", "retired"
_KEY_TYPES = {"ES256": "EC", "RS256": "RSA"}

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def generate_private_key(alg: str) -> PrivateKey:
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"unsupported signing algorithm {alg!r}")


def _unsigned(value: int, length: int | None = None) -> str:
    """An RFC 7518 section 6 number: big-endian, base64url, fixed length for EC coordinates."""
    size = length if length is not None else max(1, (value.bit_length() + 7) // 8)
    return b64url(value.to_bytes(size, "big"))


def public_jwk_of(key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> dict[str, Any]:
    """The public JWK of a P-256 or RSA key (built here, not by PyJWT: the token function would
    otherwise import PyJWT only for this)."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise ValueError(f"unsupported curve {key.curve.name!r}")
        point = key.public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": _unsigned(point.x, 32),
            "y": _unsigned(point.y, 32),
        }
    numbers = key.public_numbers()
    return {"kty": "RSA", "n": _unsigned(numbers.n), "e": _unsigned(numbers.e)}


@dataclass(frozen=True)
class SigningKey:
    """One key. Stored as PKCS#8 PEM plus its public JWK, and parsed only when it signs:
    loading RSA keys from JWK parameters validates them at a cost of tens of milliseconds each,
    which every cold start would pay for keys it never uses."""

    alg: str
    status: str
    created_at: int
    private_pem: str = field(repr=False)
    public: dict[str, Any] = field(repr=False)
    retired_at: int | None = None
    kid: str = ""

    @classmethod
    def generate(cls, alg: str, status: str, now: int) -> SigningKey:
        private_key = generate_private_key(alg)
        public = public_jwk_of(private_key.public_key())
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        return cls(
            alg=alg,
            status=status,
            created_at=now,
            private_pem=pem,
            public=public,
            kid=thumbprint(public),
        )

    @cached_property
    def private_key(self) -> PrivateKey:
        # Our own key from our own secret: skipping the RSA consistency checks is safe here.
        key = serialization.load_pem_private_key(
            self.private_pem.encode("ascii"), password=None, unsafe_skip_rsa_key_validation=True
        )
        assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
        return key

    def public_jwk(self) -> dict[str, Any]:
        return {**self.public, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "alg": self.alg,
            "status": self.status,
            "created_at": self.created_at,
            "retired_at": self.retired_at,
            "private_pem": self.private_pem,
            "public_jwk": self.public,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SigningKey:
        alg = data["alg"]
        if alg not in SUPPORTED_ALGS:
            raise ValueError(f"unsupported signing algorithm {alg!r}")
        public = dict(data["public_jwk"])
        # A stored key must be what its name says: the `kid` is the public key's thumbprint,
        # and the key type is the algorithm's (a hand-edited or mixed-up set is refused).
        if public.get("kty") != _KEY_TYPES[alg] or data["kid"] != thumbprint(public):
            raise ValueError(f"key {data['kid']!r} is not the {alg} key its kid names")
        return cls(
            alg=alg,
            status=data["status"],
            created_at=int(data["created_at"]),
            private_pem=data["private_pem"],
            public=public,
            retired_at=data.get("retired_at"),
            kid=data["kid"],
        )


@dataclass(frozen=True)
class KeySet:
    keys: tuple[SigningKey, ...] = ()

    @classmethod
    def initial(cls, now: int) -> KeySet:
        """A current and a next key for each supported algorithm."""
        return cls(
            tuple(
                SigningKey.generate(alg, status, now)
                for alg in SUPPORTED_ALGS
                for status in (CURRENT, NEXT)
            )
        )

    @cached_property
    def _current(self) -> dict[str, SigningKey]:
        return {key.alg: key for key in self.keys if key.status == CURRENT}

    def current(self, alg: str) -> SigningKey:
        try:
            return self._current[alg]
        except KeyError:
            raise LookupError(f"no current {alg} signing key") from None

    @property
    def last_rotated_at(self) -> int:
        """When the newest next key was made: the last rotation (or the set's creation)."""
        return max((key.created_at for key in self.keys if key.status == NEXT), default=0)

    def rotate(self, now: int, retain_retired_for: int = RETIRED_KEY_RETENTION) -> KeySet:
        """Promote each next key to current, retire the current ones, add fresh next keys.

        Retired keys are dropped once `retain_retired_for` seconds have passed since retirement:
        by then every token they signed has expired.
        """
        rotated: list[SigningKey] = []
        for key in self.keys:
            if key.status == CURRENT:
                rotated.append(replace(key, status=RETIRED, retired_at=now))
            elif key.status == NEXT:
                rotated.append(replace(key, status=CURRENT))
            elif key.retired_at is not None and now - key.retired_at < retain_retired_for:
                rotated.append(key)
        algs = {key.alg for key in self.keys} or set(SUPPORTED_ALGS)
        for alg in sorted(algs):
            if not any(k.alg == alg and k.status == CURRENT for k in rotated):
                rotated.append(SigningKey.generate(alg, CURRENT, now))
            rotated.append(SigningKey.generate(alg, NEXT, now))
        return KeySet(tuple(rotated))

    def derived_secrets(self, label: str) -> list[bytes]:
        """Secrets for one purpose (`label`), derived one way from the private keys, the current
        keys' first: they change when the keys rotate (DPoP nonces, oauth_core.tokens.dpop)."""
        ordered = sorted(self.keys, key=lambda key: key.status != CURRENT)
        prefix = label.encode("utf-8") + b"\0"
        return [hashlib.sha256(prefix + key.private_pem.encode()).digest() for key in ordered]

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk() for key in self.keys]}

    @cached_property
    def public_jwks_json(self) -> str:
        """The published JWKS, serialized once per loaded key set."""
        return json.dumps(self.public_jwks(), separators=(",", ":"))

    def to_json(self) -> str:
        return json.dumps({"keys": [key.to_dict() for key in self.keys]})

    @classmethod
    def from_json(cls, text: str) -> KeySet:
        data = json.loads(text)
        return cls(tuple(SigningKey.from_dict(item) for item in data["keys"]))
