"""private_key_jwt (RFC 7523, OpenID Connect Core 9): what an assertion must be to authenticate
its client, on the in-memory stores with a fixed clock. SECURITY E11 (single use), E12 (the
algorithm allow-list), E13 (audience, issuer, subject and time), E14 (whose key), and the
guessing limits (E8, E9) as they apply to assertions."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from oauth_core import audit, constants
from oauth_core.clock import FixedClock
from oauth_core.config import Settings
from oauth_core.endpoints.metadata import authorization_server_metadata
from oauth_core.errors import InvalidClient, InvalidRequest, TooManyRequests
from oauth_core.http.outbound import FetchRefused
from oauth_core.http.request import HttpRequest
from oauth_core.keys import KeySet
from oauth_core.models import Client
from oauth_core.rules import client_assertion
from oauth_core.rules.client_assertion import LEEWAY, MAX_AGE, MAX_LIFETIME, replay_key
from oauth_core.rules.client_keys import (
    KEEP_SECONDS,
    KEEP_STALE_SECONDS,
    REFETCH_SECONDS,
    ClientKeySource,
    KeysUnavailable,
    UnfitKeys,
    validate_public_jwk,
)
from oauth_core.storage.memory import MemoryGrantStore
from oauth_core.wiring import Components, endpoints_for, memory_components
from tests.signing_clients import Signer, assertion_form, hmac_signed, unsigned
from tests.support import ISSUER, SERVICE_ID, SERVICE_SECRET, basic, form_request, respond

SIGNER = "signer"
TOKEN_ENDPOINT = f"{ISSUER}/token"
EC = Signer("ec-1")
RSA = Signer("rsa-1", alg="RS256")
OTHER = Signer("other-1")  # another client's key


@pytest.fixture(autouse=True)
def audit_to_stdout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(audit.ENV_AUDIT_FILE, raising=False)
    audit.sink.reset()
    yield
    audit.sink.reset()


@pytest.fixture
def services(clock: FixedClock, session_keys: KeySet) -> Components:
    return build(clock, session_keys, max_failures=100)


def build(clock: FixedClock, session_keys: KeySet, *, max_failures: int) -> Components:
    settings = Settings(issuer=ISSUER, max_failures=max_failures, max_failures_per_ip=1000)
    built = memory_components(settings, clock=clock, keys=session_keys)
    registry = built.registry
    registry.create(
        {
            "client_id": SIGNER,
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": [EC.public_jwk, RSA.public_jwk]},
            "grant_types": ["client_credentials"],
            "scope": "read:data",
        }
    )
    registry.create(
        {
            "client_id": "other-signer",
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": OTHER.jwks(),
            "grant_types": ["client_credentials"],
        }
    )
    registry.create(
        {
            "client_id": SERVICE_ID,
            "client_secret": SERVICE_SECRET,
            "grant_types": ["client_credentials"],
            "scope": "read:data",
        }
    )
    registry.create(
        {
            "client_id": "spa",
            "token_endpoint_auth_method": "none",
            "redirect_uris": ["https://spa.example.com/cb"],
            "grant_types": ["authorization_code"],
        }
    )
    return built


def request(
    form: dict[str, str], *, path: str = "/token", source: str = "198.51.100.7"
) -> HttpRequest:
    return replace(form_request(form, path=path), source_ip=source)


def authenticate(
    services: Components,
    assertion: str,
    *,
    path: str = "/token",
    source: str = "198.51.100.7",
    **extra: str,
) -> Client:
    form = assertion_form(assertion, **extra)
    return services.client_auth.authenticate(request(form, path=path, source=source), form)


def refused(services: Components, assertion: str, **kwargs: Any) -> InvalidClient:
    with pytest.raises(InvalidClient) as caught:
        authenticate(services, assertion, **kwargs)
    assert caught.value.status_code == 401
    return caught.value


def reasons(out: str) -> list[str]:
    found = [audit.from_log_line(line) for line in out.splitlines()]
    return [r["detail"]["reason"] for r in found if r and r["event"] == "client_auth.failure"]


def signed(clock: FixedClock, signer: Signer = EC, client_id: str = SIGNER, **kwargs: Any) -> str:
    kwargs.setdefault("now", clock.now())
    return signer.assertion(client_id, kwargs.pop("audience", TOKEN_ENDPOINT), **kwargs)


# --- what is accepted ------------------------------------------------------------------------


def test_an_assertion_signed_with_a_registered_key_authenticates_its_client(
    services: Components, clock: FixedClock
) -> None:
    assert authenticate(services, signed(clock)).client_id == SIGNER
    assert authenticate(services, signed(clock, RSA)).client_id == SIGNER
    assert authenticate(services, signed(clock, RSA, alg="PS256")).client_id == SIGNER
    # The header's kid is a hint: without one, each registered key of the alg's type is tried.
    assert authenticate(services, signed(clock, headers={"kid": None})).client_id == SIGNER


@pytest.mark.parametrize(
    ("audience", "path"),
    [
        (ISSUER, "/token"),
        (TOKEN_ENDPOINT, "/token"),
        ([TOKEN_ENDPOINT, "https://elsewhere.example"], "/token"),
        (f"{ISSUER}/revoke", "/revoke"),
        (f"{ISSUER}/introspect", "/introspect"),
        (TOKEN_ENDPOINT, "/introspect"),
    ],
)
def test_e13_aud_may_be_the_issuer_the_token_endpoint_or_the_endpoint_called(
    services: Components, clock: FixedClock, audience: str | list[str], path: str
) -> None:
    assert authenticate(services, signed(clock, audience=audience), path=path).client_id == SIGNER


def test_the_token_endpoint_issues_a_token_for_an_assertion(
    services: Components, clock: FixedClock
) -> None:
    form = assertion_form(signed(clock), grant_type="client_credentials", client_id=SIGNER)
    answer = respond(endpoints_for("token", services)["token"], form_request(form))
    assert answer.status_code == 200, answer.body
    assert json.loads(answer.body)["scope"] == "read:data"


def test_metadata_lists_private_key_jwt_and_its_algorithms() -> None:
    metadata = authorization_server_metadata(ISSUER, ["client_credentials"], [])
    for endpoint in ("token", "revocation", "introspection"):
        assert "private_key_jwt" in metadata[f"{endpoint}_endpoint_auth_methods_supported"]
        algs = metadata[f"{endpoint}_endpoint_auth_signing_alg_values_supported"]
        assert algs == ["ES256", "PS256", "RS256"]


# --- E11: once -------------------------------------------------------------------------------


def test_e11_an_assertion_authenticates_once(
    services: Components, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    assertion = signed(clock)
    authenticate(services, assertion)
    error = refused(services, assertion)
    assert error.description == "the client assertion was used before"
    # At another endpoint too: a jti is spent wherever it was used.
    authenticate(services, signed(clock, audience=ISSUER, jti="kept"), path="/revoke")
    assert refused(services, signed(clock, audience=ISSUER, jti="kept")).description == (
        "the client assertion was used before"
    )
    assert reasons(capsys.readouterr().out)[-1] == "assertion_replayed"


def test_e11_a_jti_is_held_for_as_long_as_the_assertion_could_pass(
    services: Components, clock: FixedClock
) -> None:
    grants = services.grants
    assert isinstance(grants, MemoryGrantStore)
    now = clock.now()
    # Authlib's default: valid an hour, accepted only within MAX_AGE of iat.
    long_lived = signed(clock, lifetime=3600, jti="long")
    authenticate(services, long_lived)
    assert grants.used_once[replay_key(SIGNER, "long")] == now + MAX_AGE + LEEWAY
    short = signed(clock, lifetime=60, jti="short")
    authenticate(services, short)
    assert grants.used_once[replay_key(SIGNER, "short")] == now + 60 + LEEWAY
    clock.advance(60 + LEEWAY - 1)
    assert refused(services, short).description == "the client assertion was used before"
    clock.advance(1)  # from here the assertion is refused as expired: the record may go
    assert refused(services, short).description == "the client assertion has expired"


def test_e11_the_same_jti_from_two_clients_is_two_assertions(
    services: Components, clock: FixedClock
) -> None:
    authenticate(services, signed(clock, jti="shared"))
    assert authenticate(services, signed(clock, OTHER, "other-signer", jti="shared")).client_id == (
        "other-signer"
    )


def test_e11_a_jti_is_spent_only_by_a_verified_assertion(
    services: Components, clock: FixedClock
) -> None:
    """No one without the client's key can spend a jti the client will use next."""
    refused(services, signed(clock, OTHER, jti="future"))  # signed by the wrong key
    refused(services, signed(clock, EC, "other-signer", jti="future"))
    assert authenticate(services, signed(clock, jti="future")).client_id == SIGNER


# --- E12: the algorithms ---------------------------------------------------------------------


def claims_now(clock: FixedClock, **extra: Any) -> dict[str, Any]:
    now = clock.now()
    return {"iss": SIGNER, "sub": SIGNER, "aud": TOKEN_ENDPOINT, "iat": now, "exp": now + 60,
            "jti": f"forged-{now}", **extra}  # fmt: skip


def test_e12_alg_none_is_refused(services: Components, clock: FixedClock) -> None:
    claims = claims_now(clock)
    for header in ({"alg": "none"}, {"alg": "None", "kid": EC.kid}):
        assert refused(services, unsigned(header, claims)).error == "invalid_client"
    error = refused(services, unsigned({"alg": "none"}, claims, signature=b"x"))
    assert error.description == "the client assertion's alg is not accepted"


def test_e12_hmac_keyed_with_the_public_key_is_refused(
    services: Components, clock: FixedClock
) -> None:
    for secret in (RSA.public_pem(), json.dumps(RSA.public_jwk).encode(), b"anything"):
        forged = hmac_signed(claims_now(clock), secret, RSA.kid)
        assert refused(services, forged).description == "the client assertion's alg is not accepted"


@pytest.mark.parametrize("alg", ["ES384", "ES512", "RS512", "PS384", "EdDSA", "HS256"])
def test_e12_unlisted_algorithms_are_refused(
    services: Components, clock: FixedClock, alg: str
) -> None:
    forged = unsigned({"alg": alg, "kid": EC.kid}, claims_now(clock), signature=b"sig")
    assert refused(services, forged).description == "the client assertion's alg is not accepted"


def test_e12_a_key_serves_only_its_own_algorithm(
    services: Components, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    # The RSA key signs RS256 and PS256 (it names no alg); an EC header over an RSA key, or a
    # key registered for RS256 used with PS256, finds no key.
    forged = unsigned({"alg": "ES256", "kid": RSA.kid}, claims_now(clock), signature=b"s" * 64)
    refused(services, forged)
    pinned = Signer("pinned", alg="RS256")
    services.registry.create(
        {
            "client_id": "pinned",
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": [{**pinned.public_jwk, "alg": "RS256"}]},
            "grant_types": ["client_credentials"],
        }
    )
    refused(services, signed(clock, pinned, "pinned", alg="PS256"))
    assert authenticate(services, signed(clock, pinned, "pinned")).client_id == "pinned"
    assert reasons(capsys.readouterr().out) == ["unknown_key", "unknown_key"]


@pytest.mark.parametrize(
    "header",
    [
        {"jwk": EC.public_jwk},
        {"jku": "https://attacker.example/jwks"},
        {"x5u": "https://attacker.example/cert"},
        {"x5c": ["MIIB"]},
        {"crit": ["exp"]},
        {"typ": "dpop+jwt"},
        {"typ": "at+jwt"},
    ],
)
def test_e12_headers_that_choose_a_key_or_another_kind_of_jwt_are_refused(
    services: Components, clock: FixedClock, header: dict[str, Any]
) -> None:
    # Signed with the client's own key: only the header is wrong.
    error = refused(services, signed(clock, headers=header))
    assert error.description in (
        "the client assertion carries a forbidden header parameter",
        "the client assertion's typ is not accepted",
    )


def test_a_kid_that_is_no_string_is_refused(services: Components, clock: FixedClock) -> None:
    forged = unsigned({"alg": "ES256", "kid": 7}, claims_now(clock), signature=b"s" * 64)
    assert refused(services, forged).description == "the client assertion's kid must be a string"


def test_typ_jwt_and_client_authentication_jwt_are_accepted(
    services: Components, clock: FixedClock
) -> None:
    for typ in ("JWT", "client-authentication+jwt"):
        assert authenticate(services, signed(clock, headers={"typ": typ})).client_id == SIGNER


# --- E13: audience, issuer, subject, time ----------------------------------------------------


NOT_FOR_US = "the client assertion is not for this server"


@pytest.mark.parametrize(
    ("kwargs", "description"),
    [
        ({"audience": "https://other-server.example/token"}, NOT_FOR_US),
        ({"audience": f"{ISSUER}/revoke"}, NOT_FOR_US),  # sent to /token
        ({"audience": "https://auth.example.com.evil.example/token"}, NOT_FOR_US),
        ({"audience": [f"{ISSUER}/"]}, NOT_FOR_US),
        ({"audience": []}, "the client assertion needs an aud"),
        ({"drop": ("aud",)}, "the client assertion needs an aud"),
        ({"iss": "other-signer"}, "the client assertion's iss and sub must both be the client_id"),
        ({"drop": ("iss",)}, "the client assertion's iss and sub must both be the client_id"),
        ({"drop": ("jti",)}, "the client assertion needs a jti"),
        ({"jti": ""}, "the client assertion needs a jti"),
        ({"jti": "j" * 257}, "the client assertion needs a jti"),
        ({"drop": ("exp",)}, "the client assertion needs an exp"),
        ({"exp": "soon"}, "the client assertion's exp, iat or nbf is no time"),
        ({"exp": True}, "the client assertion's exp, iat or nbf is no time"),
        ({"exp": 10**400}, "the client assertion expires too far in the future"),
    ],
)  # fmt: skip
def test_e13_claims_that_do_not_hold_are_refused(
    services: Components, clock: FixedClock, kwargs: dict[str, Any], description: str
) -> None:
    assert refused(services, signed(clock, **kwargs)).description == description


def test_e13_an_expired_assertion_is_refused_after_the_leeway(
    services: Components, clock: FixedClock
) -> None:
    now = clock.now()
    assert authenticate(services, signed(clock, now=now - 100, exp=now - LEEWAY + 1))
    error = refused(services, signed(clock, now=now - 100, exp=now - LEEWAY))
    assert error.description == "the client assertion has expired"


def test_e13_an_assertion_valid_too_long_or_too_old_is_refused(
    services: Components, clock: FixedClock
) -> None:
    now = clock.now()
    too_far = signed(clock, lifetime=MAX_LIFETIME + LEEWAY + 1)
    assert refused(services, too_far).description == (
        "the client assertion expires too far in the future"
    )
    no_iat = signed(clock, drop=("iat",), lifetime=MAX_AGE + LEEWAY + 1)
    assert refused(services, no_iat).description == (
        "a client assertion without iat must expire within 300 seconds"
    )
    assert authenticate(services, signed(clock, drop=("iat",), lifetime=MAX_AGE))
    old = signed(clock, now=now - MAX_AGE - LEEWAY, lifetime=3600)
    assert refused(services, old).description == "the client assertion was issued too long ago"
    assert authenticate(services, signed(clock, now=now - MAX_AGE, lifetime=3600))


def test_e13_an_assertion_from_the_future_is_refused(
    services: Components, clock: FixedClock
) -> None:
    now = clock.now()
    for future in (signed(clock, iat=now + LEEWAY + 1), signed(clock, nbf=now + LEEWAY + 1)):
        assert refused(services, future).description == "the client assertion is not valid yet"
    assert authenticate(services, signed(clock, iat=now + LEEWAY, nbf=now + LEEWAY))


def test_e13_a_client_id_beside_the_assertion_must_name_the_same_client(
    services: Components, clock: FixedClock
) -> None:
    with pytest.raises(InvalidRequest):
        authenticate(services, signed(clock), client_id="other-signer")
    assert authenticate(services, signed(clock), client_id=SIGNER).client_id == SIGNER


@pytest.mark.parametrize(
    "form",
    [
        {"client_assertion": "a.b.c"},
        {"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
    ],
)
def test_half_an_assertion_is_invalid_request(services: Components, form: dict[str, str]) -> None:
    with pytest.raises(InvalidRequest):
        services.client_auth.authenticate(request(form), form)


def test_e4_an_assertion_beside_a_secret_is_invalid_request(
    services: Components, clock: FixedClock
) -> None:
    form = assertion_form(signed(clock))
    with pytest.raises(InvalidRequest):
        services.authenticator.authenticate(basic(SERVICE_ID, SERVICE_SECRET), form)
    with pytest.raises(InvalidRequest):
        services.authenticator.authenticate(None, {**form, "client_secret": SERVICE_SECRET})


@pytest.mark.parametrize(
    "assertion",
    [
        "not-a-jwt",
        "a.b",
        "e30.e30.e30",  # {} and {}: no sub
        "!!.e30.e30",
        "x" * (constants.MAX_TOKEN_LENGTH + 1),
    ],
)
def test_a_malformed_assertion_is_invalid_client_and_names_no_one(
    services: Components, assertion: str, capsys: pytest.CaptureFixture[str]
) -> None:
    refused(services, assertion)
    assert reasons(capsys.readouterr().out) == []  # no client named: no record, not counted


def test_a_member_named_twice_is_malformed(services: Components, clock: FixedClock) -> None:
    good = signed(clock).split(".")
    payload = good[1]
    # {"sub": "signer", ..., "sub": "other-signer"}: two readers could see two clients.
    claims = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    doubled = claims[:-1] + ', "sub": "other-signer"}'
    encoded = base64.urlsafe_b64encode(doubled.encode()).rstrip(b"=").decode()
    error = refused(services, f"{good[0]}.{encoded}.{good[2]}")
    assert error.description == "the client assertion is not a signed JWT"


def test_an_unsupported_assertion_type_is_invalid_client(services: Components) -> None:
    form = {"client_assertion_type": "urn:example:saml", "client_assertion": "a.b.c"}
    with pytest.raises(InvalidClient):
        services.client_auth.authenticate(request(form), form)


# --- E14: whose key --------------------------------------------------------------------------


def test_e14_an_assertion_signed_by_another_clients_key_is_refused(
    services: Components, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    # Same kid as the client's key, another key: the signature does not verify.
    impostor = Signer(EC.kid)
    assert refused(services, signed(clock, impostor)).description == "client authentication failed"
    # Another client's registered key, naming this client.
    assert refused(services, signed(clock, OTHER)).description == "client authentication failed"
    assert refused(services, signed(clock, OTHER, headers={"kid": None})).description == (
        "client authentication failed"
    )
    assert reasons(capsys.readouterr().out) == ["bad_signature", "unknown_key", "bad_signature"]


def test_e14_an_unknown_client_and_a_wrong_key_get_the_same_answer(
    services: Components, clock: FixedClock
) -> None:
    unknown = refused(services, signed(clock, client_id="no-such-client"))
    wrong_key = refused(services, signed(clock, OTHER))
    assert (
        unknown.body()
        == wrong_key.body()
        == {
            "error": "invalid_client",
            "error_description": "client authentication failed",
        }
    )


def test_e14_a_client_of_another_method_cannot_use_an_assertion_nor_a_signer_a_secret(
    services: Components, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    # A secret client, with an assertion signed by a key it never registered (or any key).
    refused(services, signed(clock, EC, SERVICE_ID))
    # A public client.
    refused(services, signed(clock, EC, "spa"))
    # A private_key_jwt client with a secret or with nothing.
    with pytest.raises(InvalidClient):
        services.authenticator.authenticate(basic(SIGNER, "a-secret-it-does-not-have"), {})
    with pytest.raises(InvalidClient):
        services.authenticator.authenticate(None, {"client_id": SIGNER})
    assert reasons(capsys.readouterr().out) == ["wrong_method", "wrong_method"]


def test_e14_a_disabled_client_is_told_so_only_with_a_valid_assertion(
    services: Components, clock: FixedClock
) -> None:
    services.registry.update(SIGNER, {"disabled": True})
    assert refused(services, signed(clock, OTHER)).description == "client authentication failed"
    assert refused(services, signed(clock)).description == "the client is disabled"


class FakeHost:
    """A jwks_uri's host: answers with `document`, or raises; counts the fetches."""

    def __init__(self, document: dict[str, Any] | None = None):
        self.document = document
        self.fetches = 0

    def __call__(self, url: str) -> dict[str, Any]:
        self.fetches += 1
        if self.document is None:
            raise FetchRefused("the host does not resolve")
        return self.document


def uri_client(url: str = "https://signer.example/jwks.json") -> Client:
    return Client(
        client_id=SIGNER,
        token_endpoint_auth_method=constants.AUTH_METHOD_PRIVATE_KEY_JWT,
        jwks_uri=url,
        grant_types=("client_credentials",),
    )


def test_e14_keys_from_a_jwks_uri_are_kept_and_fetched_again_at_a_bounded_rate(
    clock: FixedClock,
) -> None:
    host = FakeHost(EC.jwks())
    source = ClientKeySource(host, clock)
    client = uri_client()
    assert source.keys_for(client) == [EC.public_jwk]
    assert source.keys_for(client) == [EC.public_jwk] and host.fetches == 1
    # A kid the set lacks asks again, but no more often than REFETCH_SECONDS however many ask.
    for _ in range(5):
        source.keys_for(client, refresh=True)
    assert host.fetches == 1
    clock.advance(REFETCH_SECONDS)
    for _ in range(5):
        source.keys_for(client, refresh=True)
    assert host.fetches == 2
    clock.advance(KEEP_SECONDS)
    source.keys_for(client)
    assert host.fetches == 3


def test_e14_a_jwks_uri_that_fails_keeps_its_last_keys_for_a_while_then_refuses(
    clock: FixedClock,
) -> None:
    host = FakeHost(EC.jwks())
    source = ClientKeySource(host, clock)
    client = uri_client()
    source.keys_for(client)
    host.document = None
    clock.advance(KEEP_SECONDS)
    assert source.keys_for(client) == [EC.public_jwk]  # stale, still served
    clock.advance(KEEP_STALE_SECONDS - KEEP_SECONDS)
    with pytest.raises(KeysUnavailable):
        source.keys_for(client)


def test_e14_a_jwks_uri_that_never_answered_is_asked_again_only_after_a_while(
    clock: FixedClock,
) -> None:
    host = FakeHost(None)
    source = ClientKeySource(host, clock)
    for _ in range(3):
        with pytest.raises(KeysUnavailable):
            source.keys_for(uri_client(), refresh=True)
    assert host.fetches == 1
    clock.advance(REFETCH_SECONDS)
    host.document = EC.jwks()
    assert source.keys_for(uri_client()) == [EC.public_jwk]


def test_e14_only_fit_keys_of_a_fetched_set_are_used(clock: FixedClock) -> None:
    p384 = {"kty": "EC", "crv": "P-384", "x": "x" * 64, "y": "y" * 64, "kid": "p384"}
    private = {**EC.public_jwk, "d": "private", "kid": "leaked"}
    encryption = {**RSA.public_jwk, "use": "enc", "kid": "enc"}
    host = FakeHost({"keys": [p384, private, encryption, "junk", EC.public_jwk]})
    assert ClientKeySource(host, clock).keys_for(uri_client()) == [EC.public_jwk]
    with pytest.raises(KeysUnavailable):
        ClientKeySource(FakeHost({"not": "a set"}), clock).keys_for(uri_client())


def test_e14_a_jwks_uri_client_is_refused_not_failed_when_its_keys_cannot_be_had(
    services: Components, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    # Addresses this server must not call (loopback off the local stack, the instance metadata
    # service): invalid_client, never a 500, and nothing fetched.
    for url in ("https://127.0.0.1/jwks.json", "https://169.254.169.254/latest/meta-data"):
        services.registry.create(
            {
                "client_id": "uri-signer",
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks_uri": url,
                "grant_types": ["client_credentials"],
            },
            replace=True,
        )
        assertion = signed(clock, client_id="uri-signer")
        assert refused(services, assertion).description == "client authentication failed"
    assert reasons(capsys.readouterr().out) == ["keys_unavailable", "keys_unavailable"]


def test_e14_a_key_added_at_the_jwks_uri_is_found_by_fetching_again(
    services: Components, clock: FixedClock
) -> None:
    host = FakeHost(EC.jwks())
    grants = services.grants
    verifier = client_assertion.AssertionVerifier(ClientKeySource(host, clock), grants, clock)
    client = uri_client()
    new = Signer("rotated-in")
    verifier.verify(client, client_assertion.read_assertion(signed(clock)))
    host.document = {"keys": [EC.public_jwk, new.public_jwk]}
    clock.advance(REFETCH_SECONDS)
    verifier.verify(client, client_assertion.read_assertion(signed(clock, new)))
    # And with no kid at all: a signature no kept key verifies fetches again too.
    newer = Signer("unnamed")
    host.document = {"keys": [newer.public_jwk]}
    clock.advance(REFETCH_SECONDS)
    verifier.verify(
        client, client_assertion.read_assertion(signed(clock, newer, headers={"kid": None}))
    )
    assert host.fetches == 3


# --- E8, E9: refused assertions count as wrong secrets do ------------------------------------


def test_e9_refused_assertions_slow_their_source_and_never_lock_the_client_out(
    clock: FixedClock, session_keys: KeySet
) -> None:
    services = build(clock, session_keys, max_failures=3)
    attacker, client = "203.0.113.50", "198.51.100.60"
    outcomes = []
    for _ in range(5):
        try:
            authenticate(services, signed(clock, OTHER), source=attacker)
        except TooManyRequests:
            outcomes.append(429)
        except InvalidClient:
            outcomes.append(401)
    assert outcomes[-1] == 429  # max_failures is 3 here
    assert authenticate(services, signed(clock), source=client).client_id == SIGNER
    with pytest.raises(TooManyRequests):  # from the attacker's source even the right one waits
        authenticate(services, signed(clock), source=attacker)


def test_e9_malformed_assertions_and_public_clients_are_never_counted(
    clock: FixedClock, session_keys: KeySet
) -> None:
    services = build(clock, session_keys, max_failures=3)
    source = "203.0.113.51"
    for _ in range(10):
        with pytest.raises(InvalidClient):
            authenticate(services, "not-a-jwt", source=source)
        with pytest.raises(InvalidClient):
            authenticate(services, signed(clock, EC, "spa"), source=source)
    assert authenticate(services, signed(clock), source=source).client_id == SIGNER


def test_keys_may_carry_key_ops_and_certificate_chains_as_lists(services: Components) -> None:
    # PyJWT exports RSA keys with "key_ops": ["verify"] (the fixture registered one).
    stored = services.registry.get(SIGNER)
    assert stored is not None and stored.jwks is not None
    assert stored.jwks["keys"][1]["key_ops"] == ["verify"]
    validate_public_jwk({**EC.public_jwk, "x5c": ["MIIBcert"]})
    for unfit in (
        {**EC.public_jwk, "key_ops": ["encrypt"]},
        {**EC.public_jwk, "key_ops": "verify"},
        {**EC.public_jwk, "crv": ["P-256"]},
    ):
        with pytest.raises(UnfitKeys):
            validate_public_jwk(unfit)
