"""An API Gateway Lambda authorizer for other teams' HTTP APIs: REQUEST type, payload format 2.0,
simple responses (`{"isAuthorized": bool, "context": {...}}`). It verifies this server's access
tokens exactly as the bundled resource function does (oauth_core.endpoints.resource: the same
AccessTokenVerifier, so the same pinned issuer, audience, algorithms and `typ`, and the same
revocation list, SECURITY F7), then requires the route's scopes. Imports no AWS SDK.

What API Gateway answers (an HTTP API cannot shape its authorizer's refusals):

- no `Authorization` header: 401 `{"message":"Unauthorized"}`; the identity source is missing,
  so the authorizer is not even invoked;
- `isAuthorized: false` (no bearer token, a token in the query string, a malformed, expired,
  forged, revoked or foreign token, a wrong `aud` or `iss`, a missing scope): 403
  `{"message":"Forbidden"}`, with no `WWW-Authenticate` challenge;
- an exception (JwksUnavailable, RevocationsUnavailable: the issuer cannot be read, and tokens
  cannot be checked): 500 `{"message":"Internal Server Error"}`. Never an allow.

On an allow the backend finds `sub`, `client_id` and `scope` in the event's
`requestContext.authorizer.lambda`. API Gateway keeps each answer for the authorizer's cache TTL,
keyed by the token (infra/authorizer.py bounds that TTL by the revocation bound). Tokens are
never logged; a refusal is counted (BearerRefused), not logged.

Configured by the function's environment (infra/authorizer.py sets it): the issuer, its JWKS
and revocations as the resource function reads them (OAUTH_ISSUER, OAUTH_JWKS_URI,
OAUTH_REVOCATIONS_URI, REVOCATION_REFRESH_SECONDS), and the API's identifier and the route's
required scopes (AUTHORIZER_AUDIENCE, AUTHORIZER_REQUIRED_SCOPES), read when the handler module
is imported: a misconfigured function fails its first invocation, and never allows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from oauth_core import constants
from oauth_core.clock import SystemClock
from oauth_core.config import LOOPBACK_HOSTS, Settings
from oauth_core.errors import BearerError, InvalidScope, InvalidTarget, InvalidToken
from oauth_core.observability import count
from oauth_core.rules import resource_indicators
from oauth_core.rules import scope as scopes
from oauth_core.tokens.bearer import (
    BEARER,
    AccessTokenVerifier,
    JwksCache,
    access_token_from,
    fetch_json_over_http,
    require_scope,
)
from oauth_core.tokens.dpop import ContainerReplayCache, ProofChecker, SenderConstraint
from oauth_core.tokens.revocation_list import RevocationList

# The API's identifier (RFC 8707): the `aud` a token must carry. No default: an authorizer for
# no API in particular would accept any token of the issuer's.
ENV_AUDIENCE = "AUTHORIZER_AUDIENCE"
# Space-separated scopes a token must all carry; none: any token for the API.
ENV_REQUIRED_SCOPES = "AUTHORIZER_REQUIRED_SCOPES"
# "on": DPoP-bound tokens are taken, with a proof of each request (RFC 9449 7); the construct
# then turns API Gateway's answer cache off, since a cached allow would skip the next proof.
ENV_DPOP = "AUTHORIZER_DPOP"
# The claims handed to the backend (requestContext.authorizer.lambda), as strings.
CONTEXT_CLAIMS = ("sub", "client_id", "scope")
DENY: dict[str, Any] = {"isAuthorized": False}


class AuthorizerConfigError(ValueError):
    """The function's environment cannot configure an authorizer; the message names what."""


@dataclass(frozen=True)
class AuthorizerSettings:
    issuer: str
    audience: str
    required_scopes: frozenset[str] = frozenset()
    jwks_uri: str | None = None
    revocations_uri: str | None = None
    revocation_refresh: int = constants.REVOCATION_REFRESH_SECONDS
    dpop: bool = False

    def __post_init__(self) -> None:
        check_issuer(self.issuer)
        check_audience(self.audience)
        check_scopes(self.required_scopes)
        if self.revocation_refresh <= 0:
            raise AuthorizerConfigError("the revocation refresh must be positive")

    @property
    def jwks(self) -> str:
        return self.jwks_uri or f"{self.issuer}/.well-known/jwks.json"

    @property
    def revocations(self) -> str:
        return self.revocations_uri or f"{self.issuer}{constants.REVOCATIONS_PATH}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuthorizerSettings:
        env = os.environ if env is None else env
        try:
            issuer_wide = Settings.from_env(env)
        except ValueError as exc:
            raise AuthorizerConfigError(str(exc)) from exc
        if not issuer_wide.issuer:
            # Never the API's own domain, as the resource function would take: that is not
            # the issuer of the tokens this API accepts.
            raise AuthorizerConfigError(f"{constants.ENV_ISSUER} must name the issuer")
        return cls(
            issuer=issuer_wide.issuer,
            audience=env.get(ENV_AUDIENCE, ""),
            required_scopes=parse_scopes(env.get(ENV_REQUIRED_SCOPES, "")),
            jwks_uri=issuer_wide.jwks_uri,
            revocations_uri=issuer_wide.revocations_uri,
            revocation_refresh=issuer_wide.revocation_refresh,
            dpop=env.get(ENV_DPOP, "off") == "on",
        )


def check_issuer(issuer: str) -> None:
    """An https URL, or plain http on loopback (the local stack), with no trailing slash."""
    parts = urlsplit(issuer)
    local = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    if not (parts.scheme == "https" or local) or not parts.netloc or issuer.endswith("/"):
        raise AuthorizerConfigError(
            f"the issuer must be an https URL without a trailing slash, not {issuer!r}"
        )
    if parts.query or parts.fragment:
        raise AuthorizerConfigError(f"the issuer has no query or fragment: {issuer!r}")


def check_audience(audience: str) -> None:
    """One API identifier, as the issuer registers them (RFC 8707: absolute, no fragment)."""
    try:
        parsed = resource_indicators.parse(audience)
    except InvalidTarget as exc:
        raise AuthorizerConfigError(
            f"{ENV_AUDIENCE} must be the API's identifier, an absolute URI without a fragment"
        ) from exc
    if len(parsed) != 1:
        raise AuthorizerConfigError(f"{ENV_AUDIENCE} must name exactly one API")


def parse_scopes(text: str) -> frozenset[str]:
    try:
        return scopes.parse(" ".join(text.split()))
    except InvalidScope as exc:
        raise AuthorizerConfigError(f"{ENV_REQUIRED_SCOPES} is not a list of scopes") from exc


def check_scopes(required: frozenset[str]) -> None:
    if parse_scopes(" ".join(sorted(required))) != required:
        raise AuthorizerConfigError("the required scopes are malformed")


def query_names(raw_query: str) -> Iterator[str]:
    """The parameter names of a raw query string, percent-decoded leniently: this API's own
    query strings need not be what OAuth's parser accepts; only `access_token` matters here."""
    for field in raw_query.split("&"):
        name = field.partition("=")[0]
        yield unquote_plus(name, errors="replace") if "%" in name or "+" in name else name


def request_url(event: Mapping[str, Any]) -> str:
    """The URL the client called, as a DPoP proof's `htu` names it: https on the API's domain
    (as API Gateway reports it), plain http only on loopback (the local gateway)."""
    host = str((event.get("requestContext") or {}).get("domainName", ""))
    scheme = "http" if urlsplit(f"//{host}").hostname in LOOPBACK_HOSTS else "https"
    return f"{scheme}://{host}{event.get('rawPath', '')}"


def header(event: Mapping[str, Any], name: str) -> str | None:
    """A request header (payload 2.0 lowercases their names; repeats are comma-joined)."""
    headers = event.get("headers") or {}
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return None if value is None else str(value)


class Authorizer:
    """The authorizer of one API and one set of required scopes: `lambda_handler`."""

    def __init__(
        self,
        settings: AuthorizerSettings,
        verifier: AccessTokenVerifier,
        constraint: SenderConstraint | None = None,
    ):
        self.settings = settings
        self._verifier = verifier
        self._constraint = constraint

    @classmethod
    def from_settings(
        cls,
        settings: AuthorizerSettings,
        jwks: JwksCache | None = None,
        revocations: RevocationList | None = None,
    ) -> Authorizer:
        """Over HTTP from the issuer, unless stand-ins are given (the tests')."""
        if revocations is None:
            revocations = RevocationList(fetch_json_over_http, settings.revocation_refresh)
        verifier = AccessTokenVerifier(jwks or JwksCache(), revocations=revocations)
        constraint = None
        if settings.dpop:
            clock = SystemClock()
            replays = ContainerReplayCache(clock)
            constraint = SenderConstraint(ProofChecker(clock, replays.use_once))
        return cls(settings, verifier, constraint)

    def claims(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The verified claims of the request's token, which carries every required scope;
        else a BearerError (denied). The issuer's documents unavailable: TemporarilyUnavailable
        (raised: API Gateway answers 500)."""
        if event.get("version") != "2.0":
            # Payload 1.0 has no raw query string: the query check below would be blind.
            raise ValueError("the authorizer takes payload format 2.0 events only")
        in_query = "access_token" in set(query_names(str(event.get("rawQueryString") or "")))
        scheme, token = access_token_from(header(event, "authorization"), in_query)
        settings = self.settings
        claims = self._verifier.verify(
            token,
            issuer=settings.issuer,
            audience=settings.audience,
            jwks_uri=settings.jwks,
            revocations_uri=settings.revocations,
        )
        if self._constraint is not None:
            method = str(((event.get("requestContext") or {}).get("http") or {}).get("method"))
            self._constraint.check(
                scheme, token, claims, header(event, "dpop"), method=method, url=request_url(event)
            )
        elif scheme != BEARER or "cnf" in claims:
            # Not configured for DPoP: a bound token cannot be checked here (or cached safely).
            raise InvalidToken("this API takes bearer tokens only")
        for needed in sorted(settings.required_scopes):
            require_scope(claims, needed)
        return claims

    def __call__(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        try:
            claims = self.claims(event)
        except BearerError as refused:
            count("BearerRefused", error=refused.error or "missing_token")
            return dict(DENY)
        return {"isAuthorized": True, "context": context_of(claims)}


def context_of(claims: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(claims.get(name, "")) for name in CONTEXT_CLAIMS}


def from_env(env: Mapping[str, str] | None = None) -> Authorizer:
    """The authorizer function's handler: its settings from the environment, the issuer's keys
    and revocations over HTTP."""
    return Authorizer.from_settings(AuthorizerSettings.from_env(env))
