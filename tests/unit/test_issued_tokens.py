"""Every kind of token this server signs, verified by two outside libraries: PyJWT and joserfc.

The signing code is our own (oauth_core.tokens.jws, over `cryptography`), so these are what
shows its output is standard JWS: access tokens from each grant, and ID tokens in both
algorithms, checked against the JWKS the server publishes.
"""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet as JoseKeySet
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from oauth_core.admin.registry import ClientRegistry
from oauth_core.endpoints.token import TokenEndpoint
from oauth_core.grants import GrantContext
from oauth_core.keys import CURRENT, SigningKey, public_jwk_of
from oauth_core.models import Client
from oauth_core.wiring import Components
from tests.support import (
    ISSUER,
    SERVICE_ID,
    SERVICE_SECRET,
    basic,
    code_as_authorize_issues_it,
    form_request,
    grant,
    pkce_pair,
    redeem_code,
    respond,
)

REDIRECT = "https://app.example.com/cb"


def verified_by_both(token: str, services: Components, audience: str) -> dict[str, Any]:
    """The claims, once PyJWT and joserfc have each checked the signature against the JWKS."""
    jwks = services.keys.load().public_jwks()
    header = jwt.get_unverified_header(token)
    public = next(jwk for jwk in jwks["keys"] if jwk["kid"] == header["kid"])
    by_pyjwt = jwt.decode(
        token,
        jwt.PyJWK.from_dict(public),
        algorithms=[public["alg"]],
        audience=audience,
        issuer=ISSUER,
        options={"verify_exp": False, "verify_iat": False},  # the test clock is in the past
    )
    key_set = JoseKeySet.import_key_set(jwks)  # type: ignore[arg-type]
    by_joserfc = jose_jwt.decode(token, key_set, algorithms=[header["alg"]])
    assert by_joserfc.header == header
    jose_jwt.JWTClaimsRegistry(
        now=services.clock.now(),
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": audience},
    ).validate(by_joserfc.claims)
    assert by_joserfc.claims == by_pyjwt
    return by_pyjwt


def client_for(registry: ClientRegistry, client_id: str, id_token_alg: str) -> Client:
    return registry.create(
        {
            "client_id": client_id,
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [REDIRECT],
            "scope": "openid read:data",
            "first_party": True,
            "id_token_signed_response_alg": id_token_alg,
        }
    ).client


def test_client_credentials_access_token(services: Components, service_client: str) -> None:
    endpoint = TokenEndpoint(
        services.grant_types, services.client_auth, services.settings, services.dpop
    )
    response = respond(
        endpoint.handle,
        form_request(
            {"grant_type": "client_credentials"},
            headers={"Authorization": basic(SERVICE_ID, SERVICE_SECRET)},
        ),
    )
    token = response.json()["access_token"]
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
    assert verified_by_both(token, services, f"{ISSUER}/resource")["client_id"] == SERVICE_ID


@pytest.mark.parametrize("id_token_alg", ["RS256", "ES256"])
def test_code_and_refresh_grants_tokens(
    services: Components, registry: ClientRegistry, id_token_alg: str
) -> None:
    client = client_for(registry, f"app-{id_token_alg.lower()}", id_token_alg)
    verifier, challenge = pkce_pair()
    code = code_as_authorize_issues_it(services, client, REDIRECT, challenge, "user-1")
    first = redeem_code(services, client, REDIRECT, code, verifier)
    refreshed = grant(services, "refresh_token").issue(
        client,
        {"refresh_token": first["refresh_token"]},
        GrantContext(ISSUER, form_request({})),
    )
    for body in (first, refreshed):
        access = verified_by_both(body["access_token"], services, f"{ISSUER}/resource")
        assert access["sub"] == "user-1" and access["client_id"] == client.client_id
    assert jwt.get_unverified_header(first["id_token"])["alg"] == id_token_alg
    id_claims = verified_by_both(first["id_token"], services, client.client_id)
    assert id_claims["sub"] == "user-1" and id_claims["nonce"] == "n"


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_published_keys_are_the_jwks_pyjwt_would_write(alg: str) -> None:
    key = SigningKey.generate(alg, CURRENT, 0)
    public = key.private_key.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        theirs = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        theirs = RSAAlgorithm.to_jwk(public, as_dict=True)
    theirs.pop("key_ops", None)  # PyJWT's own addition for RSA; RFC 7517 makes it optional
    assert key.public == theirs


def test_ec_coordinates_keep_their_leading_zero_bytes() -> None:
    # RFC 7518 6.2.1.2: x and y are the full 32 bytes even when they start with zeros, which
    # about one P-256 key in 128 has.
    for _ in range(20_000):
        private = ec.generate_private_key(ec.SECP256R1())
        point = private.public_key().public_numbers()
        if point.x < 1 << 248 or point.y < 1 << 248:
            break
    else:
        pytest.fail("no P-256 key with a short coordinate in 20,000 draws")
    jwk = public_jwk_of(private.public_key())
    assert len(jwk["x"]) == len(jwk["y"]) == 43
    assert ECAlgorithm.from_jwk(jwk).public_numbers() == point  # type: ignore[union-attr]


def test_of_the_curves_only_p256_is_exported() -> None:
    with pytest.raises(ValueError, match="unsupported curve"):
        public_jwk_of(ec.generate_private_key(ec.SECP384R1()).public_key())


def test_a_key_set_that_reuses_a_kid_for_another_key_is_signed_by_that_key() -> None:
    # The signers are cached per key, not per kid alone: were a kid ever reused, the token
    # must still be signed by the key in hand.
    from oauth_core.tokens.access_token import sign

    first = SigningKey.generate("ES256", CURRENT, 0)
    second = SigningKey.generate("ES256", CURRENT, 0)
    impostor = SigningKey(
        alg="ES256",
        status=CURRENT,
        created_at=0,
        private_pem=second.private_pem,
        public=second.public,
        kid=first.kid,
    )
    sign({"a": 1}, first, "at+jwt")
    token = sign({"a": 1}, impostor, "at+jwt")
    assert jwt.decode(token, second.private_key.public_key(), algorithms=["ES256"]) == {"a": 1}
