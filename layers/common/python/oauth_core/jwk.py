"""JSON Web Keys (RFC 7517) as this server reads them: thumbprints (RFC 7638) and which members
only a private key has. Imports no cryptography: the resource function uses it too."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}
# RFC 7518 3.3: RSA keys of 2048 bits or more; this is the base64url length of such a modulus.
MIN_RSA_MODULUS_CHARS = 342
# Members that only a private (or symmetric) key has.
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def thumbprint(public_jwk: Mapping[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256) of a public EC or RSA key (KeyError for another)."""
    members = THUMBPRINT_MEMBERS[public_jwk["kty"]]
    canonical = json.dumps(
        {name: public_jwk[name] for name in members}, separators=(",", ":"), sort_keys=True
    )
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())
