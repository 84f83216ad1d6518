"""After a password sign-in, "Add a passkey?" (SECURITY K8): a user with no passkey, in a browser
whose script found that this device could keep one, is offered to add one before the sign-in
goes on; "Not now" goes on unchanged.

The offer never stands in the way. It is made only when the sign-in form's `offer_passkey` says
the device can keep a passkey (the passkey script sets it: a platform authenticator that verifies
its user), so a browser without JavaScript, or without passkeys, goes straight on as before. Both
of its forms carry the CSRF token of their cookie; its registration challenge is bound to this
browser, the session the password just made and the request (oauth_core.rules.passkey_challenges),
and is answered once; the passkey is the session's user's, added only within ten minutes of that
sign-in (as the account page asks). The request the page carries is the one the sign-in resumed,
sealed: it goes on only with that session. "Not now" sets a cookie (`passkey_offer`, 30 days,
this browser only: it is this device that could keep the passkey) while which the offer is not
made again here; the account page still adds passkeys. Nothing is stored for the offer itself.
"""

from __future__ import annotations

import json

from oauth_core import audit
from oauth_core.clock import Clock, Random
from oauth_core.config import Settings
from oauth_core.endpoints.authorization_request import client_still_for
from oauth_core.endpoints.flow import AuthorizationFlow
from oauth_core.endpoints.signin import csrf_of, verified_form
from oauth_core.http import factor_pages
from oauth_core.http.answers import EXPIRED
from oauth_core.http.pages import error_page, passkey_script_ref, request_page
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.models import Client, Passkey, PendingAuthorization, Session, User
from oauth_core.observability import count
from oauth_core.ports import ClientStore, PasskeyStore, UserStore
from oauth_core.rules.passkeys import PasskeyRefused, PasskeyVerifier, RelyingParty
from oauth_core.tokens.sealed_requests import RequestSealer

OFFER_PATH = "/login/passkey-offer"
TITLE = "Add a passkey?"
# "Not now": not asked again in this browser for this long.
DECLINED_COOKIE = "passkey_offer"
QUIET_FOR = 30 * 24 * 3600
NOT_ADDED = "The passkey could not be added. Try again, or choose Not now."
TOO_LATE = (
    "It has been a while since you signed in, so the passkey cannot be added here. Choose Not "
    "now, and add one on your account page."
)


class PasskeyOffer:
    def __init__(
        self,
        flow: AuthorizationFlow,
        verifier: PasskeyVerifier,
        passkeys: PasskeyStore,
        clients: ClientStore,
        users: UserStore,
        sealer: RequestSealer,
        settings: Settings,
        clock: Clock,
        random: Random,
    ):
        self._flow = flow
        self._verifier = verifier
        self._passkeys = passkeys
        self._clients = clients
        self._users = users
        self._sealer = sealer
        self._settings = settings
        self._clock = clock
        self._random = random

    def _relying_party(self, request: HttpRequest) -> RelyingParty:
        return RelyingParty(*self._settings.passkey_relying_party(self._flow.issuer(request)))

    # --- after a right password ----------------------------------------------------------------

    def after_password(
        self,
        request: HttpRequest,
        user: User,
        session: Session,
        pending: PendingAuthorization,
        device_can_keep_one: bool,
    ) -> HttpResponse | None:
        """The offer, or None: go on. `pending`: the request resumed by this sign-in;
        `device_can_keep_one`: what the sign-in form's `offer_passkey` said."""
        if not device_can_keep_one or self._flow.cookies.read(request, DECLINED_COOKIE):
            return None
        if self._passkeys.of_user(user.sub):
            return None  # the offer is for a first passkey: the account page adds more
        handle = self._sealer.seal(pending)
        return self._page(request, user, session, handle, pending, existing=[])

    # --- POST /login/passkey-offer: add one, or not now ----------------------------------------

    def answer(self, request: HttpRequest) -> HttpResponse:
        form = verified_form(self._flow.cookies, request)
        handle = form.get("request_id", "")
        pending = self._sealer.open(handle)
        client = client_still_for(self._clients, pending) if pending else None
        session = self._flow.live_session(request)
        user = self._users.get(session.username) if session is not None else None
        if (
            pending is None
            or client is None
            or pending.second_factor
            or pending.password_change
            or session is None
            or pending.signed_in_session != session.session_hash  # the sign-in it followed
            or user is None
            or user.sub != session.sub
            or user.disabled
        ):
            return error_page(EXPIRED, title="Sign-in expired")
        cookies: list[str] = []
        if form.get("action") == "add":
            refusal = self._add(request, user, session, pending, form)
            if refusal is not None:
                return self._page(request, user, session, handle, pending, refusal)
        else:
            cookies.append(self._flow.cookies.set(DECLINED_COOKIE, "later", QUIET_FOR))
        return self._go_on(request, client, pending, session, cookies)

    def _add(
        self,
        request: HttpRequest,
        user: User,
        session: Session,
        pending: PendingAuthorization,
        form: dict[str, str],
    ) -> str | None:
        """Keep the passkey the form brings; what to tell the user if not."""
        if not self._recent(session):
            return TOO_LATE
        existing = self._passkeys.of_user(user.sub)
        try:
            added = self._verifier.register(
                self._relying_party(request),
                user,
                form.get("credential", ""),
                _binding(form.get("csrf_token", ""), session, pending),
                "",
                existing,
                form.get("user_handle", "")[:64],
            )
        except PasskeyRefused as refused:
            count("PasskeyRegistrationFailed")
            audit.emit(
                audit.PASSKEY_REFUSED, sub=user.sub, username=user.username, reason=refused.reason
            )
            return NOT_ADDED
        count("PasskeyAdded")
        audit.emit(
            audit.PASSKEY_ADDED, sub=user.sub, username=user.username,
            synced=added.backup_eligible, by="sign-in",
        )  # fmt: skip
        return None

    def _go_on(
        self,
        request: HttpRequest,
        client: Client,
        pending: PendingAuthorization,
        session: Session,
        cookies: list[str],
    ) -> HttpResponse:
        response = self._flow.next_step(request, client, pending, session, from_page=True)
        response.cookies.extend(cookies)
        return response

    # --- helpers -------------------------------------------------------------------------------

    def _recent(self, session: Session) -> bool:
        return session.signed_in_within(self._clock.now_ms())

    def _page(
        self,
        request: HttpRequest,
        user: User,
        session: Session,
        handle: str,
        pending: PendingAuthorization,
        error: str | None = None,
        existing: list[Passkey] | None = None,
    ) -> HttpResponse:
        """`existing`: the user's passkeys, when the caller has just read them."""
        csrf, cookies = csrf_of(self._flow.cookies, request, self._random)
        rp = self._relying_party(request)
        options, user_handle = None, ""
        if self._recent(session):
            found = self._verifier.creation_options(
                rp,
                user,
                _binding(csrf, session, pending),
                self._passkeys.of_user(user.sub) if existing is None else existing,
            )
            options, user_handle = json.dumps(found, separators=(",", ":")), found["user"]["id"]
        body = factor_pages.passkey_offer_page(
            action=OFFER_PATH, request_id=handle, csrf=csrf, username=user.username,
            creation_options=options, user_handle=user_handle, error=error,
        )  # fmt: skip
        script = passkey_script_ref(rp.origin)
        return request_page(TITLE, body, pending.redirect_uri, cookies=cookies, script=script)


def _binding(csrf: str, session: Session, pending: PendingAuthorization) -> str:
    """What the registration challenge answers: this browser, this sign-in, this request."""
    return f"{csrf} {session.session_hash} {pending.request_id}"
