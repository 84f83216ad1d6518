"""The client metadata issue 15 adds: registered keys (private_key_jwt), DPoP and PAR flags,
logout URIs; what is refused and that it survives a round trip through storage."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from oauth_core.admin.registry import ClientRegistry, InvalidClientMetadata, validate_metadata
from oauth_core.models import Client


def ec_jwk() -> dict[str, Any]:
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": _b64(numbers.x, 32), "y": _b64(numbers.y, 32)}


def rsa_jwk(bits: int = 2048) -> dict[str, Any]:
    numbers = rsa.generate_private_key(65537, bits).public_key().public_numbers()
    return {"kty": "RSA", "n": _b64(numbers.n, bits // 8), "e": "AQAB"}


def _b64(value: int, length: int) -> str:
    import base64

    return base64.urlsafe_b64encode(value.to_bytes(length, "big")).rstrip(b"=").decode()


def key_client(**extra: Any) -> dict[str, Any]:
    return {
        "client_id": "signer",
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "private_key_jwt",
        **extra,
    }


def test_a_private_key_jwt_client_registers_public_keys_and_gets_no_secret(
    registry: ClientRegistry,
) -> None:
    keys = {"keys": [ec_jwk(), rsa_jwk()]}
    registration = registry.create(key_client(jwks=keys))
    assert registration.client_secret is None
    stored = registry.get("signer")
    assert stored is not None and stored.jwks == keys and not stored.uses_secret
    assert Client.from_item(stored.to_item()) == stored
    with pytest.raises(InvalidClientMetadata, match="has no secret"):
        registry.rotate_secret("signer")


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({}, "jwks"),
        ({"jwks": {"keys": [ec_jwk()]}, "jwks_uri": "https://app.example/jwks"}, "jwks"),
        ({"jwks": {"keys": []}}, "jwks"),
        ({"jwks": [ec_jwk()]}, "jwks"),
        ({"jwks": {"keys": [{**ec_jwk(), "d": "secret"}]}}, "jwks"),
        ({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}, "jwks"),
        ({"jwks": {"keys": [rsa_jwk(1024)]}}, "jwks"),
        ({"jwks": {"keys": [{**ec_jwk(), "alg": "HS256"}]}}, "jwks"),
        ({"jwks": {"keys": [{**ec_jwk(), "alg": "none"}]}}, "jwks"),
        ({"jwks": {"keys": [{**ec_jwk(), "crv": "P-521"}]}}, "jwks"),
        ({"jwks": {"keys": [{**ec_jwk(), "use": "enc"}]}}, "jwks"),
        ({"jwks_uri": "http://keys.example/jwks"}, "jwks_uri"),
        ({"jwks_uri": "com.example.app:/jwks"}, "jwks_uri"),
        ({"jwks_uri": "https://keys.example/jwks#frag"}, "jwks_uri"),
    ],
)
def test_unfit_client_keys_are_refused_naming_the_field(extra: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidClientMetadata) as refused:
        validate_metadata(key_client(**extra))
    assert refused.value.field == field


def test_keys_belong_only_to_private_key_jwt_clients() -> None:
    with pytest.raises(InvalidClientMetadata, match="only for token_endpoint_auth_method"):
        validate_metadata(
            {"client_id": "svc", "grant_types": ["client_credentials"], "jwks_uri": "https://k/j"}
        )


def test_dpop_par_and_logout_metadata_round_trip() -> None:
    client = validate_metadata(
        {
            "client_id": "web",
            "redirect_uris": ["https://app.example/cb"],
            "dpop_bound_access_tokens": True,
            "require_pushed_authorization_requests": True,
            "post_logout_redirect_uris": ["https://app.example/bye"],
            "backchannel_logout_uri": "https://app.example/backchannel",
        }
    )
    assert client.dpop_bound_access_tokens and client.require_pushed_authorization_requests
    assert Client.from_item(client.to_item()) == client
    plain = validate_metadata({"client_id": "web", "redirect_uris": ["https://app.example/cb"]})
    assert "jwks" not in plain.to_item() and "post_logout_redirect_uris" not in plain.to_item()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"post_logout_redirect_uris": ["https://app.example/*"]}, "post_logout_redirect_uris"),
        ({"post_logout_redirect_uris": ["javascript:alert(1)"]}, "post_logout_redirect_uris"),
        ({"backchannel_logout_uri": "http://app.example/bc"}, "backchannel_logout_uri"),
        ({"backchannel_logout_uri": "com.example.app:/bc"}, "backchannel_logout_uri"),
        ({"dpop_bound_access_tokens": "yes"}, "dpop_bound_access_tokens"),
        ({"require_pushed_authorization_requests": 1}, "require_pushed_authorization_requests"),
    ],
)
def test_unsafe_logout_and_flag_metadata_is_refused(extra: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidClientMetadata) as refused:
        validate_metadata(
            {"client_id": "web", "redirect_uris": ["https://app.example/cb"], **extra}
        )
    assert refused.value.field == field
