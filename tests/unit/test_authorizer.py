"""The Lambda authorizer for other teams' APIs (oauth_core.endpoints.authorizer): the F rows of
docs/security-requirements.md as far as an authorizer can hold them (a refusal is
`isAuthorized: false`, which API Gateway answers 403), the context it hands the backend, and
that it never allows when the issuer's keys or revocations cannot be read. The issuer's key
set and revocations are stand-ins, as oauth_core.wiring gives the resource function in tests."""

from __future__ import annotations

import base64
import importlib.util
import json
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from oauth_core import constants
from oauth_core.endpoints.authorizer import (
    ENV_AUDIENCE,
    ENV_REQUIRED_SCOPES,
    Authorizer,
    AuthorizerConfigError,
    AuthorizerSettings,
)
from oauth_core.keys import KeySet
from oauth_core.revocation import KIND_ACCESS_TOKEN, KIND_GRANT, revocation_id
from oauth_core.tokens.bearer import JwksCache, JwksUnavailable
from oauth_core.tokens.revocation_list import RevocationList, RevocationsUnavailable
from tests.dpop_keys import DpopKey

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "https://auth.example.com"
ORDERS = "https://orders.example.com"


class Revocations:
    """The issuer's /revocations, as a stand-in: what it lists, and whether it answers."""

    def __init__(self) -> None:
        self.revoked: set[str] = set()
        self.failing = False
        self.uris: list[str] = []

    def __call__(self, uri: str) -> dict[str, Any]:
        self.uris.append(uri)
        if self.failing:
            raise OSError("the issuer does not answer")
        return {"revoked": sorted(self.revoked)}


class World:
    """An authorizer for ORDERS with its stand-ins, a clock for its revocation list, and tokens
    signed by the issuer's keys."""

    def __init__(self, keys: KeySet, *scopes: str) -> None:
        self.keys = keys
        self.now = [0.0]
        self.revocations = Revocations()
        self.jwks_failing = False
        self.settings = AuthorizerSettings(
            issuer=ISSUER, audience=ORDERS, required_scopes=frozenset(scopes), revocation_refresh=1
        )
        self.authorizer = Authorizer.from_settings(
            self.settings,
            JwksCache(self._jwks, monotonic=lambda: self.now[0]),
            RevocationList(self.revocations, 1, monotonic=lambda: self.now[0]),
        )

    def _jwks(self, uri: str) -> dict[str, Any]:
        assert uri == f"{ISSUER}/.well-known/jwks.json"
        if self.jwks_failing:
            raise OSError("the issuer does not answer")
        return self.keys.public_jwks()

    def token(self, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        key = self.keys.current("ES256")
        now = int(time.time())
        body = {
            "iss": ISSUER,
            "sub": "user-1",
            "aud": ORDERS,
            "client_id": "orders-app",
            "scope": "orders:read",
            "iat": now,
            "exp": now + 300,
            "jti": "jti-1",
            "grant_id": "grant-1",
            **claims,
        }
        body = {k: v for k, v in body.items() if v is not None}
        header = {"kid": key.kid, "typ": "at+jwt", **(headers or {})}
        return jwt.encode(body, key.private_key, algorithm="ES256", headers=header)

    def call(self, token: str | None, query: str = "", scheme: str = "Bearer") -> dict[str, Any]:
        return self.authorizer(event(f"{scheme} {token}" if token else None, query), None)


def event(authorization: str | None, query: str = "") -> dict[str, Any]:
    """API Gateway's REQUEST authorizer event, payload 2.0 (header names lower-cased)."""
    headers = {"host": "orders.example.com", "user-agent": "test"}
    if authorization is not None:
        headers["authorization"] = authorization
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": "arn:aws:execute-api:us-east-1:123456789012:abc/$default/GET/orders",
        "identitySource": [authorization] if authorization else [],
        "routeKey": "GET /orders",
        "rawPath": "/orders",
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {"http": {"method": "GET", "path": "/orders"}},
    }


@pytest.fixture
def world(session_keys: KeySet) -> World:
    return World(session_keys, "orders:read")


ALLOWED = {
    "isAuthorized": True,
    "context": {"sub": "user-1", "client_id": "orders-app", "scope": "orders:read"},
}
DENIED = {"isAuthorized": False}


def test_a_valid_token_is_allowed_with_its_subject_client_and_scope_as_context(
    world: World,
) -> None:
    assert world.call(world.token()) == ALLOWED


def test_f1_no_token_or_another_scheme_is_denied(world: World) -> None:
    assert world.call(None) == DENIED
    assert world.call(world.token(), scheme="Basic") == DENIED
    assert world.authorizer(event(""), None) == DENIED
    assert world.authorizer(event("Bearer"), None) == DENIED
    # Two Authorization headers reach the authorizer comma-joined: refused, never guessed.
    assert world.authorizer(event(f"Bearer {world.token()},Bearer x"), None) == DENIED


def forged_hs256(world: World) -> str:
    """HMAC-signed with the issuer's public key as the secret (the classic confusion)."""
    public = world.keys.public_jwks()["keys"][0]
    header = {"alg": "HS256", "kid": public["kid"], "typ": "at+jwt"}
    claims = jwt.decode(world.token(), options={"verify_signature": False})
    segments = [
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
        for part in (header, claims)
    ]
    return ".".join([*segments, "c2lnbmF0dXJl"])


def alg_none(world: World) -> str:
    claims = jwt.decode(world.token(), options={"verify_signature": False})
    header = {"alg": "none", "kid": world.keys.current("ES256").kid, "typ": "at+jwt"}
    segments = [
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
        for part in (header, claims)
    ]
    return ".".join([*segments, ""])


def signed_by_a_stranger(world: World) -> str:
    stranger = ec.generate_private_key(ec.SECP256R1())
    claims = jwt.decode(world.token(), options={"verify_signature": False})
    kid = world.keys.current("ES256").kid
    return jwt.encode(claims, stranger, algorithm="ES256", headers={"kid": kid, "typ": "at+jwt"})


BAD_TOKENS = {
    "expired": lambda w: w.token(exp=int(time.time()) - 1),
    "malformed": lambda w: "not-a-jwt",
    "wrongly signed": signed_by_a_stranger,
    "alg none": alg_none,
    "HMAC with the public key": forged_hs256,
    "unknown crit": lambda w: w.token(headers={"crit": ["exp"]}),
    "embedded jwk": lambda w: w.token(headers={"jwk": {"kty": "EC"}}),
    "jku": lambda w: w.token(headers={"jku": "https://evil.example/jwks"}),
    "typ JWT (an ID token's)": lambda w: w.token(headers={"typ": "JWT"}),
    "unknown kid": lambda w: w.token(headers={"kid": "someone-else"}),
    "no client_id": lambda w: w.token(client_id=None),
}


@pytest.mark.parametrize("make", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_f2_bad_tokens_are_denied(world: World, make: Any) -> None:
    assert world.call(make(world)) == DENIED


def test_f3_a_token_without_the_routes_scope_is_denied(world: World) -> None:
    assert world.call(world.token(scope="orders:write")) == DENIED
    assert world.call(world.token(scope="")) == DENIED
    # A scope is a whole word, not a prefix or a substring.
    assert world.call(world.token(scope="orders:reader orders:rea")) == DENIED


def test_f3_every_required_scope_is_needed(session_keys: KeySet) -> None:
    both = World(session_keys, "orders:read", "orders:write")
    assert both.call(both.token(scope="orders:read")) == DENIED
    assert both.call(both.token(scope="orders:write")) == DENIED
    assert both.call(both.token(scope="orders:write openid orders:read"))["isAuthorized"] is True


def test_f3_no_required_scope_allows_any_token_for_the_api(session_keys: KeySet) -> None:
    anyone = World(session_keys)
    assert anyone.call(anyone.token(scope=""))["isAuthorized"] is True


@pytest.mark.parametrize(
    "query",
    ["access_token=abc", "a=1&access_token=", "access%5Ftoken=abc", "x=1&access_token"],
)
def test_f4_a_token_in_the_query_string_is_denied_even_with_a_header(
    world: World, query: str
) -> None:
    assert world.call(world.token(), query=query) == DENIED


def test_f4_other_query_strings_do_not_matter(world: World) -> None:
    # Many parameters and odd encodings: this API's business, not the token's.
    query = "&".join(f"p{i}=%FF%20+{i}" for i in range(200)) + "&token_type=x"
    assert world.call(world.token(), query=query) == ALLOWED


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
def test_f5_the_scheme_is_case_insensitive(world: World, scheme: str) -> None:
    assert world.call(world.token(), scheme=scheme) == ALLOWED


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "https://billing.example.com"},
        {"aud": f"{ISSUER}/resource"},  # the built-in API's token
        {"aud": "https://orders.example.com/"},
        {"aud": ["https://billing.example.com"]},
        {"aud": None},
        {"iss": "https://auth.example.com.evil.example"},
        {"iss": "https://auth.example.com/"},
        {"iss": "http://auth.example.com"},
        {"iss": None},
    ],
    ids=str,
)
def test_f6_a_wrong_audience_or_issuer_is_denied(world: World, claims: dict[str, Any]) -> None:
    assert world.call(world.token(**claims)) == DENIED


def test_f6_a_token_for_several_apis_including_this_one_is_allowed(world: World) -> None:
    token = world.token(aud=["https://billing.example.com", ORDERS])
    assert world.call(token) == ALLOWED


@pytest.mark.parametrize("kind", [KIND_ACCESS_TOKEN, KIND_GRANT])
def test_f7_a_revoked_token_or_grant_is_denied_once_the_list_is_refreshed(
    world: World, kind: str
) -> None:
    token = world.token()
    assert world.call(token) == ALLOWED
    world.revocations.revoked.add(
        revocation_id(kind, "jti-1" if kind == KIND_ACCESS_TOKEN else "grant-1")
    )
    # Within the refresh period the list read is kept: no read of the issuer per request.
    assert world.call(token) == ALLOWED
    assert len(world.revocations.uris) == 1
    world.now[0] += 1
    assert world.call(token) == DENIED
    assert world.revocations.uris == [f"{ISSUER}/revocations"] * 2
    # Another token of another grant is not touched.
    assert world.call(world.token(jti="jti-2", grant_id="grant-2")) == ALLOWED


def test_f7_revocations_that_cannot_be_read_raise_and_never_allow(world: World) -> None:
    token = world.token()
    assert world.call(token) == ALLOWED
    world.revocations.failing = True
    world.now[0] += 2  # a list this old still serves (at most three refresh periods)
    assert world.call(token) == ALLOWED
    world.now[0] += 2
    # API Gateway answers an exception 500: neither allowed nor a cached deny.
    with pytest.raises(RevocationsUnavailable):
        world.call(token)


def test_a_key_set_that_cannot_be_read_raises_and_never_allows(world: World) -> None:
    world.jwks_failing = True
    with pytest.raises(JwksUnavailable):
        world.call(world.token())


def test_a_payload_1_0_event_raises_rather_than_checking_half_the_request(world: World) -> None:
    old = {k: v for k, v in event(f"Bearer {world.token()}").items() if k != "rawQueryString"}
    old["version"] = "1.0"
    with pytest.raises(ValueError, match=r"2\.0"):
        world.authorizer(old, None)


def test_header_names_are_found_whatever_their_case(world: World) -> None:
    called = event(None)
    called["headers"]["Authorization"] = f"Bearer {world.token()}"
    assert world.authorizer(called, None) == ALLOWED


def test_refusals_are_counted_and_no_token_is_written(
    world: World, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    token = world.token(aud="https://billing.example.com")
    assert world.call(token) == DENIED
    assert world.call(token, query=f"access_token={token}") == DENIED
    written = capsys.readouterr()
    assert token not in written.out + written.err + caplog.text
    signature = token.rsplit(".", 1)[1]
    assert signature not in written.out + written.err + caplog.text


# --- Settings --------------------------------------------------------------------------------

ENV = {
    constants.ENV_ISSUER: ISSUER,
    ENV_AUDIENCE: ORDERS,
    ENV_REQUIRED_SCOPES: " orders:read  orders:write ",
}


def test_settings_from_the_environment() -> None:
    settings = AuthorizerSettings.from_env(ENV)
    assert settings.issuer == ISSUER
    assert settings.audience == ORDERS
    assert settings.required_scopes == {"orders:read", "orders:write"}
    assert settings.jwks == f"{ISSUER}/.well-known/jwks.json"
    assert settings.revocations == f"{ISSUER}/revocations"
    assert settings.revocation_refresh == constants.REVOCATION_REFRESH_SECONDS
    custom = AuthorizerSettings.from_env(
        {
            **ENV,
            constants.ENV_ISSUER: f"{ISSUER}/",
            constants.ENV_JWKS_URI: "https://keys.example.com/jwks",
            constants.ENV_REVOCATIONS_URI: "https://keys.example.com/revoked",
            constants.ENV_REVOCATION_REFRESH: "7",
        }
    )
    assert custom.issuer == ISSUER
    assert custom.jwks == "https://keys.example.com/jwks"
    assert custom.revocations == "https://keys.example.com/revoked"
    assert custom.revocation_refresh == 7
    assert AuthorizerSettings.from_env({**ENV, ENV_REQUIRED_SCOPES: ""}).required_scopes == set()


@pytest.mark.parametrize(
    "change",
    [
        {constants.ENV_ISSUER: ""},  # never the API's own domain
        {constants.ENV_ISSUER: "http://auth.example.com"},
        {constants.ENV_ISSUER: "https://auth.example.com?x=1"},
        {ENV_AUDIENCE: ""},
        {ENV_AUDIENCE: "orders"},
        {ENV_AUDIENCE: "https://orders.example.com#x"},
        {ENV_AUDIENCE: f"{ORDERS} https://billing.example.com"},
        {ENV_REQUIRED_SCOPES: 'orders:"read'},
        {constants.ENV_REVOCATION_REFRESH: "0"},
        {constants.ENV_REVOCATION_REFRESH: "soon"},
    ],
    ids=str,
)
def test_a_misconfigured_authorizer_refuses_to_start(change: dict[str, str]) -> None:
    with pytest.raises(AuthorizerConfigError):
        AuthorizerSettings.from_env({**ENV, **change})


def test_without_an_issuer_the_error_names_the_variable() -> None:
    with pytest.raises(AuthorizerConfigError, match=constants.ENV_ISSUER):
        AuthorizerSettings.from_env({ENV_AUDIENCE: ORDERS})


def test_a_loopback_issuer_may_be_plain_http() -> None:
    local = AuthorizerSettings.from_env({**ENV, constants.ENV_ISSUER: "http://127.0.0.1:8000"})
    assert local.jwks == "http://127.0.0.1:8000/.well-known/jwks.json"


# --- The handler module ----------------------------------------------------------------------


def load_handler(name: str) -> ModuleType:
    path = ROOT / "functions" / "authorizer" / "authorizer_handler.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_handler_reads_its_settings_when_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(constants.ENV_REVOCATION_REFRESH, "3")
    handler = load_handler("authorizer_handler_configured").lambda_handler
    assert isinstance(handler, Authorizer)
    assert handler.settings == AuthorizerSettings.from_env(
        {**ENV, constants.ENV_REVOCATION_REFRESH: "3"}
    )
    assert handler(event(None), None) == DENIED
    monkeypatch.delenv(ENV_AUDIENCE)
    with pytest.raises(AuthorizerConfigError, match=ENV_AUDIENCE):
        load_handler("authorizer_handler_misconfigured")


def dpop_world(keys: KeySet) -> World:
    """An authorizer configured for DPoP (AUTHORIZER_DPOP=on)."""
    world = World(keys, "orders:read")
    world.settings = AuthorizerSettings(
        issuer=ISSUER, audience=ORDERS, required_scopes=frozenset({"orders:read"}), dpop=True
    )
    world.authorizer = Authorizer.from_settings(
        world.settings,
        JwksCache(world._jwks, monotonic=lambda: world.now[0]),
        RevocationList(world.revocations, 1, monotonic=lambda: world.now[0]),
    )
    return world


def dpop_event(token: str, proof: str | None, scheme: str = "DPoP") -> dict[str, Any]:
    called = event(f"{scheme} {token}")
    called["requestContext"]["domainName"] = "orders.example.com"
    if proof is not None:
        called["headers"]["dpop"] = proof
    return called


def test_p3_the_authorizer_takes_a_bound_token_only_with_a_fresh_proof_of_its_key(
    session_keys: KeySet,
) -> None:
    world = dpop_world(session_keys)
    key = DpopKey()
    token = world.token(cnf={"jkt": key.jkt})
    url = "https://orders.example.com/orders"
    proof = key.proof("GET", url, access_token=token)
    assert world.authorizer(dpop_event(token, proof), None) == ALLOWED
    for refused in (
        dpop_event(token, proof),  # replayed in this container
        dpop_event(token, None),
        dpop_event(token, key.proof("GET", url, access_token=token), scheme="Bearer"),
        dpop_event(token, DpopKey().proof("GET", url, access_token=token)),
        dpop_event(token, key.proof("GET", "https://orders.example.com/other", access_token=token)),
        dpop_event(world.token(), key.proof("GET", url, access_token=world.token())),  # unbound
    ):
        assert world.authorizer(refused, None) == DENIED
    # Unbound bearer tokens are still taken by a DPoP-configured authorizer.
    assert world.call(world.token()) == ALLOWED


def test_p3_an_authorizer_not_configured_for_dpop_refuses_bound_tokens(world: World) -> None:
    key = DpopKey()
    token = world.token(cnf={"jkt": key.jkt})
    proof = key.proof("GET", "https://orders.example.com/orders", access_token=token)
    assert world.call(token) == DENIED
    assert world.authorizer(dpop_event(token, proof), None) == DENIED


def test_p3_the_proof_url_is_https_on_the_apis_domain_and_http_only_on_loopback() -> None:
    from oauth_core.endpoints.authorizer import request_url

    deployed = {"rawPath": "/orders", "requestContext": {"domainName": "api.example.com"}}
    local = {"rawPath": "/orders", "requestContext": {"domainName": "127.0.0.1:8000"}}
    assert request_url(deployed) == "https://api.example.com/orders"
    assert request_url(local) == "http://127.0.0.1:8000/orders"
