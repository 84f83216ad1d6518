"""Client assertions: `private_key_jwt` (RFC 7523 2.2 and 3, RFC 7521 4.2, OpenID Connect
Core 9). A client proves who it is with a JWT signed by a key it registered (`jwks`, or the set
at its `jwks_uri`), sent as `client_assertion` with `client_assertion_type` jwt-bearer.

What is accepted:

- header: `alg` one of CLIENT_SIGNING_ALGORITHMS (never `none`, never an HMAC: no shared secret
  exists to check it with); no parameter that names its own key (`jwk`, `jku`, `x5u`, `x5c`) or
  changes how it is read (`crit`, `b64`); `typ` absent, `JWT` or `client-authentication+jwt`,
  so no other kind of JWT (a DPoP proof, an access token) passes for an assertion;
- `iss` and `sub` both the client's id (and the form's `client_id`, when one is sent);
- `aud` (a string, or a list holding it) names this server: its issuer, its token endpoint, or
  the URL the request was sent to (`/revoke`, `/introspect`), as RFC 7523 3 allows. Nothing
  else: an assertion made for another server is refused here;
- `exp` required and not past; `iat` and `nbf`, when present, not in the future; an assertion is
  used within MAX_AGE seconds of its `iat` (without `iat`, its `exp` is at most MAX_AGE ahead),
  and none expires more than MAX_LIFETIME ahead (Authlib's default, an hour, is within it);
  LEEWAY seconds of clock skew either way;
- `jti` required, and used once: recorded in the grants table (GrantStore.use_once, one
  conditional write) for as long as the assertion could otherwise pass, so a replay to another
  container is refused too. Recorded only once the signature is verified, so no one who lacks
  the client's key can spend a `jti` the client will use;
- the signature: by the registered key the header's `kid` names (keys registered without a
  `kid` are tried too), or with no `kid` by each registered key of the algorithm's type. When no
  key fetched from a `jwks_uri` verifies it (the client may have added one since), the set is
  fetched again, at most every so often (oauth_core.rules.client_keys).

The header and the claims are checked before the client is looked up, so an unknown client and
a registered one get the same answers to a bad assertion (SECURITY E3). Imports no PyJWT until a
signature is checked: the token function's hot path (a client secret) never loads it.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from oauth_core import constants
from oauth_core.clock import Clock
from oauth_core.errors import InvalidClient
from oauth_core.models import Client
from oauth_core.ports import GrantStore
from oauth_core.rules.client_keys import KeysUnavailable
from oauth_core.rules.hashing import token_hash

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Clock skew allowed between the client's machine and this server, in seconds.
LEEWAY = 30
# How long after its `iat` an assertion is accepted (without `iat`: how far ahead its `exp`).
MAX_AGE = 300
# The farthest ahead an `exp` may be.
MAX_LIFETIME = 3600
MAX_JTI_LENGTH = 256
MAX_AUDIENCES = 10
_FORBIDDEN_HEADERS = frozenset({"jwk", "jku", "x5u", "x5c", "crit", "b64"})
_ACCEPTED_TYPES = frozenset(
    {"jwt", "client-authentication+jwt", "application/client-authentication+jwt"}
)
# The key type each accepted algorithm verifies with.
KEY_TYPE = {"ES256": "EC", "PS256": "RSA", "RS256": "RSA"}
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+\Z")

# Why an assertion was refused, as the audit record says (oauth_core.audit, client_auth.failure).
BAD_ASSERTION = "bad_assertion"
WRONG_AUDIENCE = "wrong_audience"
ASSERTION_EXPIRED = "assertion_expired"
UNKNOWN_KEY = "unknown_key"
BAD_SIGNATURE = "bad_signature"
KEYS_UNAVAILABLE = "keys_unavailable"
ASSERTION_REPLAYED = "assertion_replayed"


class MalformedAssertion(InvalidClient):
    """No assertion naming a client: refused, but not counted as a failed guess (nothing was
    checked; SECURITY E9)."""


class AssertionRejected(InvalidClient):
    """An assertion naming a client that it does not authenticate: counted as a wrong secret is
    (SECURITY E8, E9), and audited with why (`audit_reason`). Where the answer would tell whether
    the client exists, it says only "client authentication failed" (SECURITY E3)."""

    def __init__(self, description: str, *, reason: str):
        super().__init__(description)
        self.audit_reason = reason


class KeySource(Protocol):
    def keys_for(self, client: Client, *, refresh: bool = False) -> Sequence[dict[str, Any]]:
        """The client's public JWKs (fetched anew from its jwks_uri when `refresh`, at most so
        often); KeysUnavailable if there are none to be had."""
        ...


@dataclass(frozen=True)
class ClientAssertion:
    """An assertion as presented, read but not yet verified."""

    token: str
    header: dict[str, Any]
    claims: dict[str, Any]

    @property
    def client_id(self) -> str:
        return str(self.claims["sub"])

    @property
    def alg(self) -> str:
        return str(self.header["alg"])

    @property
    def kid(self) -> str | None:
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None


def read_assertion(token: str) -> ClientAssertion:
    """The header and claims of a compact JWS whose `sub` names a client; MalformedAssertion if
    it is none."""
    if len(token) > constants.MAX_TOKEN_LENGTH:
        raise MalformedAssertion("the client assertion is too long")
    parts = token.split(".")
    if len(parts) != 3 or not all(_SEGMENT.match(part) for part in parts):
        raise MalformedAssertion("the client assertion is not a signed JWT")
    header, claims = _json_object(parts[0]), _json_object(parts[1])
    if header is None or claims is None or not isinstance(claims.get("sub"), str):
        raise MalformedAssertion("the client assertion is not a signed JWT")
    return ClientAssertion(token, header, claims)


def _json_object(segment: str) -> dict[str, Any] | None:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw, object_pairs_hook=_unique_members)
    except (ValueError, binascii.Error, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A member named twice would let two readers see two different values: refused.
    members = dict(pairs)
    if len(members) != len(pairs):
        raise ValueError("a member is named twice")
    return members


def assertion_audiences(issuer: str, path: str) -> frozenset[str]:
    """What an assertion sent to `path` may name as its `aud`: the issuer, its token endpoint,
    and the endpoint the request was sent to."""
    return frozenset({issuer, f"{issuer}/token", f"{issuer}{path}"})


def replay_key(client_id: str, jti: str) -> str:
    return "assertion#" + token_hash(json.dumps([client_id, jti]))


class AssertionVerifier:
    def __init__(self, keys: KeySource, grants: GrantStore, clock: Clock):
        self._keys = keys
        self._grants = grants
        self._clock = clock

    def check_claims(self, assertion: ClientAssertion, audiences: Collection[str]) -> None:
        """What needs no client: the header, and the claims against the audiences and the
        time."""
        _check_header(assertion.header)
        claims = assertion.claims
        if claims.get("iss") != claims["sub"]:
            raise AssertionRejected(
                "the client assertion's iss and sub must both be the client_id",
                reason=BAD_ASSERTION,
            )
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
            raise AssertionRejected("the client assertion needs a jti", reason=BAD_ASSERTION)
        _check_audience(claims.get("aud"), audiences)
        self._check_times(claims)

    def verify(self, client: Client, assertion: ClientAssertion) -> None:
        """The signature by one of the client's keys, then the `jti`'s single use. Call
        check_claims first."""
        self._check_signature(client, assertion)
        until = _usable_until(assertion.claims)
        if not self._grants.use_once(replay_key(client.client_id, assertion.claims["jti"]), until):
            raise AssertionRejected(
                "the client assertion was used before", reason=ASSERTION_REPLAYED
            )

    def _check_times(self, claims: dict[str, Any]) -> None:
        now = self._clock.now()
        exp, iat, nbf = _time(claims, "exp"), _time(claims, "iat"), _time(claims, "nbf")
        if exp is None:
            raise AssertionRejected("the client assertion needs an exp", reason=BAD_ASSERTION)
        if now >= exp + LEEWAY:
            raise AssertionRejected("the client assertion has expired", reason=ASSERTION_EXPIRED)
        if exp > now + MAX_LIFETIME + LEEWAY:
            raise AssertionRejected(
                "the client assertion expires too far in the future", reason=ASSERTION_EXPIRED
            )
        if iat is None and exp > now + MAX_AGE + LEEWAY:
            raise AssertionRejected(
                "a client assertion without iat must expire within 300 seconds",
                reason=ASSERTION_EXPIRED,
            )
        if (iat is not None and iat > now + LEEWAY) or (nbf is not None and nbf > now + LEEWAY):
            raise AssertionRejected(
                "the client assertion is not valid yet", reason=ASSERTION_EXPIRED
            )
        if iat is not None and now >= iat + MAX_AGE + LEEWAY:
            raise AssertionRejected(
                "the client assertion was issued too long ago", reason=ASSERTION_EXPIRED
            )

    def _check_signature(self, client: Client, assertion: ClientAssertion) -> None:
        alg, kid = assertion.alg, assertion.kid
        tried: list[dict[str, Any]] = []
        # Keys fetched from a jwks_uri may predate a key the client has added since: when none
        # of them verifies, the set is fetched again (at most so often: rules.client_keys).
        for refresh in (False, True) if client.jwks_uri else (False,):
            try:
                keys = self._keys.keys_for(client, refresh=refresh)
            except KeysUnavailable as exc:
                if refresh:
                    break
                raise AssertionRejected(
                    "client authentication failed", reason=KEYS_UNAVAILABLE
                ) from exc
            candidates = [key for key in _matching(keys, alg, kid) if key not in tried]
            if any(_signed_by(assertion.token, key, alg) for key in candidates):
                return
            tried += candidates
        reason = BAD_SIGNATURE if tried else UNKNOWN_KEY
        raise AssertionRejected("client authentication failed", reason=reason)


def _check_header(header: dict[str, Any]) -> None:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in constants.CLIENT_SIGNING_ALGORITHMS:
        raise AssertionRejected("the client assertion's alg is not accepted", reason=BAD_ASSERTION)
    if _FORBIDDEN_HEADERS & header.keys():
        raise AssertionRejected(
            "the client assertion carries a forbidden header parameter", reason=BAD_ASSERTION
        )
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in _ACCEPTED_TYPES):
        raise AssertionRejected("the client assertion's typ is not accepted", reason=BAD_ASSERTION)
    if "kid" in header and not isinstance(header["kid"], str):
        raise AssertionRejected("the client assertion's kid must be a string", reason=BAD_ASSERTION)


def _check_audience(aud: Any, accepted: Collection[str]) -> None:
    named = [aud] if isinstance(aud, str) else aud
    if (
        not isinstance(named, list)
        or not 0 < len(named) <= MAX_AUDIENCES
        or not all(isinstance(value, str) for value in named)
    ):
        raise AssertionRejected("the client assertion needs an aud", reason=BAD_ASSERTION)
    if not any(value in accepted for value in named):
        raise AssertionRejected(
            "the client assertion is not for this server", reason=WRONG_AUDIENCE
        )


def _time(claims: dict[str, Any], name: str) -> float | None:
    """A NumericDate claim (RFC 7519 2), or None when absent."""
    value = claims.get(name)
    if value is None:
        return None
    finite = isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
    if isinstance(value, bool) or not finite:
        raise AssertionRejected(
            "the client assertion's exp, iat or nbf is no time", reason=BAD_ASSERTION
        )
    return value


def _usable_until(claims: dict[str, Any]) -> int:
    """When every check above would refuse the assertion anyway: its `jti` is kept until then."""
    end = claims["exp"]
    if claims.get("iat") is not None:
        end = min(end, claims["iat"] + MAX_AGE)
    return math.ceil(end + LEEWAY)


def _matching(keys: Sequence[dict[str, Any]], alg: str, kid: str | None) -> list[dict[str, Any]]:
    """The keys that may have signed with `alg`: of its type, not registered for another
    algorithm, and named by `kid` (or naming none)."""
    return [
        key
        for key in keys
        if key.get("kty") == KEY_TYPE.get(alg)
        and key.get("alg", alg) == alg
        and (kid is None or key.get("kid") in (kid, None))
    ]


def _signed_by(token: str, jwk: dict[str, Any], alg: str) -> bool:
    import jwt  # lazily: only an assertion needs PyJWT in the token function

    try:
        key = jwt.PyJWK(jwk, algorithm=alg)
        jwt.PyJWS().decode(token, key=key.key, algorithms=[alg])
    except (jwt.PyJWTError, ValueError, TypeError):
        return False
    return True
