"""The resource server's side (RFC 6750, RFC 9068): verify a bearer JWT against the JWKS.

Algorithms, issuer, audience, expiry and `typ` are pinned; the key is chosen by `kid` from the
issuer's published JWKS and its own `alg` is the only algorithm accepted for it, so neither
`alg: none` nor an HMAC signed with a public key can pass. Imports no AWS SDK.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt

from oauth_core.constants import ACCESS_TOKEN_TYPE, MAX_TOKEN_LENGTH, SIGNING_ALGORITHMS
from oauth_core.errors import (
    InsufficientScope,
    InvalidBearerRequest,
    InvalidToken,
    MissingToken,
    TemporarilyUnavailable,
)
from oauth_core.tokens.compact import unverified_header
from oauth_core.tokens.revocation_list import RevocationList

if TYPE_CHECKING:
    from jwt.types import Options

ALLOWED_ALGORITHMS = frozenset(SIGNING_ALGORITHMS)
# Header parameters that would let a token choose its own key or change how it is processed
# (`b64`: RFC 7797's unencoded payloads, which no access token uses).
_FORBIDDEN_HEADERS = frozenset({"jku", "jwk", "x5u", "x5c", "crit", "b64"})
_ACCEPTED_TYPES = frozenset({ACCESS_TOKEN_TYPE, f"application/{ACCESS_TOKEN_TYPE}"})
# RFC 9068 2.2's claims, and the client_id every token of ours carries (PyJWT copies options).
_REQUIRED_CLAIMS: Options = {"require": ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]}


BEARER, DPOP = "bearer", "dpop"


def bearer_token_from(authorization: str | None, query_has_token: bool) -> str:
    """Extract the token from a `Bearer` Authorization header; the scheme is case-insensitive."""
    scheme, token = access_token_from(authorization, query_has_token)
    if scheme != BEARER:
        raise MissingToken()
    return token


def access_token_from(authorization: str | None, query_has_token: bool) -> tuple[str, str]:
    """The scheme (`bearer`, or `dpop`: RFC 9449 7.1) and the token of the Authorization
    header; the scheme is case-insensitive."""
    if query_has_token:
        # RFC 9700 2.4 / OAuth 2.1: tokens in URLs leak into logs and Referer headers.
        raise InvalidBearerRequest("access tokens are not accepted in the query string")
    if not authorization:
        raise MissingToken()
    scheme, _, token = authorization.strip().partition(" ")
    scheme = scheme.lower()
    if scheme not in (BEARER, DPOP):
        raise MissingToken()
    token = token.strip()
    if not token or " " in token or "," in token:
        raise InvalidBearerRequest("malformed Authorization header")
    return scheme, token


JwksFetcher = Callable[[str], dict[str, Any]]


def fetch_json_over_http(uri: str) -> dict[str, Any]:
    """A document of the issuer's (its JWKS, its revocations), over https (or from loopback in
    development), at most 1 MB, within 3 seconds."""
    if not uri.startswith(("https://", "http://127.0.0.1", "http://localhost", "http://[::1]")):
        raise ValueError("the issuer is read over https (or from loopback in development)")
    with urllib.request.urlopen(uri, timeout=3) as response:  # noqa: S310 - scheme checked above
        document = json.loads(response.read(1_000_000))
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    return document


fetch_jwks_over_http = fetch_json_over_http


@dataclass
class _CachedKeys:
    keys: dict[str, jwt.PyJWK]
    fetched_at: float


class JwksCache:
    """Per-container cache of a JWKS, re-fetched on an unknown `kid` at most every few seconds.

    The floor on re-fetching keeps a flood of tokens with random `kid`s from becoming a flood of
    requests to the issuer; a failed fetch is not retried sooner either, so an issuer that
    cannot answer is not asked again by every request that finds it so. While it cannot, keys
    fetched within `max_age` still verify, and without them the answer is 503.
    """

    def __init__(
        self,
        fetch: JwksFetcher = fetch_jwks_over_http,
        max_age: float = 300.0,
        min_refetch_interval: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._fetch = fetch
        self._max_age = max_age
        self._min_refetch_interval = min_refetch_interval
        self._monotonic = monotonic
        self._by_uri: dict[str, _CachedKeys] = {}
        self._failed_at: dict[str, float] = {}
        self._failure: dict[str, Exception] = {}
        self._lock = threading.Lock()

    def _load(self, uri: str) -> _CachedKeys:
        document = self._fetch(uri)
        keys: dict[str, jwt.PyJWK] = {}
        for jwk in document.get("keys", []):
            if not isinstance(jwk, dict) or not isinstance(jwk.get("alg"), str):
                continue
            if jwk["alg"] not in ALLOWED_ALGORITHMS:
                continue
            if "kid" not in jwk or jwk.get("use", "sig") != "sig":
                continue
            try:
                keys[jwk["kid"]] = jwt.PyJWK.from_dict(jwk)
            except jwt.PyJWTError:
                continue
        cached = _CachedKeys(keys, self._monotonic())
        self._by_uri[uri] = cached
        return cached

    def _must_load(self, cached: _CachedKeys | None, kid: str, now: float) -> bool:
        if cached is None:
            return True
        age = now - cached.fetched_at
        return age > self._max_age or (kid not in cached.keys and age >= self._min_refetch_interval)

    def key(self, uri: str, kid: str) -> jwt.PyJWK | None:
        with self._lock:
            cached = self._by_uri.get(uri)
            now = self._monotonic()
            if self._must_load(cached, kid, now) and not self._failed_lately(uri, now):
                try:
                    cached = self._load(uri)
                    self._failed_at.pop(uri, None)
                except Exception as exc:
                    self._failed_at[uri] = now
                    self._failure[uri] = exc
            if cached is None or now - cached.fetched_at > self._max_age:
                raise LookupError("the issuer's key set could not be fetched") from (
                    self._failure.get(uri)
                )
            return cached.keys.get(kid)

    def _failed_lately(self, uri: str, now: float) -> bool:
        failed_at = self._failed_at.get(uri)
        return failed_at is not None and now - failed_at < self._min_refetch_interval


class AccessTokenVerifier:
    """An access token's signature and claims, and (with a revocation list) that it was not
    revoked (SECURITY F7)."""

    def __init__(self, jwks: JwksCache, leeway: int = 0, revocations: RevocationList | None = None):
        self._jwks = jwks
        self._leeway = leeway
        self._revocations = revocations

    def verify(
        self,
        token: str,
        *,
        issuer: str,
        audience: str,
        jwks_uri: str,
        revocations_uri: str | None = None,
    ) -> dict[str, Any]:
        claims = self._verified(token, issuer=issuer, audience=audience, jwks_uri=jwks_uri)
        if self._revocations is not None and revocations_uri is not None:
            self._revocations.check(revocations_uri, claims)
        return claims

    def _verified(self, token: str, *, issuer: str, audience: str, jwks_uri: str) -> dict[str, Any]:
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("the access token is malformed")
        header = unverified_header(token)
        if header is None:
            raise InvalidToken("the access token is malformed")
        alg = header.get("alg")
        kid = header.get("kid")
        # A JSON list or object is no algorithm (and would not even hash): refused, not a 500.
        if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS or not isinstance(kid, str):
            raise InvalidToken("the access token is not signed with an accepted algorithm")
        if _FORBIDDEN_HEADERS & header.keys():
            raise InvalidToken("the access token carries a forbidden header parameter")
        if str(header.get("typ", "")).lower() not in _ACCEPTED_TYPES:
            raise InvalidToken("the token is not an access token")
        try:
            key = self._jwks.key(jwks_uri, kid)
        except Exception as exc:  # the issuer's JWKS could not be had: not the caller's fault
            raise JwksUnavailable("cannot verify tokens") from exc
        if key is None or key.algorithm_name != alg:
            raise InvalidToken("the access token is signed by an unknown key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=[alg],
                audience=audience,
                issuer=issuer,
                leeway=self._leeway,
                options=_REQUIRED_CLAIMS,
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("the access token has expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("the access token is invalid") from exc
        return claims


class JwksUnavailable(TemporarilyUnavailable):
    """The issuer's key set could not be fetched: tokens cannot be verified now."""


def require_scope(claims: dict[str, Any], needed: str) -> None:
    granted = str(claims.get("scope", "")).split()
    if needed not in granted:
        raise InsufficientScope("the access token lacks the required scope", scope=needed)
