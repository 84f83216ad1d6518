"""Passkeys (WebAuthn Level 3): the options a page hands the browser, and verifying what the
browser sends back, for registration and for sign-in (SECURITY K1-K5).

Verification is py_webauthn's (`webauthn`, imported on the first verification only: it costs a
tenth of a second, which the sign-in page's first view does not pay): the client data's type,
challenge and origin, the RP ID hash, user presence and verification, the signature with the
stored public key. Around it, what the library cannot know: the challenge is one of ours, for
this ceremony and this browser and request (oauth_core.rules.passkey_challenges), and answered
once (one conditional write of its hash, made only after the signature verified, so no one
without the key can spend or burn a challenge); the credential is the user's (its user handle,
or the user already known); and its signature counter moved forward. A counter that did not
(but 0 after 0: authenticators that do not count, as synced passkeys, say 0 every time) may be a
cloned authenticator: the passkey is suspended and refused from then on. The counter and the
last use are written by one conditional update on the counter read, so of two sign-ins with one
counter value only one moves it.

The same verifier serves a second-factor step (a user already known from their password): call
`verify(rp, response, SECOND_FACTOR, binding, user=user, require_user_verification=False)` with
a challenge issued by `request_options(rp, SECOND_FACTOR, binding, allow=<the user's passkeys>,
user_verification="preferred")` (oauth_core.endpoints.passkey_factor).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from dataclasses import dataclass, replace
from typing import Any, Protocol

from oauth_core import constants
from oauth_core.clock import Clock, Random
from oauth_core.models import Passkey, User
from oauth_core.ports import PasskeyStore
from oauth_core.rules.passkey_challenges import REGISTER, PasskeyChallenges, single_use_key

# The largest response read: real ones are a few hundred bytes (registration, with an
# attestation certificate chain, a few kilobytes).
MAX_RESPONSE_LENGTH = 16_384
MAX_NAME_LENGTH = 64
# A credential id is at most 1023 bytes (WebAuthn L3 5.1), 1364 characters of base64url.
MAX_CREDENTIAL_ID_LENGTH = 1366
# What the server accepts: EdDSA, ES256, RS256 (COSE), as py_webauthn verifies them.
ALGORITHMS = (-8, -7, -257)
TRANSPORTS = frozenset({"ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"})
_NO_AAGUID = "00000000-0000-0000-0000-000000000000"


class UseOnce(Protocol):
    def __call__(self, key: str, expires_at: int) -> bool: ...


class PasskeyRefused(Exception):
    """A registration or assertion not taken; `reason` is for the audit record and the metric
    (never shown as is: the pages say it in words)."""

    def __init__(self, reason: str, passkey: Passkey | None = None):
        super().__init__(reason)
        self.reason = reason
        self.passkey = passkey  # the passkey refused, once it is known


@dataclass(frozen=True)
class RelyingParty:
    """Where ceremonies run: the RP ID, and the one origin accepted
    (Settings.passkey_relying_party)."""

    rp_id: str
    origin: str


@dataclass(frozen=True)
class VerifiedPasskey:
    passkey: Passkey  # as stored after this use
    user_verified: bool

    @property
    def key_kind(self) -> str:
        """RFC 8176: a synced (backup-eligible) passkey is a software-secured key; one bound to
        its device, a hardware-secured key."""
        if self.passkey.backup_eligible:
            return constants.AMR_SOFTWARE_KEY
        return constants.AMR_HARDWARE_KEY

    @property
    def amr(self) -> tuple[str, ...]:
        """A sign-in with this passkey alone: the key, the user's presence, and, verified by
        the authenticator (PIN or biometric), two factors."""
        factors = (self.key_kind, constants.AMR_USER_PRESENCE)
        return (*factors, constants.AMR_MULTI_FACTOR) if self.user_verified else factors


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    if not isinstance(text, str) or len(text) > MAX_RESPONSE_LENGTH:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _parsed(response: str) -> dict[str, Any]:
    """The credential JSON's outline, or PasskeyRefused("malformed")."""
    if not response or len(response) > MAX_RESPONSE_LENGTH:
        raise PasskeyRefused("malformed")
    try:
        credential = json.loads(response)
    except ValueError as exc:
        raise PasskeyRefused("malformed") from exc
    if not isinstance(credential, dict) or not isinstance(credential.get("response"), dict):
        raise PasskeyRefused("malformed")
    found = credential.get("id")
    if not isinstance(found, str) or not 0 < len(found) <= MAX_CREDENTIAL_ID_LENGTH:
        raise PasskeyRefused("malformed")  # an empty key would be DynamoDB's error, not ours
    if credential.get("type") != "public-key":
        raise PasskeyRefused("malformed")
    return credential


def _challenge_of(credential: dict[str, Any]) -> bytes:
    try:
        client_data = json.loads(unb64url(credential["response"]["clientDataJSON"]))
        return unb64url(client_data["challenge"])
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise PasskeyRefused("malformed") from exc


class PasskeyVerifier:
    def __init__(
        self,
        passkeys: PasskeyStore,
        challenges: PasskeyChallenges,
        use_once: UseOnce,
        clock: Clock,
        random: Random,
    ):
        self._passkeys = passkeys
        self._challenges = challenges
        self._use_once = use_once
        self._clock = clock
        self._random = random

    # --- what the page hands the browser ---------------------------------------------------------

    def request_options(
        self,
        rp: RelyingParty,
        purpose: str,
        binding: str,
        allow: list[Passkey] | None = None,
        *,
        user_verification: str = "required",
    ) -> dict[str, Any]:
        """PublicKeyCredentialRequestOptionsJSON (WebAuthn L3 5.5) with a fresh challenge.
        No `allow`: any discoverable credential of this RP (the passkey names its user).
        `user_verification`: "required" for a passkey alone; "preferred" for a second factor,
        where the password is what the user knows (verify with require_user_verification
        False)."""
        challenge = self._challenges.issue(purpose, binding)
        return {
            "challenge": b64url(challenge),
            "rpId": rp.rp_id,
            "timeout": constants.PASSKEY_CHALLENGE_TTL * 1000,
            "userVerification": user_verification,
            "allowCredentials": [_descriptor(p) for p in allow or []],
        }

    def creation_options(
        self, rp: RelyingParty, user: User, binding: str, existing: list[Passkey]
    ) -> dict[str, Any]:
        """PublicKeyCredentialCreationOptionsJSON (WebAuthn L3 5.4): a discoverable credential
        (a passkey), user verification required, no attestation asked, none of the user's
        authenticators that already hold one of theirs."""
        handle = self.user_handle_for(existing)
        # The handle travels back with the response (a registration response does not carry
        # it): the challenge vouches for it.
        challenge = self._challenges.issue(REGISTER, f"{binding} {handle}")
        display = str(user.claims.get("name") or user.username)[:MAX_NAME_LENGTH]
        return {
            "rp": {"id": rp.rp_id, "name": rp.rp_id},
            "user": {
                "id": handle,
                "name": user.username,
                "displayName": display,
            },
            "challenge": b64url(challenge),
            "pubKeyCredParams": [{"type": "public-key", "alg": alg} for alg in ALGORITHMS],
            "timeout": constants.PASSKEY_CHALLENGE_TTL * 1000,
            "excludeCredentials": [_descriptor(p) for p in existing],
            "authenticatorSelection": {
                "residentKey": "required",
                "requireResidentKey": True,
                "userVerification": "required",
            },
            "attestation": "none",
        }

    def user_handle_for(self, existing: list[Passkey]) -> str:
        """The user's WebAuthn user handle: that of their passkeys, or a new random one (32
        bytes) for a first passkey. Never the username or `sub`: an authenticator hands it to
        anyone who starts a sign-in at this RP."""
        if existing:
            return existing[0].user_handle
        return b64url(unb64url(self._random.token(32)))

    # --- registration ---------------------------------------------------------------------------

    def register(
        self,
        rp: RelyingParty,
        user: User,
        response: str,
        binding: str,
        name: str,
        existing: list[Passkey],
        user_handle: str,
    ) -> Passkey:
        """Verify a navigator.credentials.create() response to creation_options(...) and keep
        the new passkey; `user_handle`: the options' `user.id`, as the page sends it back."""
        if len(existing) >= constants.MAX_PASSKEYS_PER_USER:
            raise PasskeyRefused("too_many")
        credential = _parsed(response)
        challenge = _challenge_of(credential)
        expires_at = self._challenges.check(challenge, REGISTER, f"{binding} {user_handle}")
        if expires_at is None:
            raise PasskeyRefused("challenge")
        from webauthn import verify_registration_response
        from webauthn.helpers.structs import CredentialDeviceType

        try:
            verified = verify_registration_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=rp.rp_id,
                expected_origin=rp.origin,
                require_user_verification=True,
                supported_pub_key_algs=list(ALGORITHMS),  # type: ignore[arg-type]
            )
        except Exception as exc:  # the library's errors, and any a malformed response causes
            raise PasskeyRefused("bad_attestation") from exc
        if not self._use_once(single_use_key(challenge), expires_at):
            raise PasskeyRefused("replayed")
        transports = credential["response"].get("transports")
        passkey = Passkey(
            credential_id=b64url(verified.credential_id),
            sub=user.sub,
            username=user.username,
            user_handle=user_handle,
            public_key=b64url(verified.credential_public_key),
            sign_count=verified.sign_count,
            name=clean_name(name),
            created_at=self._clock.now(),
            transports=tuple(
                sorted(t for t in transports if t in TRANSPORTS)
                if isinstance(transports, list)
                else ()
            ),
            backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
            backed_up=verified.credential_backed_up,
            aaguid="" if verified.aaguid == _NO_AAGUID else verified.aaguid,
        )
        if not self._passkeys.add(passkey):
            raise PasskeyRefused("already_registered")
        return passkey

    # --- sign-in --------------------------------------------------------------------------------

    def verify(
        self,
        rp: RelyingParty,
        response: str,
        purpose: str,
        binding: str,
        *,
        user: User | None = None,
        require_user_verification: bool = True,
    ) -> VerifiedPasskey:
        """Verify a navigator.credentials.get() response to a challenge of `purpose` issued
        with `binding`. `user`: the user already known (a second factor); None: whoever the
        passkey names (its user handle must be the one it was made for). Raises PasskeyRefused."""
        credential = _parsed(response)
        challenge = _challenge_of(credential)
        expires_at = self._challenges.check(challenge, purpose, binding)
        if expires_at is None:
            raise PasskeyRefused("challenge")
        passkey = self._passkeys.get(credential["id"])
        if passkey is None:
            raise PasskeyRefused("unknown_credential")
        if user is not None and passkey.sub != user.sub:
            raise PasskeyRefused("wrong_user")
        handle = credential["response"].get("userHandle")
        if user is None and not (
            isinstance(handle, str)
            and hmac.compare_digest(handle.encode(), passkey.user_handle.encode())
        ):
            raise PasskeyRefused("wrong_user")
        if passkey.suspended_at:
            raise PasskeyRefused("suspended", passkey)
        from webauthn import verify_authentication_response

        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=rp.rp_id,
                expected_origin=rp.origin,
                credential_public_key=unb64url(passkey.public_key),
                # The counter is checked below, once the signature verified: only then is a
                # counter that went backwards evidence against the passkey.
                credential_current_sign_count=0,
                require_user_verification=require_user_verification,
            )
        except Exception as exc:  # the library's errors, and any a malformed response causes
            raise PasskeyRefused("bad_assertion") from exc
        if not self._use_once(single_use_key(challenge), expires_at):
            raise PasskeyRefused("replayed")
        old, new = passkey.sign_count, verified.new_sign_count
        if (old or new) and new <= old:
            self._passkeys.suspend(passkey.credential_id, self._clock.now())
            raise PasskeyRefused("counter_regression", passkey)
        now = self._clock.now()
        if not self._passkeys.record_use(
            passkey.credential_id, old, new, verified.credential_backed_up, now
        ):
            raise PasskeyRefused("counter_raced")  # another sign-in moved it first
        used = replace(
            passkey, sign_count=new, backed_up=verified.credential_backed_up, last_used_at=now
        )
        return VerifiedPasskey(used, verified.user_verified)


def clean_name(name: str) -> str:
    """A passkey's name as kept: printable, trimmed, at most 64 characters, never empty."""
    kept = "".join(ch for ch in name if ch.isprintable()).strip()[:MAX_NAME_LENGTH]
    return kept or "Passkey"


def _descriptor(passkey: Passkey) -> dict[str, Any]:
    found: dict[str, Any] = {"type": "public-key", "id": passkey.credential_id}
    if passkey.transports:
        found["transports"] = list(passkey.transports)
    return found
