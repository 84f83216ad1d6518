"""The pages of the links this server mails (SECURITY R1-R5): "Forgot your password?" and the
page its link opens to choose a new password; the page that confirms a new e-mail address.

"Forgot your password?" gives one answer, a redirect to the same "check your e-mail" page,
whoever the username or address names: an account with a verified address, one without, a
disabled one, none. It does the same lookups for each, and the answer is held until a fixed
time after the request arrived (EMAIL_ANSWER_MS), so that the link written and the e-mail sent
for a real account do not show in how long it takes; a failed send answers the same too.

Every POST carries the CSRF token of its cookie (G1) and answers 303 (G4). A link's page only
shows what the link would do: the link is used up by the POST, once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from oauth_core import constants
from oauth_core.admin.account_emails import AccountEmails
from oauth_core.admin.users import InvalidUser, check_password
from oauth_core.clock import Clock, Random
from oauth_core.config import Settings
from oauth_core.endpoints.flow import AuthorizationFlow
from oauth_core.endpoints.signin import csrf_of, verified_form
from oauth_core.errors import TooManyRequests
from oauth_core.http.email_pages import (
    forgot_form,
    forgot_sent,
    link_refused,
    reset_form,
    verify_confirm,
)
from oauth_core.http.forms import parse_query
from oauth_core.http.pages import SESSION_COOKIE, error_page, page, see_other, with_query
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.rules.email_limits import RECOVERY, EmailLimits

# The longest username or address read from a form (an address is at most 254 characters).
MAX_IDENTIFIER_LENGTH = 254
# The longest sign-in handle carried back to the sign-in page (as the pages open).
MAX_HANDLE_LENGTH = 8192


class AnswerPace:
    """Holds an answer until `hold_ms` after its request arrived: the answers that may or may
    not have sent an e-mail take the same time either way (R1)."""

    def __init__(self, clock: Clock, hold_ms: int, sleep: Callable[[float], None] = time.sleep):
        self._clock = clock
        self._hold_ms = hold_ms
        self._sleep = sleep

    def start(self) -> int:
        return self._clock.now_ms()

    def hold(self, started_ms: int) -> None:
        wait = started_ms + self._hold_ms - self._clock.now_ms()
        if wait > 0:
            self._sleep(wait / 1000)


def not_offered() -> HttpResponse:
    return error_page("This page is not offered here.", status=404, title="Not available")


def too_many(exc: TooManyRequests) -> HttpResponse:
    response = error_page(
        "Too many requests came from your network. Wait a few minutes and try again.",
        status=429,
        title="Too many requests",
    )
    response.headers.update(exc.headers)  # Retry-After
    return response


def carried_handle(value: str | None) -> str | None:
    """A sign-in handle carried through these pages back to the sign-in page (opened there)."""
    return value if value and len(value) <= MAX_HANDLE_LENGTH else None


def password_problem(chosen: str, again: str) -> str | None:
    """What is wrong with a new password, in words (the rules every password page applies)."""
    if chosen != again:
        return "The two passwords are not the same."
    try:
        check_password(chosen)
    except InvalidUser as exc:
        return f"The password {exc.message}."
    return None


class MailingPages:
    """What the pages that mail a link share: the mailer (None where the stack does not offer
    them: `offered`), the e-mail limits, the answer's pace, and the CSRF cookie."""

    def __init__(
        self,
        flow: AuthorizationFlow,
        emails: AccountEmails | None,
        limits: EmailLimits,
        settings: Settings,
        pace: AnswerPace,
        random: Random,
    ):
        self._flow = flow
        self._emails = emails if self.offered(settings) else None
        self._limits = limits
        self._pace = pace
        self._random = random

    @staticmethod
    def offered(settings: Settings) -> bool:
        return settings.sends_email

    def _csrf(self, request: HttpRequest) -> tuple[str, list[str]]:
        return csrf_of(self._flow.cookies, request, self._random)


class EmailLinkPages(MailingPages):
    """ "Forgot your password?", the reset page, and confirming an address."""

    def _refused(self, path: str) -> HttpResponse:
        return page("This link does not work", link_refused(path), status=400)

    # --- /forgot-password -----------------------------------------------------------------

    def forgot_page(self, request: HttpRequest) -> HttpResponse:
        if self._emails is None:
            return not_offered()
        query = parse_query(request)
        handle = carried_handle(query.get("request_id"))
        if query.get("sent"):
            return page("Check your e-mail", forgot_sent(request_id=handle))
        return self._forgot_form(request, handle)

    def _forgot_form(
        self,
        request: HttpRequest,
        handle: str | None,
        typed: str = "",
        error: str | None = None,
        status: int = 200,
    ) -> HttpResponse:
        csrf, cookies = self._csrf(request)
        body = forgot_form(csrf=csrf, request_id=handle, typed=typed, error=error)
        return page("Forgot your password?", body, status=status, cookies=cookies)

    def forgot(self, request: HttpRequest) -> HttpResponse:
        started = self._pace.start()
        form = verified_form(self._flow.cookies, request)  # a cross-site POST: 403 (G1)
        if self._emails is None:
            return not_offered()
        handle = carried_handle(form.get("request_id"))
        typed = form.get("identifier", "").strip()[:MAX_IDENTIFIER_LENGTH]
        if not typed:
            return self._forgot_form(
                request, handle, error="Type your username or your e-mail address.", status=400
            )
        try:
            self._limits.count_source(RECOVERY, request.source_ip)
        except TooManyRequests as exc:
            return too_many(exc)
        self._emails.request_reset(typed, self._flow.issuer(request), request.source_ip)
        self._pace.hold(started)
        sent = {"sent": "1", **({"request_id": handle} if handle else {})}
        return see_other(with_query(constants.FORGOT_PASSWORD_PATH, sent))

    # --- /reset-password --------------------------------------------------------------------

    def reset_page(self, request: HttpRequest) -> HttpResponse:
        if self._emails is None:
            return not_offered()
        token = parse_query(request).get("token", "")
        user = self._emails.reset_link(token)
        if user is None:
            return self._refused(constants.RESET_PASSWORD_PATH)
        return self._reset_form(request, token, user.username)

    def _reset_form(
        self, request: HttpRequest, token: str, username: str, error: str | None = None
    ) -> HttpResponse:
        csrf, cookies = self._csrf(request)
        body = reset_form(csrf=csrf, token=token, username=username, error=error)
        return page("Choose a new password", body, status=400 if error else 200, cookies=cookies)

    def reset(self, request: HttpRequest) -> HttpResponse:
        form = verified_form(self._flow.cookies, request)  # a cross-site POST: 403 (G1)
        if self._emails is None:
            return not_offered()
        token = form.get("token", "")
        user = self._emails.reset_link(token)
        if user is None:
            return self._refused(constants.RESET_PASSWORD_PATH)
        chosen, again = form.get("new_password", ""), form.get("confirm_password", "")
        problem = password_problem(chosen, again)
        if problem is not None:  # the link is not used up by a password the rules refuse
            return self._reset_form(request, token, user.username, problem)
        if self._emails.reset_password(token, chosen) is None:
            return self._refused(constants.RESET_PASSWORD_PATH)  # used meanwhile
        # Every session ended with the old password: this browser's too. Sign in anew.
        cleared = self._flow.cookies.clear(SESSION_COOKIE)
        return see_other("/account?done=reset", [cleared])

    # --- /verify-email ----------------------------------------------------------------------

    def verify_page(self, request: HttpRequest) -> HttpResponse:
        if self._emails is None:
            return not_offered()
        token = parse_query(request).get("token", "")
        found = self._emails.verification_link(token)
        if found is None:
            return self._refused(constants.VERIFY_EMAIL_PATH)
        user, email = found
        csrf, cookies = self._csrf(request)
        body = verify_confirm(csrf=csrf, token=token, username=user.username, email=email)
        return page("Confirm your e-mail address", body, cookies=cookies)

    def verify(self, request: HttpRequest) -> HttpResponse:
        form = verified_form(self._flow.cookies, request)  # a cross-site POST: 403 (G1)
        if self._emails is None:
            return not_offered()
        if self._emails.verify(form.get("token", "")) is None:
            return self._refused(constants.VERIFY_EMAIL_PATH)
        return see_other("/account?done=email_verified")
