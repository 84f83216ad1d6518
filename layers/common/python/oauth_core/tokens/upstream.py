"""Signing in with another OpenID Connect provider: the relying party's side of OpenID Connect
Core 3.1 and Discovery 1.0 (docs/federation.md; SECURITY U1-U3, U5).

- The provider's metadata is read from its discovery document, whose `issuer` must be the one
  the operator declared, exactly (Discovery 4.3): a look-alike cannot stand in for it. Its
  metadata and keys are fetched under the outbound rules (oauth_core.http.outbound: https,
  public addresses, loopback only on a local stack, no redirect, bounded size and time) and kept
  per container; an unknown key id fetches the keys again, at most every 30 seconds.
- The authorization request carries PKCE (S256), `state` and `nonce`; an authorization response
  whose `iss` (RFC 9207) is not the provider's is refused, and so is one without `iss` from a
  provider that says it sends it (mix-up defence).
- The code is exchanged with the verifier, authenticating as the provider's metadata allows
  (client_secret_basic if it may, else client_secret_post).
- The ID token must be signed by a key of the provider's JWKS with an asymmetric algorithm the
  provider names (never `none`, never an HMAC), with `iss` the provider's issuer exactly, `aud`
  holding our client id (and `azp` our client id when there are several audiences or an `azp`
  at all), `exp` not past, `iat` neither ahead nor more than ten minutes old, `nonce` ours,
  and `auth_time` within `max_age` when one was asked for.
"""

from __future__ import annotations

import base64
import hmac
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode, urlsplit

import jwt

from oauth_core import constants
from oauth_core.catalog import ProviderDefinition
from oauth_core.clock import Clock
from oauth_core.observability import logger
from oauth_core.tokens.compact import unverified_header

# Asymmetric signatures only: an HMAC ID token would be keyed with our client secret.
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC"}
# Header parameters that would let a token name its own key or change how it is read.
_FORBIDDEN_HEADERS = frozenset({"jku", "jwk", "x5u", "x5c", "crit", "b64"})
MAX_ID_TOKEN_LENGTH = 16 * 1024
MAX_CODE_LENGTH = 2048
MAX_SUBJECT_LENGTH = 255  # OpenID Connect Core 2: `sub` is at most 255 ASCII characters
LEEWAY = 60  # seconds of clock difference allowed on exp, iat and auth_time
MAX_ID_TOKEN_AGE = 600  # an ID token just issued by the token endpoint is not older than this
# How long what a provider publishes is kept per container; how soon keys lacking a kid may be
# fetched again; how long kept metadata still serves while the provider cannot be reached.
METADATA_SECONDS = 3600
KEYS_SECONDS = 600
REFETCH_SECONDS = 30
STALE_SECONDS = 24 * 3600
# Fetches and token requests: their size, their media types, their time.
MAX_DOCUMENT_BYTES = 64 * 1024
CONTENT_TYPES = ("application/json", "application/jwk-set+json")
TIMEOUT_SECONDS = 3.0

FetchJson = Callable[[str], dict[str, Any]]
PostForm = Callable[[str, dict[str, str], dict[str, str]], tuple[int, dict[str, Any]]]


class UpstreamRefused(Exception):
    """An upstream answer (or the lack of one) this server does not accept. `reason` is a fixed
    word for the audit record, the metric and the log, never anything the provider wrote."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail  # for the log only: never shown, never a secret


@dataclass(frozen=True)
class ProviderMetadata:
    """What this server uses of a provider's discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_auth_method: str  # client_secret_basic or client_secret_post
    iss_parameter_supported: bool  # RFC 9207: then every response must carry `iss`
    algorithms: tuple[str, ...]  # ID token algorithms both sides accept


def _endpoint(document: Mapping[str, Any], name: str, issuer: str) -> str:
    """An endpoint of the provider: https, or http only for an http issuer (a local stack)."""
    value = document.get(name)
    if not isinstance(value, str) or len(value) > 2048:
        raise UpstreamRefused("bad_metadata", f"{name} is missing")
    parts = urlsplit(value)
    scheme = urlsplit(issuer).scheme
    if parts.scheme not in ("https", scheme) or not parts.hostname or parts.fragment:
        raise UpstreamRefused("bad_metadata", f"{name} is not an https URL")
    return value


def metadata_from(document: Mapping[str, Any], expected_issuer: str) -> ProviderMetadata:
    """The metadata of a discovery document that names `expected_issuer`, exactly, and offers
    what this server needs (the code flow, PKCE S256, a client secret method it can use, an
    asymmetric ID token algorithm); else UpstreamRefused."""
    if document.get("issuer") != expected_issuer:
        raise UpstreamRefused("issuer_mismatch", "the discovery document names another issuer")
    responses = document.get("response_types_supported")
    if isinstance(responses, list) and "code" not in responses:
        raise UpstreamRefused("bad_metadata", "the provider does not offer the code flow")
    methods = document.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise UpstreamRefused("bad_metadata", "the provider does not offer PKCE with S256")
    # OpenID Connect Discovery 3: client_secret_basic when the provider names no methods.
    auth_methods = document.get("token_endpoint_auth_methods_supported")
    if not isinstance(auth_methods, list):
        auth_methods = [constants.AUTH_METHOD_BASIC]
    chosen = next(
        (m for m in (constants.AUTH_METHOD_BASIC, constants.AUTH_METHOD_POST) if m in auth_methods),
        None,
    )
    if chosen is None:
        raise UpstreamRefused("bad_metadata", "the provider takes no client secret method")
    offered = document.get("id_token_signing_alg_values_supported")
    if not isinstance(offered, list):
        offered = ["RS256"]
    algorithms = tuple(alg for alg in ID_TOKEN_ALGORITHMS if alg in offered)
    if not algorithms:
        raise UpstreamRefused("bad_metadata", "the provider signs ID tokens with no algorithm")
    return ProviderMetadata(
        issuer=expected_issuer,
        authorization_endpoint=_endpoint(document, "authorization_endpoint", expected_issuer),
        token_endpoint=_endpoint(document, "token_endpoint", expected_issuer),
        jwks_uri=_endpoint(document, "jwks_uri", expected_issuer),
        token_auth_method=chosen,
        iss_parameter_supported=document.get("authorization_response_iss_parameter_supported")
        is True,
        algorithms=algorithms,
    )


@dataclass
class _Kept:
    value: Any  # None: never fetched successfully
    fetched_at: int
    attempted_at: int


class UpstreamProviders:
    """What each declared provider publishes (metadata, keys), fetched with `fetch` and kept per
    container, and the exchanges with it (`post`)."""

    def __init__(self, fetch: FetchJson, post: PostForm, clock: Clock):
        self._fetch = fetch
        self._post = post
        self._clock = clock
        self._kept: dict[str, _Kept] = {}
        self._lock = threading.Lock()

    def metadata(self, provider: ProviderDefinition) -> ProviderMetadata:
        issuer = provider.issuer

        def load() -> ProviderMetadata:
            return metadata_from(self._fetch(provider.discovery_url), issuer)

        found: ProviderMetadata = self._kept_or_fetch(
            f"metadata {provider.discovery_url}", load, METADATA_SECONDS
        )
        return found

    def keys(self, metadata: ProviderMetadata, *, refresh: bool = False) -> list[dict[str, Any]]:
        def load() -> list[dict[str, Any]]:
            document = self._fetch(metadata.jwks_uri)
            entries = document.get("keys")
            if not isinstance(entries, list):
                raise UpstreamRefused("bad_keys", "the JWKS holds no keys")
            return [dict(entry) for entry in entries[:50] if isinstance(entry, dict)]

        found: list[dict[str, Any]] = self._kept_or_fetch(
            f"keys {metadata.jwks_uri}", load, KEYS_SECONDS, refresh=refresh
        )
        return found

    def _kept_or_fetch(
        self, key: str, load: Callable[[], Any], keep: int, *, refresh: bool = False
    ) -> Any:
        now = self._clock.now()
        with self._lock:
            kept = self._kept.get(key)
            fresh = kept is not None and kept.value is not None and now - kept.fetched_at < keep
            may_fetch = kept is None or now - kept.attempted_at >= REFETCH_SECONDS
            # Under the lock: a container serves one request at a time, and concurrent ones
            # would only ask the provider the same question again.
            if (refresh or not fresh) and may_fetch:
                try:
                    kept = _Kept(load(), now, now)
                except Exception as exc:  # whatever the provider answered, or failed to
                    logger.info(
                        "upstream provider document refused",
                        extra={"what": key[:200], "reason": str(exc)[:200]},
                    )
                    kept = _Kept(kept.value, kept.fetched_at, now) if kept else _Kept(None, 0, now)
                    if isinstance(exc, UpstreamRefused) and kept.value is None:
                        self._kept[key] = kept
                        raise
                self._kept[key] = kept
        if kept is None or kept.value is None or now - kept.fetched_at >= STALE_SECONDS:
            raise UpstreamRefused("provider_unavailable", "the provider could not be read")
        return kept.value

    # --- the code exchange ----------------------------------------------------------------

    def exchange_code(
        self,
        metadata: ProviderMetadata,
        client_id: str,
        client_secret: str,
        code: str,
        redirect_uri: str,
        verifier: str,
    ) -> str:
        """The ID token the provider's token endpoint gives for `code`, or UpstreamRefused."""
        fields = {
            "grant_type": constants.GRANT_AUTHORIZATION_CODE,
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        headers: dict[str, str] = {}
        if metadata.token_auth_method == constants.AUTH_METHOD_BASIC:
            # RFC 6749 2.3.1: each part form-url-encoded before base64.
            pair = f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        else:
            fields.update(client_id=client_id, client_secret=client_secret)
        try:
            status, answer = self._post(metadata.token_endpoint, fields, headers)
        except Exception as exc:  # unreachable, refused by the outbound rules, too large
            raise UpstreamRefused("token_request_failed", type(exc).__name__) from exc
        if status != 200:
            error = answer.get("error")
            word = error if isinstance(error, str) and error.isidentifier() else str(status)
            raise UpstreamRefused("token_request_refused", word[:40])
        id_token = answer.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise UpstreamRefused("no_id_token", "the token response carries no ID token")
        return id_token


def authorization_url(
    metadata: ProviderMetadata,
    provider: ProviderDefinition,
    redirect_uri: str,
    *,
    state: str,
    nonce: str,
    code_challenge: str,
    prompt_login: bool = False,
    max_age: int | None = None,
) -> str:
    """Where the browser goes to sign in at the provider (OIDC Core 3.1.2.1, RFC 7636)."""
    params = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": redirect_uri,
        "scope": provider.scope,
        "state": state,
        "nonce": nonce,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    if prompt_login:
        params["prompt"] = "login"
    if max_age is not None:
        params["max_age"] = str(max_age)
    base = metadata.authorization_endpoint
    separator = "&" if urlsplit(base).query else "?"
    return f"{base}{separator}{urlencode(params)}"


def check_response_issuer(metadata: ProviderMetadata, iss: str | None) -> None:
    """RFC 9207 2.4: an `iss` must be the provider's issuer, exactly; a provider that says it
    sends `iss` must have sent one."""
    if iss is None:
        if metadata.iss_parameter_supported:
            raise UpstreamRefused("issuer_missing", "the response carries no iss")
        return
    if not hmac.compare_digest(iss.encode(), metadata.issuer.encode()):
        raise UpstreamRefused("issuer_mismatch", "the response names another issuer")


def _key_for(
    header: Mapping[str, Any], alg: str, keys: list[dict[str, Any]]
) -> dict[str, Any] | None:
    kty = _KEY_TYPES[alg[:2]]
    fit = [
        key
        for key in keys
        if key.get("kty") == kty
        and key.get("use", "sig") == "sig"
        and key.get("alg", alg) == alg
        and not (set(key) & {"d", "p", "q", "dp", "dq", "qi", "k"})
    ]
    kid = header.get("kid")
    if kid is not None:
        return next((key for key in fit if key.get("kid") == kid), None)
    return fit[0] if len(fit) == 1 else None  # no kid: only a set with one such key says which


def verify_id_token(
    token: str,
    metadata: ProviderMetadata,
    keys: Callable[[bool], list[dict[str, Any]]],
    *,
    client_id: str,
    nonce: str,
    now: int,
    max_age: int | None = None,
) -> dict[str, Any]:
    """The claims of an ID token that passes every check of this module's docstring, or
    UpstreamRefused. `keys(refresh)`: the provider's keys (fetched again when asked)."""
    if len(token) > MAX_ID_TOKEN_LENGTH:
        raise UpstreamRefused("bad_id_token", "the ID token is too long")
    header = unverified_header(token)
    if header is None:
        raise UpstreamRefused("bad_id_token", "the ID token is not a JWS")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in metadata.algorithms:
        raise UpstreamRefused("bad_id_token", "the ID token's algorithm is not accepted")
    if _FORBIDDEN_HEADERS & set(header):
        raise UpstreamRefused("bad_id_token", "the ID token's header names its own key")
    key = _key_for(header, alg, keys(False))
    if key is None:
        key = _key_for(header, alg, keys(True))  # a key the provider added since
    if key is None:
        raise UpstreamRefused("unknown_key", "no key of the provider's verifies the ID token")
    try:
        verified = jwt.PyJWK.from_dict(key, algorithm=alg)
        claims: dict[str, Any] = jwt.decode(
            token,
            key=verified.key,
            algorithms=[alg],
            audience=client_id,
            issuer=metadata.issuer,
            # Times are checked below, on the injected clock.
            options={
                "require": ["iss", "sub", "aud", "exp", "iat"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.InvalidAudienceError as exc:
        raise UpstreamRefused("wrong_audience", "the ID token is for another client") from exc
    except jwt.InvalidIssuerError as exc:
        raise UpstreamRefused("issuer_mismatch", "the ID token names another issuer") from exc
    except jwt.InvalidSignatureError as exc:
        raise UpstreamRefused("bad_signature", "the ID token's signature does not verify") from exc
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise UpstreamRefused("bad_id_token", type(exc).__name__) from exc
    _check_claims(claims, client_id=client_id, nonce=nonce, now=now, max_age=max_age)
    return claims


def _number(claims: Mapping[str, Any], name: str) -> int:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UpstreamRefused("bad_id_token", f"{name} is not a number")
    return int(value)


def _check_claims(
    claims: Mapping[str, Any], *, client_id: str, nonce: str, now: int, max_age: int | None
) -> None:
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    # OIDC Core 3.1.3.7 (4, 5): with several audiences the token must say it was issued to us.
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise UpstreamRefused("wrong_audience", "the ID token's azp is not this client")
    if _number(claims, "exp") + LEEWAY <= now:
        raise UpstreamRefused("id_token_expired", "the ID token has expired")
    issued = _number(claims, "iat")
    if issued > now + LEEWAY or issued < now - MAX_ID_TOKEN_AGE - LEEWAY:
        raise UpstreamRefused("id_token_expired", "the ID token was not issued just now")
    if "nbf" in claims and _number(claims, "nbf") > now + LEEWAY:
        raise UpstreamRefused("id_token_expired", "the ID token is not valid yet")
    presented = claims.get("nonce")
    if not isinstance(presented, str) or not hmac.compare_digest(
        presented.encode(), nonce.encode()
    ):
        raise UpstreamRefused("nonce_mismatch", "the ID token's nonce is not this sign-in's")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not 0 < len(subject) <= MAX_SUBJECT_LENGTH:
        raise UpstreamRefused("bad_id_token", "the ID token's sub is not a string")
    # OIDC Core 3.1.2.1: asked with max_age, auth_time is required and must be recent.
    if max_age is not None and (
        "auth_time" not in claims or _number(claims, "auth_time") + max_age + LEEWAY < now
    ):
        raise UpstreamRefused("sign_in_too_old", "the provider's sign-in is older than asked")
