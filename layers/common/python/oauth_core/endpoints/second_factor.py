"""The second-factor step (SECURITY M1-M7): after a right password or an upstream provider's
verified answer (federation, M7), or to step up a session signed in with one factor alone, the
user gives a second factor, or sets one up when the sign-in needs one and they have none; and
the account page's part (set up, turn off, new recovery codes).

What opens the step is a mark in the sealed request (oauth_core.tokens.step_marks): made only
by a right password or a provider's verified answer in this request (never put in a URL), or
for the browser's own session. The
mark is spent once (GrantStore.use_once) when the step succeeds. A code is checked against the
user's secret, counted per user and source and per source before it is checked (the buckets of
G7, oauth_core.rules.throttle), and a TOTP code's time step is taken with a conditional write,
so no code works twice; a recovery code is removed by one.

The step offers each `SecondFactor` the user has, each in a form of its own on the same page
under the same mark: `OtpFactor` (an authenticator app's code, or a recovery code), and a passkey
(oauth_core.endpoints.passkey_factor, given to the step by the wiring). A user with an
authenticator app gives one after every right password; a passkey alone is asked for only where
the request needs more than a password (SECURITY K6).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol
from urllib.parse import urlsplit

from oauth_core import audit, constants
from oauth_core.clock import Clock, Random
from oauth_core.config import Settings
from oauth_core.endpoints.authorization_request import client_still_for
from oauth_core.endpoints.flow import AuthorizationFlow, resumed
from oauth_core.endpoints.signin import PasswordSignIn, csrf_of, verified_form
from oauth_core.errors import RequestCompleted
from oauth_core.http import factor_pages
from oauth_core.http.answers import EXPIRED
from oauth_core.http.factor_pages import FactorStatus
from oauth_core.http.forms import parse_query
from oauth_core.http.pages import (
    Script,
    error_page,
    page,
    request_page,
    see_other,
    short_date,
    with_query,
)
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.models import Client, PendingAuthorization, SecondFactors, Session, User
from oauth_core.observability import count
from oauth_core.ports import ClientStore, FactorStore, GrantStore, UserStore
from oauth_core.rules import assurance, recovery_codes, totp
from oauth_core.rules.hashing import token_hash
from oauth_core.rules.throttle import SECOND_FACTOR, FailureThrottle
from oauth_core.tokens import step_marks
from oauth_core.tokens.sealed_requests import RequestSealer
from oauth_core.tokens.step_marks import (
    FEDERATED_STEP,
    FIRST_STEPS,
    PASSWORD_STEP,
    SESSION_STEP,
    StepMark,
)

ACCOUNT_PATH = "/account"
BAD_CODE = "That code is not right. Check the code in your app (it changes every 30 seconds) " \
    "and try again."  # fmt: skip
TITLE = "Two-step verification"
ENROL_TITLE = "Set up an authenticator app"


@dataclass(frozen=True)
class Verdict:
    """What checking a second factor found: accepted or not, and for the audit record."""

    accepted: bool
    method: str  # totp, recovery_code or passkey
    reason: str | None = None  # bad_code or replayed; a refused passkey's reason
    remaining: int | None = None  # recovery codes left
    # The session's amr once accepted, when the method's own `amr` does not say it all (which
    # kind of passkey answered); empty: the method's.
    amr: tuple[str, ...] = ()
    message: str | None = None  # what the page says when refused; None: BAD_CODE


@dataclass(frozen=True)
class StepContext:
    """The step as a method sees it on one request: the user, their authenticator app (if any),
    the mark that opens the step and this browser's CSRF token (what a passkey's challenge is
    bound to)."""

    request: HttpRequest
    user: User
    factors: SecondFactors | None
    mark: StepMark
    csrf: str


class SecondFactor(Protocol):
    """One way to give a second factor on the step's page: an authenticator app's code, or a
    passkey."""

    method: str  # the form's `method` value
    amr: tuple[str, ...]  # the session's amr once it is given (RFC 8176)

    def offered(self, user: User, factors: SecondFactors | None) -> bool:
        """Whether the user has this factor (`factors`: their authenticator app, if any)."""
        ...

    def fields(self, context: StepContext, error: bool) -> str:
        """Its form's fields and button (HTML); `error`: tie them to the page's announced
        error."""
        ...

    def check(self, context: StepContext, form: dict[str, str]) -> Verdict:
        """Check what the form gives, spending it (one conditional write) if accepted."""
        ...

    def script(self, request: HttpRequest) -> Script | None:
        """The script its fields need (the CSP names it), if any."""
        ...


class OtpFactor:
    """A TOTP code (RFC 6238) from the user's authenticator app, or one of their recovery
    codes: one field takes either."""

    method: str = "otp"
    amr: tuple[str, ...] = assurance.OTP_AMR

    def __init__(self, factors: FactorStore, clock: Clock):
        self._factors = factors
        self._clock = clock

    def offered(self, user: User, factors: SecondFactors | None) -> bool:
        return factors is not None and factors.enrolled

    def fields(self, context: StepContext, error: bool) -> str:
        return factor_pages.otp_fields(error)

    def script(self, request: HttpRequest) -> Script | None:
        return None

    def check(self, context: StepContext, form: dict[str, str]) -> Verdict:
        assert context.factors is not None  # offered only to a user with an app
        return self.check_code(context.factors, form)

    def check_code(self, factors: SecondFactors, form: dict[str, str]) -> Verdict:
        """The form's `code`: a current TOTP code, or an unused recovery code (spent)."""
        typed = form.get("code", "")[:64]
        code = totp.normalized_code(typed)
        if code is not None:
            return self._check_totp(factors, code)
        recovery = recovery_codes.normalized(typed)
        if recovery is not None:
            spent = self._factors.use_recovery_code(
                factors.sub, recovery_codes.code_hash(factors.sub, recovery)
            )
            if spent:
                left = len(factors.recovery_codes) - 1
                return Verdict(True, "recovery_code", remaining=max(left, 0))
        return Verdict(False, "recovery_code" if recovery else "totp", "bad_code")

    def _check_totp(self, factors: SecondFactors, code: str) -> Verdict:
        now = self._clock.now()
        secret = factors.totp_secret
        step = totp.matching_step(secret, code, now, factors.totp_last_step)
        if step is None:
            # A code of a step already taken is a replay, told apart for the audit trail only.
            replayed = totp.matching_step(secret, code, now, -1) is not None
            return Verdict(False, "totp", "replayed" if replayed else "bad_code")
        if not self._factors.use_step(factors.sub, secret, step):
            return Verdict(False, "totp", "replayed")  # another container took it first
        return Verdict(True, "totp")


@dataclass(frozen=True)
class Step:
    """A second-factor step resumed from its handle: the request (a client's, or the account
    page's), the mark that opens it, and whose it is."""

    pending: PendingAuthorization
    mark: StepMark
    client: Client | None  # None: the account page
    user: User
    session: Session | None  # the session stepped up (a `session` mark)


def cleared(pending: PendingAuthorization) -> PendingAuthorization:
    """The request once its steps are done: no mark left in it."""
    return replace(pending, second_factor=None, password_change=None)


class SecondFactorStep:
    def __init__(
        self,
        flow: AuthorizationFlow,
        sign_in: PasswordSignIn,
        clients: ClientStore,
        users: UserStore,
        grants: GrantStore,
        factors: FactorStore,
        throttle: FailureThrottle,
        sealer: RequestSealer,
        settings: Settings,
        clock: Clock,
        random: Random,
        passkeys: SecondFactor | None = None,
    ):
        self._flow = flow
        self._sign_in = sign_in
        self._clients = clients
        self._users = users
        self._grants = grants
        self._factors = factors
        self._throttle = throttle
        self._sealer = sealer
        self._settings = settings
        self._clock = clock
        self._random = random
        self._otp = OtpFactor(factors, clock)
        # A passkey first, where the user has one: one gesture, and nothing to phish.
        self.methods: tuple[SecondFactor, ...] = (
            (passkeys, self._otp) if passkeys is not None else (self._otp,)
        )

    # --- after a right password -------------------------------------------------------------

    def after_password(
        self,
        request: HttpRequest,
        user: User,
        pending: PendingAuthorization,
        kind: str = PASSWORD_STEP,
    ) -> HttpResponse | None:
        """The second-factor step a right password leads to, or None: the password is enough.
        A user with an authenticator app always gives a second factor; so does any user when
        the request needs more than a password (acr_values, the client's or the stack's
        policy), with a passkey or the app, or by setting an app up. A passkey alone does not
        turn two-step verification on: added on one device (or at the offer after a sign-in),
        it must not lock its user out of a password sign-in on another device, nor out of
        recovering the account by e-mail.

        `kind` FEDERATED_STEP: the same step after an upstream provider's verified answer
        (M7), before any session: what signs in then says `fed` where a password says `pwd`."""
        factors = self._factors.get(user.sub)
        has_app = self._otp.offered(user, factors)
        if not has_app and assurance.satisfies(constants.ACR_PASSWORD, pending.required_acr):
            return None
        offered = self._offered(user, factors)
        mark = step_marks.after_password(user, self._random, kind)
        marked = replace(cleared(pending), second_factor=mark.render())
        if offered:
            return self._code_page(request, marked, user, factors, mark, offered)
        return self._enrol_page(request, marked, mark.enrolling(totp.new_secret(self._random)))

    # --- GET /login/second-factor: a session stepped up ---------------------------------------

    def page(self, request: HttpRequest) -> HttpResponse:
        handle = parse_query(request).get("request_id")
        step = self._resume(request, handle)
        # Only a session's mark travels in a URL: a password step's is answered in its POST.
        if step is None or step.mark.kind != SESSION_STEP or step.mark.secret:
            return error_page(EXPIRED, title="Sign-in expired")
        factors = self._factors.get(step.user.sub)
        offered = self._offered(step.user, factors)
        if offered:
            return self._code_page(request, step.pending, step.user, factors, step.mark, offered)
        secret = totp.new_secret(self._random)
        return self._enrol_page(request, step.pending, step.mark.enrolling(secret))

    # --- POST /login/second-factor: a code, or the first code of a new authenticator ---------

    def submit(self, request: HttpRequest) -> HttpResponse:
        form = verified_form(self._flow.cookies, request)
        step = self._resume(request, form.get("request_id", ""))
        if step is None:
            return error_page(EXPIRED, title="Sign-in expired")
        if step.mark.secret:
            return self._confirm_enrolment(request, step, form)
        factors = self._factors.get(step.user.sub)
        method = next(
            (m for m in self.methods if m.method == form.get("method", self._otp.method)), None
        )
        if method is None or not method.offered(step.user, factors):
            return error_page(EXPIRED, title="Sign-in expired")
        context = StepContext(request, step.user, factors, step.mark, form.get("csrf_token", ""))
        verdict = self._checked(request, step.user, lambda: method.check(context, form))
        if not verdict.accepted:
            offered = self._offered(step.user, factors)
            if not offered:  # its last passkey refused from now on (suspended): nothing to give
                return error_page(verdict.message or BAD_CODE, title=TITLE)
            return self._code_page(
                request, step.pending, step.user, factors, step.mark, offered,
                verdict.message or BAD_CODE,
            )  # fmt: skip
        self._spend(step)
        audit.emit(
            audit.SECOND_FACTOR_SUCCESS, sub=step.user.sub, username=step.user.username,
            client_id=step.pending.client_id or None, method=verdict.method,
            remaining=verdict.remaining, step_up=step.mark.kind == SESSION_STEP,
        )  # fmt: skip
        count("SecondFactorSucceeded", method=verdict.method)
        return self._go_on(request, step, verdict.amr or method.amr)

    def _checked(self, request: HttpRequest, user: User, check: _Check) -> Verdict:
        """A check counted in the second-factor buckets before it runs (parallel guesses each
        count, G7's rules), given back when it passes."""
        keys = self._throttle.keys(SECOND_FACTOR, user.sub, request.source_ip)
        self._throttle.reserve(keys)
        verdict = check()
        if verdict.accepted:
            self._throttle.give_back(keys)
        else:
            count("SecondFactorFailed")
            audit.emit(
                audit.SECOND_FACTOR_FAILURE, sub=user.sub, username=user.username,
                reason=verdict.reason,
            )  # fmt: skip
        return verdict

    def _spend(self, step: Step) -> None:
        """The mark opens one second factor (M4): its nonce, recorded once."""
        key = token_hash(f"second-factor:{step.mark.nonce}")
        if not self._grants.use_once(key, step.pending.expires_at):
            raise RequestCompleted()

    def _go_on(self, request: HttpRequest, step: Step, amr: tuple[str, ...]) -> HttpResponse:
        """Signed in (a password step) or stepped up (a session): on with the request."""
        session, cookies = self._assured_session(request, step, amr)
        if step.client is None:
            return see_other(f"{ACCOUNT_PATH}?done=signed_in", cookies)
        pending = cleared(step.pending)
        if step.mark.kind in FIRST_STEPS:
            pending = resumed(pending, session)
        response = self._flow.next_step(request, step.client, pending, session, from_page=True)
        response.cookies.extend(cookies)
        return response

    def _assured_session(
        self, request: HttpRequest, step: Step, amr: tuple[str, ...]
    ) -> tuple[Session, list[str]]:
        """After a password (or federated) step, a fresh session (G2) that says both factors;
        after a step-up, the same session (its `auth_time` too: the first sign-in's) with its
        amr and acr raised (M6). A method's amr names a password first: after a provider's
        answer it says `fed` instead (M7)."""
        if step.mark.kind == FEDERATED_STEP:
            amr = assurance.after_first_factor(constants.AMR_FEDERATED, amr)
        if step.mark.kind in FIRST_STEPS:
            client_id = step.client.client_id if step.client else None
            signed_in = self._sign_in.start_session(
                request, step.user, client_id, amr=amr, acr=constants.ACR_MFA
            )
            return signed_in.session, [signed_in.cookie]
        assert step.session is not None  # a session mark resumes only with its session
        federated = constants.AMR_FEDERATED in step.session.amr
        if federated and constants.AMR_PASSWORD not in step.session.amr:  # a provider's alone
            amr = assurance.after_first_factor(constants.AMR_FEDERATED, amr)
        raised = replace(
            step.session,
            amr=assurance.with_second_factor(step.session.amr, amr),
            acr=constants.ACR_MFA,
        )
        self._grants.put_session(raised)
        return raised, []

    # --- setting up an authenticator app ----------------------------------------------------

    def _confirm_enrolment(
        self, request: HttpRequest, step: Step, form: dict[str, str]
    ) -> HttpResponse:
        secret = step.mark.secret
        if not totp.is_secret(secret):
            return error_page(EXPIRED, title="Sign-in expired")
        code = totp.normalized_code(form.get("code", "")[:64])
        now = self._clock.now()
        matched: list[int] = []

        def check() -> Verdict:
            found = totp.matching_step(secret, code, now, -1) if code else None
            matched.extend([] if found is None else [found])
            return Verdict(found is not None, "totp", None if found is not None else "bad_code")

        verdict = self._checked(request, step.user, check)
        if not verdict.accepted:
            return self._enrol_page(request, step.pending, step.mark, BAD_CODE)
        self._spend(step)
        codes = recovery_codes.new_codes(self._random)
        factors = SecondFactors(
            sub=step.user.sub,
            totp_secret=secret,
            # The code just given is used: it cannot sign in a second time (M1).
            totp_last_step=matched[0],
            enrolled_at=now,
            recovery_codes=frozenset(recovery_codes.code_hash(step.user.sub, c) for c in codes),
        )
        if not self._factors.enrol(factors):
            return error_page(
                "Two-step verification is already on for this account.", title=ENROL_TITLE
            )
        by = "account" if step.client is None else "sign-in"
        audit.emit(
            audit.MFA_ENROLLED, sub=step.user.sub, username=step.user.username, method="totp",
            by=by,
        )  # fmt: skip
        count("SecondFactorEnrolled", by=by)
        session, cookies = self._assured_session(request, step, self._otp.amr)
        csrf, csrf_cookies = csrf_of(self._flow.cookies, request, self._random)
        if step.client is None:
            next_step = factor_pages.account_return("mfa_on")
        else:
            pending = cleared(step.pending)
            if step.mark.kind in FIRST_STEPS:
                pending = resumed(pending, session)
            next_step = factor_pages.continue_form(request_id=self._sealer.seal(pending), csrf=csrf)
        body = factor_pages.recovery_codes_page(codes=codes, next_step=next_step)
        return self._page("Save your recovery codes", body, step.pending, cookies + csrf_cookies)

    # --- POST /login/continue: on with the request after the recovery codes --------------------

    def go_on(self, request: HttpRequest) -> HttpResponse:
        form = verified_form(self._flow.cookies, request)
        handle = form.get("request_id", "")
        pending = self._sealer.open(handle)
        client = self._client_of(pending) if pending is not None else None
        if pending is None or client is None or pending.second_factor or pending.password_change:
            return error_page(EXPIRED, title="Sign-in expired")
        session = self._flow.live_session(request)
        if session is None:
            return see_other(with_query("/login", {"request_id": handle}))
        return self._flow.next_step(request, client, pending, session, from_page=True)

    # --- the account page's part ------------------------------------------------------------

    def status(self, user: User, session: Session) -> FactorStatus:
        factors = self._factors.get(user.sub)
        if factors is None or not factors.enrolled:
            # Without an app, a passkey is the second step where an app asks for one.
            others = any(m.offered(user, factors) for m in self.methods if m is not self._otp)
            return FactorStatus(enrolled=False, passkeys=others)
        return FactorStatus(
            enrolled=True,
            since=short_date(factors.enrolled_at),
            codes_left=len(factors.recovery_codes),
            password_accepted=constants.AMR_MFA in session.amr,
        )

    def start_enrolment(
        self, request: HttpRequest, user: User, session: Session, pending: PendingAuthorization
    ) -> HttpResponse:
        """The account page's "Set up an authenticator app": the enrolment page, for this
        session (the account page's request in `pending`)."""
        mark = step_marks.stepping_up(session, self._random)
        secret = totp.new_secret(self._random)
        return self._enrol_page(
            request,
            replace(pending, second_factor=mark.render()),
            mark.enrolling(secret),
            required=False,
        )

    def proven(
        self, request: HttpRequest, user: User, session: Session, form: dict[str, str]
    ) -> SecondFactors | str:
        """The user's factors, once the form proves the user may change them: a current code
        or a recovery code (spent), or, from a session that itself gave a second factor, the
        password (checked as a sign-in is). Otherwise what is wrong, in words."""
        factors = self._factors.get(user.sub)
        if factors is None or not factors.enrolled:
            return "Two-step verification is off."
        if form.get("code", "").strip():
            verdict = self._checked(request, user, lambda: self._otp.check_code(factors, form))
            return factors if verdict.accepted else BAD_CODE
        password = form.get("password", "")
        if password and constants.AMR_MFA in session.amr:
            checked = self._sign_in.check(request, user.username, password, None)
            return factors if checked is not None else "Your password is not right."
        return "Enter a code from your authenticator app, or a recovery code."

    def remove(self, user: User) -> None:
        self._factors.delete(user.sub)
        audit.emit(audit.MFA_REMOVED, sub=user.sub, username=user.username, by="account")
        count("SecondFactorRemoved", by="account")

    def new_recovery_codes(self, request: HttpRequest, user: User) -> HttpResponse:
        codes = recovery_codes.new_codes(self._random)
        hashes = frozenset(recovery_codes.code_hash(user.sub, c) for c in codes)
        if not self._factors.replace_recovery_codes(user.sub, hashes):
            return see_other(ACCOUNT_PATH)
        audit.emit(audit.RECOVERY_CODES_REPLACED, sub=user.sub, username=user.username)
        body = factor_pages.recovery_codes_page(
            codes=codes, next_step=factor_pages.account_return("codes")
        )
        return page("Save your recovery codes", body)

    # --- helpers ----------------------------------------------------------------------------

    def _client_of(self, pending: PendingAuthorization) -> Client | None:
        """The request's client, if it is still good for it (as the sign-in page checks)."""
        return client_still_for(self._clients, pending)

    def _resume(self, request: HttpRequest, handle: str | None) -> Step | None:
        """The step a handle opens: its request still good, its mark one this server made for
        a user who is still who it names (M4)."""
        pending = self._sealer.open(handle)
        mark = StepMark.parse(pending.second_factor) if pending is not None else None
        if pending is None or mark is None:
            return None
        client = None
        if pending.client_id:
            client = self._client_of(pending)
            if client is None:
                return None
        elif pending.redirect_uri != ACCOUNT_PATH:
            return None
        user = self._users.get(mark.username)
        if user is None or user.sub != mark.sub or user.disabled:
            return None
        session = None
        if mark.kind in FIRST_STEPS:
            # A new password (or a temporary one set) since the first step spends the mark.
            fresh = step_marks.password_fingerprint(user) == mark.proof
            temporary = mark.kind == PASSWORD_STEP and user.password_change_required
            if not fresh or temporary:
                return None
        else:
            session = self._flow.live_session(request)
            if session is None or session.session_hash != mark.proof or session.sub != user.sub:
                return None
        return Step(pending, mark, client, user, session)

    def _page(
        self,
        title: str,
        body: str,
        pending: PendingAuthorization,
        cookies: list[str],
        script: Script | None = None,
    ) -> HttpResponse:
        redirect_uri = pending.redirect_uri if pending.client_id else None
        return request_page(title, body, redirect_uri, cookies=cookies, script=script)

    def _offered(self, user: User, factors: SecondFactors | None) -> list[SecondFactor]:
        """The methods this user has, in the page's order."""
        return [m for m in self.methods if m.offered(user, factors)]

    def _code_page(
        self,
        request: HttpRequest,
        pending: PendingAuthorization,
        user: User,
        factors: SecondFactors | None,
        mark: StepMark,
        offered: list[SecondFactor],
        error: str | None = None,
    ) -> HttpResponse:
        csrf, cookies = csrf_of(self._flow.cookies, request, self._random)
        context = StepContext(request, user, factors, mark, csrf)
        body = factor_pages.second_factor_form(
            request_id=self._sealer.seal(pending), csrf=csrf, username=user.username,
            methods=[(m.method, m.fields(context, error is not None)) for m in offered],
            error=error,
        )  # fmt: skip
        script = next(filter(None, (m.script(request) for m in offered)), None)
        return self._page(TITLE, body, pending, cookies, script)

    def _enrol_page(
        self,
        request: HttpRequest,
        pending: PendingAuthorization,
        mark: StepMark,
        error: str | None = None,
        *,
        required: bool = True,
    ) -> HttpResponse:
        """The QR code of the mark's new secret; the request sealed with it, so the code the
        user types is checked against the secret they were shown, and nothing is stored
        before it is."""
        csrf, cookies = csrf_of(self._flow.cookies, request, self._random)
        # The host alone: a port's colon would split the app's "issuer:account" label.
        issuer_name = urlsplit(self._flow.issuer(request)).hostname or "oauth-serverless"
        uri = totp.provisioning_uri(mark.secret, mark.username, issuer_name)
        body = factor_pages.enrol_form(
            request_id=self._sealer.seal(replace(pending, second_factor=mark.render())),
            csrf=csrf,
            username=mark.username,
            qr_svg=totp.qr_svg(uri, "QR code to scan with your authenticator app"),
            secret=mark.secret,
            required=required and pending.client_id != "",
            error=error,
        )
        return self._page(ENROL_TITLE, body, pending, cookies)


class _Check(Protocol):
    def __call__(self) -> Verdict: ...
