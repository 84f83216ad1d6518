"""Passkeys on the pages (SECURITY K1-K5, K7): signing in with a passkey alone, on the sign-in
page (an authorization request waiting) and on the account page; adding and removing passkeys on
the account page; and the script those pages load.

A passkey sign-in is throttled as a password one is, by its source (it names no username before
it verifies), and makes a fresh session whose `amr` says how the user signed in (`hwk` or `swk`,
`user`, `mfa`: oauth_core.rules.passkeys.VerifiedPasskey); a user whose password is temporary is
told to sign in with it and choose their own first, as a password sign-in would make them do
(no session, nothing opened). Adding or removing a passkey needs a
sign-in of the last ten minutes, or the password typed again (checked and counted as a sign-in
is). Each ceremony's challenge is bound to this browser's CSRF token and to the request or
session it serves (oauth_core.rules.passkey_challenges), so the pages store nothing until a
passkey answers.
"""

from __future__ import annotations

import json

from oauth_core import audit, constants
from oauth_core.clock import Clock
from oauth_core.config import Settings
from oauth_core.endpoints.flow import AuthorizationFlow
from oauth_core.endpoints.signin import PasswordSignIn, signed_in_user, verified_form
from oauth_core.http.pages import (
    ListedPasskey,
    Script,
    passkey_script,
    passkey_script_ref,
    passkeys_section,
    see_other,
    short_date,
)
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.models import Passkey, PendingAuthorization, Session, User
from oauth_core.observability import count, logger
from oauth_core.ports import PasskeyStore, UserStore
from oauth_core.rules.passkey_challenges import ACCOUNT_SIGN_IN, SIGN_IN
from oauth_core.rules.passkeys import (
    MAX_CREDENTIAL_ID_LENGTH,
    PasskeyRefused,
    PasskeyVerifier,
    RelyingParty,
    VerifiedPasskey,
)
from oauth_core.rules.throttle import SIGN_IN as SIGN_IN_BUCKET
from oauth_core.rules.throttle import FailureThrottle

ACCOUNT_PATH = "/account"
# A sign-in this recent is re-authentication enough to add or remove a passkey.
# What a refused passkey sign-in is told: the same, whatever the reason (the audit record says
# which), but for a suspended passkey, whose owner must act.
REFUSED = "That passkey could not sign you in. Try again, or use your password."
SUSPENDED = (
    "That passkey can no longer be used: its use counter went backwards, which can mean it was "
    "copied. Sign in with your password and remove it from your account."
)
# A user whose password is temporary (an operator set it) chooses their own first, as a password
# sign-in makes them do (SECURITY K7): a passkey does not skip that.
PASSWORD_CHANGE_FIRST = (
    "Your password was reset. Sign in with the temporary password you were given and choose a "
    "new one; then your passkey signs you in again."
)
ACCOUNT_SIGN_IN_FAILED = "passkey_failed"
ACCOUNT_SIGN_IN_SUSPENDED = "passkey_suspended"
ACCOUNT_SIGN_IN_PASSWORD_CHANGE = "passkey_password_change"


def _binding(*parts: str) -> str:
    return " ".join(parts)


class PasskeySignIn:
    """Signing in with a passkey alone, shared by the sign-in page and the account page."""

    def __init__(
        self,
        flow: AuthorizationFlow,
        verifier: PasskeyVerifier,
        users: UserStore,
        throttle: FailureThrottle,
        sign_in: PasswordSignIn,
        settings: Settings,
    ):
        self._flow = flow
        self._verifier = verifier
        self._users = users
        self._throttle = throttle
        self._sign_in = sign_in
        self._settings = settings

    def relying_party(self, request: HttpRequest) -> RelyingParty:
        rp_id, origin = self._settings.passkey_relying_party(self._flow.issuer(request))
        return RelyingParty(rp_id, origin)

    def script(self, request: HttpRequest) -> Script:
        return passkey_script_ref(self.relying_party(request).origin)

    # --- the challenges the pages carry ----------------------------------------------------------

    def for_request(self, request: HttpRequest, pending: PendingAuthorization, csrf: str) -> str:
        """The request options (JSON) of the sign-in page: bound to this browser and request."""
        options = self._verifier.request_options(
            self.relying_party(request), SIGN_IN, _binding(csrf, pending.request_id)
        )
        return json.dumps(options, separators=(",", ":"))

    def for_account(self, request: HttpRequest, csrf: str) -> str:
        """The request options (JSON) of the account page's sign-in: bound to this browser."""
        options = self._verifier.request_options(
            self.relying_party(request), ACCOUNT_SIGN_IN, _binding(csrf)
        )
        return json.dumps(options, separators=(",", ":"))

    # --- an answer checked -----------------------------------------------------------------------

    def check(
        self, request: HttpRequest, response: str, purpose: str, binding: str, client_id: str | None
    ) -> tuple[User, VerifiedPasskey] | str:
        """The user the passkey signs in, or what to tell the user (a refusal, counted in the
        source's failure bucket and recorded)."""
        keys = self._throttle.keys(SIGN_IN_BUCKET, None, request.source_ip)
        self._throttle.reserve(keys)  # counted before it is checked, as a password is (G6)
        try:
            relying_party = self.relying_party(request)
            verified = self._verifier.verify(relying_party, response, purpose, binding)
            user = self._users.get(verified.passkey.username)
            if user is None or user.sub != verified.passkey.sub:
                raise PasskeyRefused("unknown_user")  # deleted (and maybe created anew) since
            if user.disabled:
                raise PasskeyRefused("user_disabled")
        except PasskeyRefused as refused:
            count("PasskeySignInFailed")
            logger.info("passkey sign-in refused", extra={"client_id": client_id})
            owner = refused.passkey
            named = {"sub": owner.sub, "username": owner.username} if owner else {}
            if refused.reason == "counter_regression":
                audit.emit(audit.PASSKEY_SUSPENDED, client_id=client_id, **named)
            audit.emit(audit.PASSKEY_REFUSED, client_id=client_id, reason=refused.reason, **named)
            suspended = refused.reason in ("counter_regression", "suspended")
            return SUSPENDED if suspended else REFUSED
        self._throttle.give_back(keys)  # the passkey was right: no guess to count
        if user.password_change_required:
            audit.emit(
                audit.PASSKEY_REFUSED, client_id=client_id, sub=user.sub, username=user.username,
                reason="password_change_required",
            )  # fmt: skip
            return PASSWORD_CHANGE_FIRST
        return user, verified

    def account_login(self, request: HttpRequest) -> HttpResponse:
        """POST /account/passkey-login: the account page's sign-in with a passkey."""
        form = verified_form(self._flow.cookies, request)
        outcome = self.check(
            request,
            form.get("credential", ""),
            ACCOUNT_SIGN_IN,
            _binding(form.get("csrf_token", "")),
            None,
        )
        if isinstance(outcome, str):
            notice = {
                SUSPENDED: ACCOUNT_SIGN_IN_SUSPENDED,
                PASSWORD_CHANGE_FIRST: ACCOUNT_SIGN_IN_PASSWORD_CHANGE,
            }.get(outcome, ACCOUNT_SIGN_IN_FAILED)
            return see_other(f"{ACCOUNT_PATH}?done={notice}")
        user, verified = outcome
        signed_in = self._sign_in.start_session(
            request, user, None, amr=verified.amr, acr=constants.ACR_PASSKEY
        )
        return see_other(f"{ACCOUNT_PATH}?done=signed_in", [signed_in.cookie])

    def serve_script(self, request: HttpRequest) -> HttpResponse:
        """GET /passkeys.js: the pages name it with its hash as version, so it may be kept."""
        return HttpResponse(
            200,
            passkey_script(),
            {
                "Content-Type": "text/javascript; charset=utf-8",
                "Cache-Control": "public, max-age=31536000, immutable",
                "X-Content-Type-Options": "nosniff",
            },
        )


class PasskeyAccount:
    """The account page's passkeys: listed, added, removed."""

    def __init__(
        self,
        flow: AuthorizationFlow,
        passkey_sign_in: PasskeySignIn,
        verifier: PasskeyVerifier,
        passkeys: PasskeyStore,
        sign_in: PasswordSignIn,
        users: UserStore,
        clock: Clock,
    ):
        self._flow = flow
        self._passkey_sign_in = passkey_sign_in
        self._verifier = verifier
        self._passkeys = passkeys
        self._sign_in = sign_in
        self._users = users
        self._clock = clock

    def section(self, request: HttpRequest, user: User, session: Session, csrf: str) -> str:
        """The account page's "Passkeys" section for the signed-in `user` (of `session`)."""
        mine = self._passkeys.of_user(user.sub)
        options, handle = None, ""
        if len(mine) < constants.MAX_PASSKEYS_PER_USER:
            found = self._verifier.creation_options(
                self._passkey_sign_in.relying_party(request),
                user,
                _binding(csrf, session.session_hash),
                mine,
            )
            options, handle = json.dumps(found, separators=(",", ":")), found["user"]["id"]
        return passkeys_section(
            csrf=csrf,
            username=user.username,
            passkeys=[_listed(p) for p in mine],
            creation_options=options,
            user_handle=handle,
            needs_password=not session.signed_in_within(self._clock.now_ms()),
        )

    def script(self, request: HttpRequest) -> Script:
        return self._passkey_sign_in.script(request)

    def manage(self, request: HttpRequest) -> HttpResponse:
        """POST /account/passkeys: add (a registration response) or remove one (SECURITY K5)."""
        form = verified_form(self._flow.cookies, request)
        found = signed_in_user(self._flow, self._users, request)
        if found is None:
            return see_other(ACCOUNT_PATH)  # signed out meanwhile: the sign-in form
        user, session = found
        if not session.signed_in_within(self._clock.now_ms()):
            typed = form.get("current_password", "")
            if self._sign_in.check(request, user.username, typed, None) is None:
                return see_other(f"{ACCOUNT_PATH}?done=passkey_password#passkeys")
        action = form.get("action", "")
        if action == "add":
            return self._add(request, user, form, session.session_hash)
        if action == "remove":
            return self._remove(user, form.get("credential_id", ""))
        return see_other(ACCOUNT_PATH)

    def _add(
        self, request: HttpRequest, user: User, form: dict[str, str], session_hash: str
    ) -> HttpResponse:
        mine = self._passkeys.of_user(user.sub)
        try:
            added = self._verifier.register(
                self._passkey_sign_in.relying_party(request),
                user,
                form.get("credential", ""),
                _binding(form.get("csrf_token", ""), session_hash),
                form.get("name", ""),
                mine,
                form.get("user_handle", "")[:64],
            )
        except PasskeyRefused as refused:
            count("PasskeyRegistrationFailed")
            audit.emit(
                audit.PASSKEY_REFUSED, sub=user.sub, username=user.username, reason=refused.reason
            )
            return see_other(f"{ACCOUNT_PATH}?done=passkey_not_added#passkeys")
        count("PasskeyAdded")
        audit.emit(
            audit.PASSKEY_ADDED, sub=user.sub, username=user.username,
            synced=added.backup_eligible, by="account",
        )  # fmt: skip
        return see_other(f"{ACCOUNT_PATH}?done=passkey_added#passkeys")

    def _remove(self, user: User, credential_id: str) -> HttpResponse:
        # Only the user's own: the condition is on the owner, in the delete itself.
        if 0 < len(credential_id) <= MAX_CREDENTIAL_ID_LENGTH and self._passkeys.remove(
            credential_id, user.sub
        ):
            count("PasskeyRemoved")
            audit.emit(audit.PASSKEY_REMOVED, sub=user.sub, username=user.username)
        return see_other(f"{ACCOUNT_PATH}?done=passkey_removed#passkeys")


def _listed(passkey: Passkey) -> ListedPasskey:
    return ListedPasskey(
        credential_id=passkey.credential_id,
        name=passkey.name,
        created=short_date(passkey.created_at),
        last_used=short_date(passkey.last_used_at) if passkey.last_used_at else None,
        synced=passkey.backup_eligible,
        suspended=bool(passkey.suspended_at),
    )
