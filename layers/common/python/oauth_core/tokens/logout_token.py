"""OpenID Connect Back-Channel Logout 1.0: logout tokens (2.4), and reading an `id_token_hint`
(RP-Initiated Logout 1.0, 2).

A logout token is a JWT of type `logout+jwt` (so it can never pass for an ID or access token),
signed as the client's ID tokens are, naming the user (`sub`) and the session (`sid`), with the
back-channel logout event and never a `nonce`; it lives two minutes.

An `id_token_hint` only tells the server who the app believes is signed in: it must be an ID
token this server signed (one of its published keys, `iss` this issuer, type `JWT`), but an
expired one is still a hint (the spec asks the server to accept them: apps keep ID tokens long
after they expire).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from oauth_core.constants import MAX_TOKEN_LENGTH, SIGNING_ALGORITHMS
from oauth_core.keys import SigningKey
from oauth_core.tokens import access_token
from oauth_core.tokens.compact import unverified_header

if TYPE_CHECKING:  # PyJWT (tens of milliseconds to import) only when a hint is read
    from oauth_core.tokens.bearer import JwksCache

LOGOUT_TOKEN_TYPE = "logout+jwt"
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TTL = 120
# Header parameters that would let a token choose its own key or how it is processed.
_FORBIDDEN_HEADERS = frozenset({"jku", "jwk", "x5u", "x5c", "crit", "b64"})


def logout_token(
    *, issuer: str, client_id: str, sub: str, sid: str, now: int, jti: str, key: SigningKey
) -> str:
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": sub,
        "aud": client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_TTL,
        "jti": jti,
        "sid": sid,
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    return access_token.sign(claims, key, LOGOUT_TOKEN_TYPE)


@dataclass(frozen=True)
class IdTokenHint:
    """What an id_token_hint says: who, for which apps, in which session."""

    sub: str
    audiences: tuple[str, ...]
    sid: str | None


class HintRefused(Exception):
    """Not an ID token of this server's: never trusted, for anything."""


class HintUnverifiable(Exception):
    """The server's own key set could not be read: try again later."""


def read_id_token_hint(token: str, *, issuer: str, jwks: JwksCache, jwks_uri: str) -> IdTokenHint:
    import jwt

    if len(token) > MAX_TOKEN_LENGTH:
        raise HintRefused("too long")
    header = unverified_header(token)
    if header is None:
        raise HintRefused("not a JWS")
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str) or alg not in SIGNING_ALGORITHMS or not isinstance(kid, str):
        raise HintRefused("not signed with an accepted algorithm")
    if _FORBIDDEN_HEADERS & header.keys() or str(header.get("typ", "")).lower() != "jwt":
        raise HintRefused("not an ID token")  # an access or logout token is no hint
    try:
        key = jwks.key(jwks_uri, kid)
    except LookupError as exc:
        raise HintUnverifiable("the key set could not be read") from exc
    if key is None or key.algorithm_name != alg:
        raise HintRefused("signed by a key that is not ours")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key.key,
            algorithms=[alg],
            issuer=issuer,
            options={
                "verify_aud": False,  # the caller matches it with client_id
                "verify_exp": False,  # an expired ID token is still a hint (RP-Initiated 2)
                "require": ["iss", "sub", "aud", "iat"],
            },
        )
    except jwt.PyJWTError as exc:
        raise HintRefused("invalid") from exc
    audience = claims["aud"]
    audiences = tuple(audience) if isinstance(audience, list) else (audience,)
    sid = claims.get("sid")
    if not all(isinstance(a, str) for a in audiences) or not isinstance(claims["sub"], str):
        raise HintRefused("malformed claims")
    return IdTokenHint(str(claims["sub"]), audiences, sid if isinstance(sid, str) else None)
