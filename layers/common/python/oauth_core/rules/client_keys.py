"""The public keys a client registers for private_key_jwt (RFC 7523, RFC 7591 `jwks`): which
JWK Sets are acceptable. Checked when registered, so a bad set is refused up front, not at the
first token request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oauth_core import constants
from oauth_core.jwk import PRIVATE_MEMBERS

MAX_CLIENT_KEYS = 10
KEY_TYPES = {"RSA": ("n", "e"), "EC": ("crv", "x", "y")}
MIN_RSA_MODULUS_CHARS = 342  # base64url of a 2048-bit modulus


class UnfitKeys(ValueError):
    """Why a JWK Set cannot authenticate a client."""


def validate_jwks(value: Any) -> dict[str, Any]:
    """A JWK Set of public RSA (2048 bits or more) or P-256 keys, each fit for signing, at most
    MAX_CLIENT_KEYS of them; returned as given."""
    if not isinstance(value, Mapping) or not isinstance(value.get("keys"), list):
        raise UnfitKeys('must be a JWK Set: {"keys": [...]}')
    keys = value["keys"]
    if not 1 <= len(keys) <= MAX_CLIENT_KEYS:
        raise UnfitKeys(f"must hold from 1 to {MAX_CLIENT_KEYS} keys")
    for key in keys:
        validate_public_jwk(key)
    return {"keys": [dict(key) for key in keys]}


def validate_public_jwk(key: Any) -> None:
    if not isinstance(key, Mapping) or not all(isinstance(v, str) for v in key.values()):
        raise UnfitKeys("each key must be a JSON object of strings")
    # A set carrying private members is refused, so no client's secret key is ever stored here.
    if PRIVATE_MEMBERS & set(key):
        raise UnfitKeys("a key holds private members: register public keys only")
    members = KEY_TYPES.get(str(key.get("kty")))
    if members is None:
        raise UnfitKeys("keys must be RSA or EC (P-256)")
    if any(not key.get(member) for member in members):
        raise UnfitKeys(f"a {key['kty']} key needs {', '.join(members)}")
    if key["kty"] == "EC" and key["crv"] != "P-256":
        raise UnfitKeys("EC keys must be on P-256")
    if key["kty"] == "RSA" and len(key["n"]) < MIN_RSA_MODULUS_CHARS:
        raise UnfitKeys("RSA keys must be 2048 bits or more")
    if "alg" in key and key["alg"] not in constants.CLIENT_SIGNING_ALGORITHMS:
        raise UnfitKeys(f"alg must be one of {', '.join(constants.CLIENT_SIGNING_ALGORITHMS)}")
    if key.get("use", "sig") != "sig":
        raise UnfitKeys('use must be "sig"')
