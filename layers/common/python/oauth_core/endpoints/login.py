"""The sign-in and consent pages (SECURITY G1-G8; signing out: oauth_core.endpoints.end_session).

The browser carries the authorization request between /authorize and these pages sealed in an
opaque handle (oauth_core.tokens.sealed_requests); no caller-supplied return URL is ever followed
(G5). Every POST needs the CSRF token that matches its cookie (G1) and answers with 303 (G4).
A sign-in issues a fresh session id (G2) and is recorded in the request it was made for, which
is what a `prompt=login` or `max_age` request accepts (G8). Failed sign-ins are counted per
account and source, and per source (G6, G7); an unknown user costs the same Argon2id work as a
wrong password. A request completes once: its id is marked used when its code is issued.
"""

from __future__ import annotations

from dataclasses import replace

from oauth_core import audit, constants
from oauth_core.clock import Random
from oauth_core.config import Settings
from oauth_core.constants import FORGOT_PASSWORD_PATH, SIGN_UP_PATH
from oauth_core.endpoints.authorization_request import registered_redirect_uri
from oauth_core.endpoints.flow import AuthorizationFlow, resumed
from oauth_core.endpoints.passkey_offer import PasskeyOffer
from oauth_core.endpoints.passkeys import PasskeySignIn
from oauth_core.endpoints.second_factor import SecondFactorStep
from oauth_core.endpoints.signin import (
    BAD_CREDENTIALS,
    MAX_USERNAME_LENGTH,
    PasswordSignIn,
    csrf_of,
    password_change_mark,
    verified_form,
)
from oauth_core.errors import AccessDenied
from oauth_core.http.answers import EXPIRED
from oauth_core.http.forms import parse_query
from oauth_core.http.pages import (
    Script,
    consent_form,
    error_page,
    login_form,
    password_change_form,
    request_page,
    see_other,
    with_query,
)
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.models import Client, PendingAuthorization, Session, User
from oauth_core.ports import ClientStore, GrantStore
from oauth_core.rules.passkey_challenges import SIGN_IN as PASSKEY_SIGN_IN
from oauth_core.tokens.sealed_requests import RequestSealer


class LoginPages:
    def __init__(
        self,
        flow: AuthorizationFlow,
        sign_in: PasswordSignIn,
        clients: ClientStore,
        grants: GrantStore,
        sealer: RequestSealer,
        random: Random,
        settings: Settings | None = None,
        second_factor: SecondFactorStep | None = None,
        passkeys: PasskeySignIn | None = None,
        passkey_offer: PasskeyOffer | None = None,
    ):
        """`settings`: whether the sign-in page offers "Forgot your password?" and "Create an
        account" (a stack that sends e-mail; with self sign-up on)."""
        self._offers_recovery = settings is not None and settings.sends_email
        self._offers_sign_up = settings is not None and settings.offers_sign_up
        self.flow = flow
        # After a password sign-in that needs nothing more: "Add a passkey?" (SECURITY K8).
        self._passkey_offer = passkey_offer
        # After a right password: the second factor, or setting one up (SECURITY M1-M6).
        self._second_factor = second_factor
        self._passkeys = passkeys
        self._sign_in = sign_in
        self._clients = clients
        self._grants = grants
        self._sealer = sealer
        self._random = random

    # --- helpers -------------------------------------------------------------------------------

    def _csrf(self, request: HttpRequest) -> tuple[str, list[str]]:
        return csrf_of(self.flow.cookies, request, self._random)

    def resume(self, handle: str | None) -> tuple[PendingAuthorization, Client] | None:
        """The request a handle carries, if it is still good for its client (federation
        resumes it after the provider's answer)."""
        return self._resume(handle)

    def _resume(self, handle: str | None) -> tuple[PendingAuthorization, Client] | None:
        """The request a handle carries, if it is still good for its client."""
        pending = self._sealer.open(handle)
        if pending is None or not pending.client_id:
            return None  # none, or the account page's (which names no client)
        client = self._clients.get(pending.client_id)
        if client is None or client.disabled:
            return None
        if client.registration_id != pending.client_registration:
            return None  # made for an earlier registration of this client_id (D8)
        if not registered_redirect_uri(client, pending.redirect_uri):
            return None  # the client changed its redirect URIs since
        return pending, client

    def _form(self, request: HttpRequest) -> dict[str, str]:
        return verified_form(self.flow.cookies, request)

    def _page(
        self,
        title: str,
        body: str,
        pending: PendingAuthorization,
        cookies: list[str],
        script: Script | None = None,
    ) -> HttpResponse:
        return request_page(title, body, pending.redirect_uri, cookies=cookies, script=script)

    # --- /login --------------------------------------------------------------------------------

    def login_page(self, request: HttpRequest) -> HttpResponse:
        handle = parse_query(request).get("request_id")
        found = self._resume(handle)
        if found is None or handle is None:
            return error_page(EXPIRED, title="Sign-in expired")
        pending, client = found
        return self._login_form(request, handle, pending, client, pending.login_hint or "")

    def _login_form(
        self,
        request: HttpRequest,
        handle: str,
        pending: PendingAuthorization,
        client: Client,
        username: str,
        error: str | None = None,
    ) -> HttpResponse:
        csrf, cookies = self._csrf(request)
        passkeys = self._passkeys
        carried = {"request_id": handle}
        forgot = with_query(FORGOT_PASSWORD_PATH, carried) if self._offers_recovery else None
        body = login_form(
            request_id=handle,
            csrf=csrf,
            client_name=client.client_name or client.client_id,
            username=username,
            error=error,
            providers=self._providers(),
            passkey_options=passkeys.for_request(request, pending, csrf) if passkeys else None,
            forgot_href=forgot,
            sign_up_href=with_query(SIGN_UP_PATH, carried) if self._offers_sign_up else None,
        )
        script = passkeys.script(request) if passkeys else None
        return self._page("Sign in", body, pending, cookies, script)

    def _providers(self) -> list[tuple[str, str]]:
        """The upstream providers the page offers (docs/federation.md), by display name."""
        declared = self.flow.catalog().providers.values()
        return sorted(((p.name, p.display_name) for p in declared), key=lambda p: p[1].lower())

    def login(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request)
        handle = form.get("request_id", "")
        found = self._resume(handle)
        if found is None:
            return error_page(EXPIRED, title="Sign-in expired")
        pending, client = found
        typed = form.get("username", "")[:MAX_USERNAME_LENGTH]
        user = self._sign_in.check(request, typed, form.get("password", ""), client.client_id)
        if user is None:
            return self._login_form(request, handle, pending, client, typed, BAD_CREDENTIALS)
        if user.password_change_required:
            # Right, but temporary: nothing opens until the user has chosen their own.
            marked = replace(pending, password_change=password_change_mark(user))
            return self._password_form(request, self._sealer.seal(marked), pending, user)
        # The script says, in `offer_passkey`, that this device could keep a passkey.
        device = form.get("offer_passkey") == "1"
        return self._signed_in_now(request, user, pending, client, offer_passkey=device)

    def passkey_login(self, request: HttpRequest) -> HttpResponse:
        """POST /login/passkey: signed in by a passkey alone (SECURITY K1-K5)."""
        form = self._form(request)
        handle = form.get("request_id", "")
        found = self._resume(handle)
        if found is None or self._passkeys is None:
            return error_page(EXPIRED, title="Sign-in expired")
        pending, client = found
        # The challenge was bound to this browser (its CSRF token) and this request.
        binding = f"{form.get('csrf_token', '')} {pending.request_id}"
        outcome = self._passkeys.check(
            request, form.get("credential", ""), PASSKEY_SIGN_IN, binding, client.client_id
        )
        if isinstance(outcome, str):
            return self._login_form(request, handle, pending, client, "", outcome)
        user, verified = outcome
        return self._signed_in_now(
            request, user, pending, client, amr=verified.amr, acr=constants.ACR_PASSKEY
        )

    def _signed_in_now(
        self,
        request: HttpRequest,
        user: User,
        pending: PendingAuthorization,
        client: Client,
        *,
        amr: tuple[str, ...] = (constants.AMR_PASSWORD,),
        acr: str = constants.ACR_PASSWORD,
        offer_passkey: bool = False,
    ) -> HttpResponse:
        # A password alone may need a second factor next; a passkey is two factors already.
        if self._second_factor is not None and constants.AMR_PASSWORD in amr:
            second = self._second_factor.after_password(request, user, pending)
            if second is not None:
                return second
        signed_in = self._sign_in.start_session(request, user, client.client_id, amr=amr, acr=acr)
        session = signed_in.session
        going_on = resumed(replace(pending, password_change=None), session)
        offer = self._passkey_offer
        if offer_passkey and offer is not None:
            offered = offer.after_password(request, user, session, going_on, offer_passkey)
            if offered is not None:
                offered.cookies.append(signed_in.cookie)
                return offered
        response = self.flow.next_step(request, client, going_on, session, from_page=True)
        response.cookies.append(signed_in.cookie)
        return response

    # --- /login/password: a temporary password replaced -----------------------------------------

    def _password_form(
        self,
        request: HttpRequest,
        handle: str,
        pending: PendingAuthorization,
        user: User,
        error: str | None = None,
    ) -> HttpResponse:
        csrf, cookies = self._csrf(request)
        body = password_change_form(
            action="/login/password", request_id=handle, csrf=csrf, username=user.username,
            error=error,
        )  # fmt: skip
        return self._page("Choose a new password", body, pending, cookies)

    def password(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request)
        handle = form.get("request_id", "")
        found = self._resume(handle)
        user = self._sign_in.user_to_change(found[0].password_change) if found else None
        if found is None or user is None:
            return error_page(EXPIRED, title="Sign-in expired")
        pending, client = found
        chosen = self._sign_in.choose_password(
            user, form.get("new_password", ""), form.get("confirm_password", "")
        )
        if isinstance(chosen, str):
            return self._password_form(request, handle, pending, user, chosen)
        return self._signed_in_now(request, chosen, pending, client)

    # --- /consent ------------------------------------------------------------------------------

    def _signed_in(
        self, request: HttpRequest, handle: str, pending: PendingAuthorization
    ) -> Session | HttpResponse:
        """The session that may answer this request, or the way to the sign-in page (G8)."""
        session = self.flow.live_session(request)
        if session is None or not self.flow.signed_in_for(pending, session):
            return see_other(with_query("/login", {"request_id": handle}))
        return session

    def consent_page(self, request: HttpRequest) -> HttpResponse:
        handle = parse_query(request).get("request_id")
        found = self._resume(handle)
        if found is None or handle is None:
            return error_page(EXPIRED, title="Request expired")
        pending, client = found
        session = self._signed_in(request, handle, pending)
        if isinstance(session, HttpResponse):
            return session
        csrf, cookies = self._csrf(request)
        asked, offline = self.flow.consent_asks(pending)
        body = consent_form(
            request_id=handle,
            csrf=csrf,
            client_name=client.client_name or client.client_id,
            username=session.username,
            asked=asked,
            offline=offline,
        )
        return self._page("Allow access?", body, pending, cookies)

    def consent(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request)
        handle = form.get("request_id", "")
        found = self._resume(handle)
        if found is None:
            return error_page(EXPIRED, title="Request expired")
        pending, client = found
        session = self._signed_in(request, handle, pending)
        if isinstance(session, HttpResponse):
            return session
        if form.get("decision") != "allow":
            self.flow.consume(pending)
            audit.emit(
                audit.CONSENT_DENIED, client_id=client.client_id, sub=session.sub,
                scope=pending.scope,
            )  # fmt: skip
            return self.flow.redirect_with_error(
                request, pending.redirect_uri, pending.state, AccessDenied("the user denied access")
            )
        self.flow.remember_consent(client, pending, session.sub)
        return self.flow.complete(request, pending, session)
