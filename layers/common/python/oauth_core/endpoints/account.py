"""The account page (/account): a signed-in user sees who they are and the apps they allowed,
removes an app's access, changes their password, and signs out everywhere.

Same hardening as the sign-in pages (SECURITY G1-G9): every POST carries the CSRF token of its
cookie and answers 303; signing in here is the same throttled check (G6, G7) with a fresh
session id (G2); a session is honoured only while its user's state allows it (D8), so a
disabled user or one whose password changed elsewhere sees the sign-in form. Changing the
password needs the current one, checked and counted as a sign-in is. What a change did is said
by a fixed notice chosen by a word in the query: nothing the caller writes is echoed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from oauth_core import audit
from oauth_core.admin.access import UserAccess
from oauth_core.admin.backchannel_logout import LogoutNotices
from oauth_core.admin.users import InvalidUser, UserDirectory
from oauth_core.clock import Clock, Random
from oauth_core.constants import ACR_PASSWORD, FORGOT_PASSWORD_PATH
from oauth_core.endpoints.flow import AuthorizationFlow
from oauth_core.endpoints.passkeys import PasskeyAccount, PasskeySignIn
from oauth_core.endpoints.second_factor import SecondFactorStep
from oauth_core.endpoints.signin import (
    BAD_CREDENTIALS,
    MAX_USERNAME_LENGTH,
    PasswordSignIn,
    csrf_of,
    password_change_mark,
    signed_in_user,
    verified_form,
)
from oauth_core.errors import InvalidRequest
from oauth_core.http.factor_pages import account_section
from oauth_core.http.forms import parse_query
from oauth_core.http.pages import (
    SESSION_COOKIE,
    AllowedApp,
    account_overview,
    account_sign_in_form,
    error_page,
    page,
    password_change_form,
    see_other,
    short_date,
)
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.models import CLIENT_ID_PATTERN, PendingAuthorization, Session, User
from oauth_core.observability import count
from oauth_core.ports import ClientStore, GrantStore, UserStore
from oauth_core.rules import scope
from oauth_core.tokens.sealed_requests import RequestSealer

if TYPE_CHECKING:  # made on first use: a container that shows no e-mail loads none of it
    from oauth_core.admin.account_emails import AccountEmails

ACCOUNT_PATH = "/account"
TITLE = "Your account"
# How long a temporary password's replacement may wait after an account sign-in.
PASSWORD_CHANGE_WINDOW = 600
# The notices a redirect back to the page may ask for, by a word in its query.
NOTICES = {
    "signed_in": None,
    "password": "Your password was changed. Your other sign-ins have ended, and apps you "
    "allowed will ask you to sign in again.",
    "removed": "The app's access was removed. It will ask you again if you use it.",
    "signed_out": "You were signed out everywhere. Sign in again to manage your account.",
    # Federation (oauth_core.endpoints.federation).
    "linked": "The provider was linked: you can sign in with it now.",
    "unlinked": "The provider was unlinked. Sign in with your password from now on.",
    "link_not_removable": "Your account was made with that provider, so it stays linked.",
    "link_password": "Your password was not right, so no provider was linked.",
    "mfa_on": "Two-step verification is on. You will enter a code from your app at each sign-in.",
    "mfa_off": "Two-step verification is off. Your password alone signs you in.",
    "codes": "You have new recovery codes. The old ones no longer work.",
    # Passkeys (oauth_core.endpoints.passkeys).
    "passkey_added": "Your passkey was added. Next time, sign in with it instead of your password.",
    "passkey_removed": "The passkey was removed. It no longer signs you in here.",
    "passkey_not_added": "The passkey could not be added. Nothing was changed; try again.",
    "passkey_password": "Your password was not right, so nothing was changed.",
    "passkey_failed": "That passkey could not sign you in. Try again, or use your password.",
    "passkey_suspended": "That passkey can no longer be used: its use counter went backwards, "
    "which can mean it was copied. Sign in with your password and remove it.",
    "passkey_password_change": "Your password was reset. Sign in with the temporary password "
    "you were given and choose a new one; then your passkey signs you in again.",
    # Recovery and verification by e-mail (oauth_core.endpoints.email_links, .sign_up).
    "reset": "Your password was changed and you were signed out everywhere. Sign in with your "
    "new password.",
    "email_verified": "Your e-mail address is confirmed.",
    "created": "Your account is ready. Sign in with the password you chose.",
}
# What the e-mail section says after a change, by a word in the query (#email).
EMAIL_NOTICES = {
    "email_changed": "Your e-mail address was changed. Follow the link we sent to it to "
    "confirm it.",
    "email_sent": "We sent the link again. It works once, within 24 hours.",
    "email_same": "That is the address your account has already.",
    "email_not_sent": "No link was sent just now: one was asked for this address lately, or "
    "it could not be sent. Try again later.",
}
# The account page's section of upstream providers (federation): its HTML for a user, given
# the request (how recent its sign-in is) and the CSRF token, and the origins its forms may end
# up at.
ProvidersSection = Callable[[Session, str, User], tuple[str, tuple[str, ...]]]


class AccountPages:
    def __init__(
        self,
        flow: AuthorizationFlow,
        sign_in: PasswordSignIn,
        access: UserAccess,
        directory: UserDirectory,
        clients: ClientStore,
        users: UserStore,
        grants: GrantStore,
        sealer: RequestSealer,
        clock: Clock,
        random: Random,
        notices: LogoutNotices,
        providers_section: ProvidersSection | None = None,
        second_factor: SecondFactorStep | None = None,
        passkey_sign_in: PasskeySignIn | None = None,
        passkeys: PasskeyAccount | None = None,
        emails: Callable[[], AccountEmails | None] | None = None,
    ):
        """`emails`: what mails links (oauth_core.admin.account_emails), made when first asked
        for (by a change of address): None when the stack sends no e-mail. Showing the page
        makes none of it."""
        self._notices = notices
        self._providers_section = providers_section
        self._second_factor = second_factor
        self._passkey_sign_in = passkey_sign_in
        self._passkeys = passkeys
        self._emails_of = emails or (lambda: None)
        self._sends_email = emails is not None
        self._flow = flow
        self._sign_in = sign_in
        self._access = access
        self._directory = directory
        self._clients = clients
        self._users = users
        self._grants = grants
        self._sealer = sealer
        self._clock = clock
        self._random = random

    # --- GET /account ---------------------------------------------------------------------------

    def account_page(self, request: HttpRequest) -> HttpResponse:
        done = parse_query(request).get("done", "")
        notice = NOTICES.get(done)
        found = self._signed_in(request)
        if found is None:
            return self._sign_in_form(request, notice=notice)
        return self._overview(
            request, found[0], notice=notice, session=found[1], email_notice=EMAIL_NOTICES.get(done)
        )

    def _signed_in_post(self, request: HttpRequest) -> tuple[dict[str, str], User, Session] | None:
        """A signed-in user's form, its CSRF token checked first (G1); None: signed out."""
        form = verified_form(self._flow.cookies, request)
        found = self._signed_in(request)
        return (form, *found) if found is not None else None

    def _signed_in(self, request: HttpRequest) -> tuple[User, Session] | None:
        return signed_in_user(self._flow, self._users, request)

    def _sign_in_form(
        self,
        request: HttpRequest,
        username: str = "",
        error: str | None = None,
        notice: str | None = None,
    ) -> HttpResponse:
        csrf, cookies = csrf_of(self._flow.cookies, request, self._random)
        passkeys = self._passkey_sign_in
        body = account_sign_in_form(
            csrf=csrf,
            username=username,
            error=error,
            notice=notice,
            passkey_options=passkeys.for_account(request, csrf) if passkeys else None,
            forgot_href=FORGOT_PASSWORD_PATH if self._sends_email else None,
        )
        script = passkeys.script(request) if passkeys else None
        return page(TITLE, body, cookies=cookies, script=script)

    def _overview(
        self,
        request: HttpRequest,
        user: User,
        *,
        notice: str | None = None,
        error: str | None = None,
        status: int = 200,
        session: Session,
        factor_error: str | None = None,
        email_notice: str | None = None,
        email_error: str | None = None,
    ) -> HttpResponse:
        csrf, cookies = csrf_of(self._flow.cookies, request, self._random)
        second_factor = ""
        if self._second_factor is not None:
            status_of = self._second_factor.status(user, session)
            second_factor = account_section(csrf=csrf, status=status_of, error=factor_error)
        section = ""
        if self._sends_email:
            from oauth_core.http.email_pages import email_section

            address = user.claims.get("email")
            section = email_section(
                csrf=csrf,
                email=address if isinstance(address, str) and address else None,
                verified=user.claims.get("email_verified") is True,
                error=email_error,
                notice=email_notice,
            )
        profile = [("Username", user.username)]
        for label, claim in (("Name", "name"), ("Email", "email")):
            if user.claims.get(claim):
                profile.append((label, str(user.claims[claim])))
        sections, targets = (
            self._providers_section(session, csrf, user) if self._providers_section else ("", ())
        )
        passkeys = self._passkeys
        body = account_overview(
            csrf=csrf,
            username=user.username,
            profile=profile,
            apps=self._apps(user),
            notice=notice,
            error=error,
            sections=sections,
            second_factor=second_factor,
            passkeys_html=passkeys.section(request, user, session, csrf) if passkeys else "",
            email_section=section,
        )
        script = passkeys.script(request) if passkeys else None
        return page(
            TITLE,
            body,
            status=status,
            cookies=cookies,
            wide=True,
            form_targets=targets,
            script=script,
        )

    def _apps(self, user: User) -> list[AllowedApp]:
        """The apps the user allowed (a consent) or that hold a live grant, by name."""
        allowed: dict[str, set[str]] = {}
        last_used: dict[str, int] = {}
        keeps: set[str] = set()
        for consent in self._access.consents(user):
            allowed.setdefault(consent.client_id, set()).update(consent.scopes)
        for grant in self._access.grants(user, live_only=True):
            allowed.setdefault(grant.client_id, set()).update(scope.parse(grant.scope))
            keeps.add(grant.client_id)
            used = grant.last_used_at or grant.created_at
            last_used[grant.client_id] = max(last_used.get(grant.client_id, 0), used)
        catalog = self._flow.catalog()
        apps = []
        for client_id, scopes in allowed.items():
            client = self._clients.get(client_id)
            if client is None:
                continue  # deleted: nothing left to remove
            words = [catalog.description(name) for name in sorted(scopes - {"offline_access"})]
            apps.append(
                AllowedApp(
                    client_id=client_id,
                    name=client.client_name or client_id,
                    allowed=words,
                    last_used=short_date(last_used[client_id]) if client_id in last_used else None,
                    keeps_access=client_id in keeps,
                )
            )
        return sorted(apps, key=lambda app: app.name.lower())

    # --- POST /account/login ---------------------------------------------------------------------

    def login(self, request: HttpRequest) -> HttpResponse:
        form = verified_form(self._flow.cookies, request)
        typed = form.get("username", "")[:MAX_USERNAME_LENGTH]
        user = self._sign_in.check(request, typed, form.get("password", ""), None)
        if user is None:
            return self._sign_in_form(request, typed, BAD_CREDENTIALS)
        if user.password_change_required:
            return self._password_form(request, self._sealer.seal(self._marked(user)), user)
        return self._signed_in_now(request, user, "signed_in")

    def _signed_in_now(self, request: HttpRequest, user: User, done: str) -> HttpResponse:
        if self._second_factor is not None:
            # A user with a second factor gives it here too (M4): the account page can turn
            # it off.
            second = self._second_factor.after_password(request, user, self._account_request())
            if second is not None:
                return second
        signed_in = self._sign_in.start_session(request, user, None)
        return see_other(f"{ACCOUNT_PATH}?done={done}", [signed_in.cookie])

    # --- POST /account/password: a temporary password replaced -----------------------------------

    def _marked(self, user: User) -> PendingAuthorization:
        """What the browser carries, sealed, between the sign-in and the new password: no
        client and no redirect, only the mark (an authorization request always names both)."""
        return replace(self._account_request(), password_change=password_change_mark(user))

    def _account_request(self) -> PendingAuthorization:
        """The account page's own request, to carry a mark in: it names no client."""
        now = self._clock.now()
        return PendingAuthorization(
            request_id=self._random.token(16),
            client_id="",
            redirect_uri=ACCOUNT_PATH,
            scope="",
            state=None,
            nonce=None,
            code_challenge="",
            prompt=(),
            max_age=None,
            login_hint=None,
            expires_at=now + PASSWORD_CHANGE_WINDOW,
            requested_at=now,
        )

    def _password_form(
        self, request: HttpRequest, handle: str, user: User, error: str | None = None
    ) -> HttpResponse:
        csrf, cookies = csrf_of(self._flow.cookies, request, self._random)
        body = password_change_form(
            action=f"{ACCOUNT_PATH}/password", request_id=handle, csrf=csrf,
            username=user.username, error=error,
        )  # fmt: skip
        return page("Choose a new password", body, cookies=cookies)

    def password(self, request: HttpRequest) -> HttpResponse:
        form = verified_form(self._flow.cookies, request)
        handle = form.get("request_id", "")
        pending = self._sealer.open(handle)
        is_account = pending is not None and not pending.client_id
        if pending is None or not is_account or pending.redirect_uri != ACCOUNT_PATH:
            return error_page("This page has expired. Sign in again.", title="Sign-in expired")
        user = self._sign_in.user_to_change(pending.password_change)
        if user is None:
            return error_page("This page has expired. Sign in again.", title="Sign-in expired")
        chosen = self._sign_in.choose_password(
            user, form.get("new_password", ""), form.get("confirm_password", "")
        )
        if isinstance(chosen, str):
            return self._password_form(request, handle, user, chosen)
        return self._signed_in_now(request, chosen, "signed_in")

    # --- POST /account: what the signed-in user does ---------------------------------------------

    def act(self, request: HttpRequest) -> HttpResponse:
        posted = self._signed_in_post(request)
        if posted is None:
            return see_other(ACCOUNT_PATH)  # signed out meanwhile: the sign-in form
        form, user, session = posted
        action = form.get("action", "")
        if action in ("totp_start", "totp_remove", "recovery_new") and self._second_factor:
            return self._second_factor_action(request, user, session, action, form)
        if action == "remove":
            return self._remove(user, form.get("client_id", ""))
        if action == "password":
            return self._change_password(request, user, form, session)
        if action == "sign_out_everywhere":
            ended = self._access.end_sessions(user)
            count("SignedOutEverywhere")
            audit.emit(
                audit.SESSIONS_ENDED, sub=user.sub, username=user.username, sessions=len(ended)
            )
            # The apps those sessions signed into are told (back-channel logout), unwaited for.
            self._notices.sessions_ended(self._flow.issuer(request), ended)
            cleared = self._flow.cookies.clear(SESSION_COOKIE)
            return see_other(f"{ACCOUNT_PATH}?done=signed_out", [cleared])
        raise InvalidRequest("unknown action")

    def _second_factor_action(
        self, request: HttpRequest, user: User, session: Session, action: str, form: dict[str, str]
    ) -> HttpResponse:
        """Set up an authenticator app; turn two-step verification off, or get new recovery
        codes, each only with a current code (or, from a session that gave one, the
        password)."""
        step = self._second_factor
        assert step is not None
        if action == "totp_start":
            if step.status(user, session).enrolled:
                return see_other(ACCOUNT_PATH)
            return step.start_enrolment(request, user, session, self._account_request())
        proven = step.proven(request, user, session, form)
        if isinstance(proven, str):
            return self._overview(request, user, session=session, factor_error=proven, status=400)
        if action == "totp_remove":
            step.remove(user)
            return see_other(f"{ACCOUNT_PATH}?done=mfa_off")
        return step.new_recovery_codes(request, user)

    def _remove(self, user: User, client_id: str) -> HttpResponse:
        if not CLIENT_ID_PATTERN.match(client_id):
            raise InvalidRequest("client_id is malformed")
        revoked, withdrawn = self._access.remove_app(user, client_id)
        if revoked or withdrawn:  # recorded only when something was removed
            audit.emit(audit.CONSENT_WITHDRAWN, client_id=client_id, sub=user.sub, grants=revoked)
        return see_other(f"{ACCOUNT_PATH}?done=removed")

    def _change_password(
        self, request: HttpRequest, user: User, form: dict[str, str], session: Session
    ) -> HttpResponse:
        # The current password is checked as a sign-in is: throttled, counted, recorded.
        current = form.get("current_password", "")
        if self._sign_in.check(request, user.username, current, None) is None:
            return self._overview(
                request,
                user,
                error="Your current password is not right.",
                status=400,
                session=session,
            )
        chosen, again = form.get("new_password", ""), form.get("confirm_password", "")
        problem = None
        if chosen != again:
            problem = "The two new passwords are not the same."
        else:
            try:
                changed = self._directory.set_password(user.username, chosen)
            except InvalidUser as exc:
                problem = f"The new password {exc.message}."
        if problem is not None:
            return self._overview(request, user, error=problem, status=400, session=session)
        count("PasswordChanged", by="account")
        audit.emit(audit.PASSWORD_CHANGED, sub=user.sub, username=user.username, by="account")
        # The change ended every session (D8): this browser gets a fresh one, which says how
        # the one it replaces signed in (its second factor too: the user has just given their
        # password, in the browser that gave both).
        amr, acr = session.amr, session.acr or ACR_PASSWORD
        signed_in = self._sign_in.start_session(request, changed, None, amr=amr, acr=acr)
        return see_other(f"{ACCOUNT_PATH}?done=password", [signed_in.cookie])

    # --- POST /account/email: the address, changed or confirmed again ----------------------------

    def email(self, request: HttpRequest) -> HttpResponse:
        posted = self._signed_in_post(request)
        if posted is None:
            return see_other(ACCOUNT_PATH)  # signed out meanwhile: the sign-in form
        form, user, session = posted
        emails = self._emails_of()
        if emails is None:
            raise InvalidRequest("this server sends no e-mail")
        issuer = self._flow.issuer(request)
        action = form.get("action", "")
        if action == "resend":
            sent = emails.send_verification(user, issuer, request.source_ip)
            done = "email_sent" if sent else "email_not_sent"
            return see_other(f"{ACCOUNT_PATH}?done={done}#email")
        if action != "change":
            raise InvalidRequest("unknown action")
        # The address recovers the account: changing it takes the current password, checked
        # and counted as a sign-in is.
        current = form.get("current_password", "")
        if self._sign_in.check(request, user.username, current, None) is None:
            return self._overview(
                request,
                user,
                session=session,
                email_error="Your current password is not right.",
                status=400,
            )
        try:
            outcome = emails.change_email(user, form.get("email", ""), issuer, request.source_ip)
        except InvalidUser:
            return self._overview(
                request,
                user,
                session=session,
                email_error="Type the new address as name@example.com.",
                status=400,
            )
        done = {"sent": "email_changed", "same": "email_same"}.get(outcome, "email_not_sent")
        return see_other(f"{ACCOUNT_PATH}?done={done}#email")
