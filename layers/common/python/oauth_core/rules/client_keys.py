"""The public keys a client registers for private_key_jwt (RFC 7523, RFC 7591 `jwks` and
`jwks_uri`): which JWK Sets are acceptable, checked when registered, so a bad set is refused up
front, not at the first token request; and where a client's keys are read from when it signs
(ClientKeySource).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oauth_core import constants
from oauth_core.clock import Clock
from oauth_core.jwk import MIN_RSA_MODULUS_CHARS, PRIVATE_MEMBERS
from oauth_core.models import Client
from oauth_core.observability import logger

MAX_CLIENT_KEYS = 10
KEY_TYPES = {"RSA": ("n", "e"), "EC": ("crv", "x", "y")}


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


# Members whose value is a list of strings (RFC 7517 4.3, 4.7): PyJWT writes `key_ops` into
# every RSA key it exports, and published sets often carry certificate chains.
LIST_MEMBERS = frozenset({"key_ops", "x5c"})


def validate_public_jwk(key: Any) -> None:
    if not isinstance(key, Mapping) or not all(
        isinstance(value, str)
        or (
            name in LIST_MEMBERS
            and isinstance(value, list)
            and all(isinstance(v, str) for v in value)
        )
        for name, value in key.items()
    ):
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
    operations = key.get("key_ops", ["verify"])
    if not isinstance(operations, list) or "verify" not in operations:
        raise UnfitKeys('key_ops must include "verify"')


# --- a client's keys when it signs ----------------------------------------------------------

# A key set fetched from a jwks_uri: how long it is used before it is fetched again; how long it
# still serves while fetching it again fails; how soon after a fetch (or a failed one) a kid it
# lacked may fetch it again. The last bounds what anyone sending assertions with made-up kids
# can make this server ask of the client's host: one fetch per URL per container so often.
KEEP_SECONDS = 300
KEEP_STALE_SECONDS = 3600
REFETCH_SECONDS = 30
MAX_KEPT_SETS = 1000
# What a fetched set may be: its size, its media types (RFC 7517 8.5), the entries read.
MAX_JWKS_BYTES = 64 * 1024
JWKS_CONTENT_TYPES = ("application/json", "application/jwk-set+json")
MAX_FETCHED_ENTRIES = 50

FetchJson = Callable[[str], dict[str, Any]]


class KeysUnavailable(Exception):
    """The client's keys could not be had: its jwks_uri is unsafe, unreachable or unfit."""


@dataclass
class _Fetched:
    keys: list[dict[str, Any]] | None  # None: never fetched successfully
    fetched_at: int
    attempted_at: int


class ClientKeySource:
    """A client's public keys: its registered JWK Set, or the set at its jwks_uri, fetched with
    `fetch` (oauth_core.http.outbound: https, public addresses, bounded size and time) and kept
    per container. Only keys that would be accepted at registration are used."""

    def __init__(self, fetch: FetchJson, clock: Clock):
        self._fetch = fetch
        self._clock = clock
        self._sets: dict[str, _Fetched] = {}
        self._lock = threading.Lock()

    def keys_for(self, client: Client, *, refresh: bool = False) -> Sequence[dict[str, Any]]:
        if client.jwks is not None:
            return list(client.jwks.get("keys") or ())
        if not client.jwks_uri:
            raise KeysUnavailable("the client registered no keys")
        return self._fetched(client.jwks_uri, refresh)

    def _fetched(self, url: str, refresh: bool) -> list[dict[str, Any]]:
        now = self._clock.now()
        with self._lock:
            kept = self._sets.get(url)
            fresh = False
            if kept is not None and kept.keys is not None:
                fresh = now - kept.fetched_at < KEEP_SECONDS
            may_fetch = kept is None or now - kept.attempted_at >= REFETCH_SECONDS
            # Fetched under the lock (a few seconds at most): a container serves one request at
            # a time, and concurrent ones would only ask the host the same question again.
            if (refresh or not fresh) and may_fetch:
                if len(self._sets) >= MAX_KEPT_SETS:
                    self._sets.clear()  # bounded: registered URLs are few
                kept = self._fetch_now(url, kept, now)
                self._sets[url] = kept
        if kept is None or kept.keys is None or now - kept.fetched_at >= KEEP_STALE_SECONDS:
            raise KeysUnavailable("the client's key set could not be fetched")
        return kept.keys

    def _fetch_now(self, url: str, kept: _Fetched | None, now: int) -> _Fetched:
        try:
            keys = fit_keys(self._fetch(url))
        except Exception as exc:  # whatever the host answered, or failed to: not a 500
            logger.info(
                "client key set refused", extra={"jwks_uri": url[:200], "reason": str(exc)[:200]}
            )
            if kept is None:
                return _Fetched(None, 0, now)
            return _Fetched(kept.keys, kept.fetched_at, now)
        return _Fetched(keys, now, now)


def fit_keys(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The keys of a fetched JWK Set that registration would accept (others, such as
    encryption keys or keys of other curves, are left out), at most MAX_CLIENT_KEYS."""
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise UnfitKeys('must be a JWK Set: {"keys": [...]}')
    fit = []
    for entry in entries[:MAX_FETCHED_ENTRIES]:
        try:
            validate_public_jwk(entry)
        except UnfitKeys:
            continue
        fit.append(dict(entry))
    return fit[:MAX_CLIENT_KEYS]
