"""Self sign-up (SECURITY R6): off unless the stack switches it on (SELF_SIGN_UP, and a sender).

The form takes a username, an e-mail address and a password; nothing is created until the
link mailed to the address is followed, so an account always has a verified address and a
sign-up nobody confirms leaves nothing behind but a link that expires. The page answers every
well-formed sign-up the same way, whether the username is free or not and whether the address
has an account: the e-mail tells its owner which (oauth_core.admin.account_emails), and the
answer is held for the same time in every case. What stays unavoidable: a username is unique,
so whoever controls an address can learn, one e-mail at a time and within the limits, that a
username is taken (docs/security.md). Sign-ups are counted per source (429 beyond).

Following the link proves the address, not who signed up: anyone can type someone else's
address. So the confirm page asks again for the password chosen at sign-up, and only that
creates the account; otherwise whoever signed up with a victim's address and a password of
their own would own the victim's verified account the moment the victim clicked. A wrong
password uses nothing up, and is counted as a failed sign-in of the pending username from that
source (oauth_core.rules.throttle, purpose SIGN_IN): the same buckets, so guessing a password
at this page and at sign-in share one budget, and the link (24 hours) cannot be brute-forced.
"""

from __future__ import annotations

from oauth_core import constants
from oauth_core.admin.account_emails import WRONG_PASSWORD, AccountEmails
from oauth_core.clock import Random
from oauth_core.config import Settings
from oauth_core.emails import normalized_email
from oauth_core.endpoints.email_links import (
    AnswerPace,
    MailingPages,
    carried_handle,
    not_offered,
    password_problem,
    too_many,
)
from oauth_core.endpoints.flow import AuthorizationFlow
from oauth_core.endpoints.signin import verified_form
from oauth_core.errors import TooManyRequests
from oauth_core.http.email_pages import link_refused, sign_up_confirm, sign_up_form, sign_up_sent
from oauth_core.http.forms import parse_query
from oauth_core.http.pages import error_page, page, see_other, with_query
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.models import USERNAME_PATTERN, canonical_username
from oauth_core.observability import count
from oauth_core.rules.email_limits import SIGN_UP, EmailLimits
from oauth_core.rules.passwords import hash_password
from oauth_core.rules.throttle import SIGN_IN, FailureThrottle

BAD_USERNAME = "Choose a username of 1 to 128 letters, digits and the signs . _ @ + -"
BAD_EMAIL = "Type your e-mail address, as name@example.com."
WRONG_SIGN_UP_PASSWORD = (
    "That is not the password chosen at sign-up. Type the password you chose when you signed up."
)


class SignUpPages(MailingPages):
    def __init__(
        self,
        flow: AuthorizationFlow,
        emails: AccountEmails | None,
        limits: EmailLimits,
        settings: Settings,
        pace: AnswerPace,
        random: Random,
        throttle: FailureThrottle,
    ):
        super().__init__(flow, emails, limits, settings, pace, random)
        self._throttle = throttle

    @staticmethod
    def offered(settings: Settings) -> bool:
        return settings.offers_sign_up

    def _form(
        self,
        request: HttpRequest,
        handle: str | None,
        username: str = "",
        email: str = "",
        error: str | None = None,
    ) -> HttpResponse:
        csrf, cookies = self._csrf(request)
        body = sign_up_form(
            csrf=csrf, request_id=handle, username=username, email=email, error=error
        )
        return page("Create an account", body, status=400 if error else 200, cookies=cookies)

    # --- /sign-up ------------------------------------------------------------------------------

    def sign_up_page(self, request: HttpRequest) -> HttpResponse:
        if self._emails is None:
            return not_offered()
        query = parse_query(request)
        handle = carried_handle(query.get("request_id"))
        if query.get("sent"):
            return page("Check your e-mail", sign_up_sent(request_id=handle))
        return self._form(request, handle)

    def sign_up(self, request: HttpRequest) -> HttpResponse:
        started = self._pace.start()
        form = verified_form(self._flow.cookies, request)  # a cross-site POST: 403 (G1)
        if self._emails is None:
            return not_offered()
        handle = carried_handle(form.get("request_id"))
        typed_name = form.get("username", "").strip()[:128]
        typed_email = form.get("email", "").strip()[:254]
        try:
            self._limits.count_source(SIGN_UP, request.source_ip)
        except TooManyRequests as exc:
            return too_many(exc)
        username = canonical_username(typed_name)
        email = normalized_email(typed_email)
        chosen, again = form.get("new_password", ""), form.get("confirm_password", "")
        problem = (
            BAD_USERNAME
            if not USERNAME_PATTERN.match(username)
            else BAD_EMAIL
            if email is None
            else password_problem(chosen, again)
        )
        if problem is not None or email is None:
            return self._form(request, handle, typed_name, typed_email, problem or BAD_EMAIL)
        # Hashed now, for every sign-up alike: the pending account keeps only the hash.
        password_hash = hash_password(chosen)
        issuer = self._flow.issuer(request)
        self._emails.start_sign_up(username, email, password_hash, issuer, request.source_ip)
        self._pace.hold(started)
        sent = {"sent": "1", **({"request_id": handle} if handle else {})}
        return see_other(with_query(constants.SIGN_UP_PATH, sent))

    # --- /sign-up/confirm ------------------------------------------------------------------------

    def _refused(self) -> HttpResponse:
        return page(
            "This link does not work", link_refused(constants.SIGN_UP_CONFIRM_PATH), status=400
        )

    def _confirm_form(
        self,
        request: HttpRequest,
        token: str,
        username: str,
        email: str,
        error: str | None = None,
    ) -> HttpResponse:
        csrf, cookies = self._csrf(request)
        body = sign_up_confirm(csrf=csrf, token=token, username=username, email=email, error=error)
        status = 400 if error else 200
        return page("Finish creating your account", body, status=status, cookies=cookies)

    def confirm_page(self, request: HttpRequest) -> HttpResponse:
        if self._emails is None:
            return not_offered()
        token = parse_query(request).get("token", "")
        link = self._emails.sign_up_link(token)
        if link is None:
            return self._refused()
        return self._confirm_form(request, token, link.username, link.email)

    def confirm(self, request: HttpRequest) -> HttpResponse:
        form = verified_form(self._flow.cookies, request)  # a cross-site POST: 403 (G1)
        if self._emails is None:
            return not_offered()
        token = form.get("token", "")
        link = self._emails.sign_up_link(token)
        if link is None:
            return self._refused()
        # Counted before the password is checked, as at sign-in: parallel guesses each count.
        keys = self._throttle.keys(SIGN_IN, link.username, request.source_ip)
        try:
            self._throttle.reserve(keys)
        except TooManyRequests as exc:
            return too_many(exc)
        created = self._emails.complete_sign_up(token, form.get("password", ""))
        if created == WRONG_PASSWORD:
            count("SignUpConfirmFailed")
            return self._confirm_form(
                request, token, link.username, link.email, WRONG_SIGN_UP_PASSWORD
            )
        self._throttle.give_back(keys)  # the password was right: no failure
        if created is None:
            return self._refused()
        if created == "taken":
            return error_page(
                "Someone took that username before you followed the link. Sign up again with "
                "another one.",
                status=409,
                title="That username is taken",
            )
        return see_other("/account?done=created")
