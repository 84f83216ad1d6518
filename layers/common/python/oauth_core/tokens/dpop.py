"""DPoP (RFC 9449): proofs that the caller holds the private key a token is bound to.

A proof is a JWT the client signs for one request: its header carries the public key (`jwk`),
its claims the request's method (`htm`) and URL (`htu`), when it was made (`iat`), a unique id
(`jti`), at a resource the hash of the access token (`ath`), and the server's nonce when asked
for one. Checked here, in this order: shape and header (cheap, no I/O), signature (PyJWT, loaded
only when a proof arrives), claims, and last the `jti` single use, one conditional write shared
by every container (GrantStore.use_once), so a proof replayed anywhere within its window fails.

Bound tokens carry `cnf.jkt`, the key's RFC 7638 thumbprint (oauth_core.jwk).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from oauth_core.clock import Clock
from oauth_core.constants import CLIENT_SIGNING_ALGORITHMS
from oauth_core.errors import (
    BearerError,
    InvalidDpopProof,
    InvalidDpopProofAtResource,
    InvalidToken,
)
from oauth_core.jwk import (
    MIN_RSA_MODULUS_CHARS,
    PRIVATE_MEMBERS,
    THUMBPRINT_MEMBERS,
    b64url,
    thumbprint,
)
from oauth_core.tokens.compact import unverified_header

PROOF_TYPE = "dpop+jwt"
TOKEN_TYPE = "DPoP"
# How long after its `iat` a proof is taken, and how far ahead of our clock its `iat` may be.
PROOF_MAX_AGE = 60
CLOCK_SKEW = 5
# A proof holds a public key and a few claims: an RSA-4096 key's proof is under 2 KB.
MAX_PROOF_LENGTH = 4096
MAX_JTI_LENGTH = 128
_DEFAULT_PORTS = {"https": 443, "http": 80}
# The single-use records of proofs (a resource function may write these and no other).
PROOF_RECORD_PREFIX = "dpop#"

# Records a value as used until a time; False if it already was (GrantStore.use_once).
UseOnce = Callable[[str, int], bool]


class ProofRefused(InvalidDpopProof):
    """Why a proof fails, in fixed text: answered as is at the token endpoint, and as a DPoP
    challenge at a resource."""


class NonceRequired(ProofRefused):
    """The proof lacks the server's current nonce (RFC 9449 8: answered with the nonce)."""

    error = "use_dpop_nonce"


@dataclass(frozen=True)
class Proof:
    jkt: str  # the thumbprint of the key that signed it
    jti: str
    issued_at: int


def normalized_url(url: str) -> str | None:
    """RFC 9449 4.3: `htu` compared without query and fragment, with the scheme and host in
    lower case and a default port left out (RFC 3986 6.2.2 and 6.2.3); None if not a URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path or '/'}"


def access_token_hash(access_token: str) -> str:
    """`ath`: the base64url SHA-256 of the access token (RFC 9449 4.2)."""
    return b64url(hashlib.sha256(access_token.encode("utf-8")).digest())


def single_proof(header_value: str | None) -> str | None:
    """The request's one DPoP header (None: no proof). Two proofs arrive comma-joined; a JWS
    never holds a comma, so one is refused (RFC 9449 4.3: exactly one)."""
    if header_value is None:
        return None
    proof = header_value.strip()
    if not proof or "," in proof or " " in proof:
        raise ProofRefused("send exactly one DPoP proof")
    return proof


class ProofChecker:
    """Checks proofs for one kind of endpoint; `use_once` records their `jti`s."""

    def __init__(self, clock: Clock, use_once: UseOnce, nonces: Nonces | None = None):
        self._clock = clock
        self._use_once = use_once
        self._nonces = nonces

    def check(
        self,
        proof: str,
        *,
        method: str,
        url: str,
        access_token: str | None = None,
        record: bool = True,
    ) -> Proof:
        """The proof's key and id, if it is a valid proof of this request; else ProofRefused.
        With `record` false its `jti` is not yet recorded: call `record` once the request is
        otherwise accepted (so a request refused for another reason writes nothing)."""
        header = self._header(proof)
        claims = self._verified_claims(proof, header)
        now = self._clock.now()
        issued_at = claims.get("iat")
        if not isinstance(issued_at, int) or isinstance(issued_at, bool):
            raise ProofRefused("the DPoP proof has no valid iat")
        if issued_at > now + CLOCK_SKEW or issued_at < now - PROOF_MAX_AGE:
            raise ProofRefused("the DPoP proof is too old or from the future")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
            raise ProofRefused("the DPoP proof has no valid jti")
        if claims.get("htm") != method.upper():
            raise ProofRefused("the DPoP proof is for another HTTP method")
        htu = claims.get("htu")
        expected = normalized_url(url)
        if not isinstance(htu, str) or expected is None or normalized_url(htu) != expected:
            raise ProofRefused("the DPoP proof is for another URL")
        if access_token is not None:
            ath = claims.get("ath")
            if not isinstance(ath, str) or not hmac.compare_digest(
                ath.encode("utf-8"), access_token_hash(access_token).encode("ascii")
            ):
                raise ProofRefused("the DPoP proof is for another access token")
        if self._nonces is not None and not self._nonces.accepts(claims.get("nonce")):
            raise NonceRequired("the DPoP proof must carry the current nonce")
        checked = Proof(jkt=thumbprint(header["jwk"]), jti=jti, issued_at=issued_at)
        if record:
            self.record(checked)
        return checked

    def nonce_header(self) -> dict[str, str] | None:
        """`DPoP-Nonce` with the current nonce, when nonces are required (RFC 9449 8)."""
        return {"DPoP-Nonce": self._nonces.current()} if self._nonces is not None else None

    def record(self, proof: Proof) -> None:
        """Use the proof's `jti` up, for as long as the proof could be taken (ProofRefused if a
        proof with this key and id was seen before, by any container)."""
        key = PROOF_RECORD_PREFIX + hashlib.sha256(f"{proof.jkt}:{proof.jti}".encode()).hexdigest()
        if not self._use_once(key, proof.issued_at + PROOF_MAX_AGE + CLOCK_SKEW):
            raise ProofRefused("the DPoP proof was already used")

    @staticmethod
    def _header(proof: str) -> dict[str, Any]:
        if len(proof) > MAX_PROOF_LENGTH:
            raise ProofRefused("the DPoP proof is too long")
        header = unverified_header(proof)
        if header is None:
            raise ProofRefused("the DPoP proof is not a JWT")
        if header.get("typ") != PROOF_TYPE:
            raise ProofRefused("the DPoP proof must have typ dpop+jwt")
        if header.get("alg") not in CLIENT_SIGNING_ALGORITHMS:
            raise ProofRefused("the DPoP proof is not signed with an accepted algorithm")
        jwk = header.get("jwk")
        kty = jwk.get("kty") if isinstance(jwk, dict) else None
        # A list or object is no key type (and would not even hash): refused, not a 500.
        if not isinstance(kty, str) or kty not in THUMBPRINT_MEMBERS:
            raise ProofRefused("the DPoP proof must carry an RSA or EC public key")
        assert isinstance(jwk, dict)
        if PRIVATE_MEMBERS & jwk.keys():
            raise ProofRefused("the DPoP proof key must be a public key")
        if not all(isinstance(jwk.get(m), str) for m in THUMBPRINT_MEMBERS[kty]):
            raise ProofRefused("the DPoP proof key is malformed")
        # RFC 7518 3.3: RSA keys of 2048 bits or more (a smaller one is cheap to factor, and a
        # token bound to it no better than a bearer token).
        if kty == "RSA" and len(jwk["n"]) < MIN_RSA_MODULUS_CHARS:
            raise ProofRefused("the DPoP proof key is too small")
        return header

    @staticmethod
    def _verified_claims(proof: str, header: dict[str, Any]) -> dict[str, Any]:
        import jwt  # only requests with a proof pay for PyJWT (the token path's cold start)

        try:
            key = _public_key(header["alg"], json.dumps(header["jwk"], sort_keys=True))
            claims: dict[str, Any] = jwt.decode(
                proof,
                key=key,
                algorithms=[header["alg"]],
                options={"verify_aud": False, "verify_exp": False, "verify_iat": False},
            )
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
            raise ProofRefused("the DPoP proof signature does not verify") from exc
        return claims


# A client signs every proof with the same key: parsing it once saves most of a check's cost.
@lru_cache(maxsize=256)
def _public_key(alg: str, jwk_json: str) -> Any:
    import jwt

    return jwt.PyJWK.from_dict(json.loads(jwk_json), algorithm=alg).key


class ContainerReplayCache:
    """Proof ids seen by this container, each until its proof expires: the replay defence of
    an authorizer that has no table to share (oauth_core.endpoints.authorizer; weaker than the
    grants table's, which every container shares). Holds about a proof window of ids: expired
    ones are dropped as new ones arrive."""

    def __init__(self, clock: Clock):
        self._clock = clock
        self._until: dict[str, int] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0

    def use_once(self, key: str, expires_at: int) -> bool:
        now = self._clock.now()
        with self._lock:
            if now >= self._next_sweep:
                self._until = {k: t for k, t in self._until.items() if t >= now}
                self._next_sweep = now + CLOCK_SKEW
            if self._until.get(key, -1) >= now:
                return False
            self._until[key] = expires_at
            return True


class Nonces:
    """Server-provided nonces (RFC 9449 8) without storage: a nonce is a time step and a MAC of
    it, under a key derived from the issuer's signing keys (it changes when they rotate). The
    current and the previous step are accepted, so a nonce lives one to two steps."""

    def __init__(self, clock: Clock, keys: Callable[[], Sequence[bytes]], step: int = 300):
        self._clock = clock
        self._keys = keys
        self._step = step

    def current(self) -> str:
        return self._nonce(self._clock.now() // self._step, self._keys()[0])

    def accepts(self, nonce: object) -> bool:
        if not isinstance(nonce, str) or len(nonce) > 64 or not nonce.isascii():
            return False
        step = self._clock.now() // self._step
        return any(
            hmac.compare_digest(nonce, self._nonce(s, key))
            for key in self._keys()
            for s in (step, step - 1)
        )

    @staticmethod
    def _nonce(step: int, key: bytes) -> str:
        counter = step.to_bytes(8, "big")
        mac = hmac.new(key, b"dpop-nonce" + counter, hashlib.sha256).digest()[:16]
        return b64url(counter[-4:] + mac)


class SenderConstraint:
    """At a protected resource (RFC 9449 7): a DPoP-bound token (`cnf.jkt`) is taken only with
    the `DPoP` scheme and a proof of this request signed by its key, over the token (`ath`); a
    bound token sent as a bearer token is refused, and so is an unbound one sent as DPoP."""

    def __init__(self, checker: ProofChecker):
        self._checker = checker

    def check(
        self,
        scheme: str,
        token: str,
        claims: dict[str, Any],
        proof_header: str | None,
        *,
        method: str,
        url: str,
    ) -> None:
        confirmation = claims.get("cnf")
        bound = confirmation.get("jkt") if isinstance(confirmation, dict) else None
        if scheme != "dpop":
            if bound is not None:
                raise as_dpop(InvalidToken("the access token is DPoP-bound: send it with a proof"))
            return
        if not isinstance(bound, str):
            raise as_dpop(InvalidToken("the access token is not DPoP-bound"))
        try:
            proof_value = single_proof(proof_header)
            if proof_value is None:
                raise ProofRefused("a DPoP proof is required with a DPoP-bound token")
            proof = self._checker.check(
                proof_value, method=method, url=url, access_token=token, record=False
            )
            if not hmac.compare_digest(proof.jkt.encode(), bound.encode("utf-8")):
                raise ProofRefused("the DPoP proof is not signed by the key of the token")
            self._checker.record(proof)
        except ProofRefused as refused:
            challenge = InvalidDpopProofAtResource()
            challenge.description = refused.description  # fixed text, from this module
            raise as_dpop(challenge) from None


def as_dpop(refused: BearerError) -> BearerError:
    """The refusal answered with a `DPoP` challenge (RFC 9449 7.1) instead of `Bearer`."""
    refused.scheme = "DPoP"
    return refused
