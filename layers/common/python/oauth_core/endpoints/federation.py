"""Signing in with another OpenID Connect provider (federation, docs/federation.md; SECURITY
U1-U5): the sign-in page's button, the provider's answer at /login/federated/callback, and
linking an identity from the account page.

1. `GET /login/federated?request_id=&provider=` (a link on the sign-in page, no JavaScript):
   the browser goes to the provider with PKCE (S256), a fresh `state` and `nonce`; what they
   are, and the authorization request waiting, are sealed in a cookie of this browser
   (oauth_core.tokens.federation_state). `POST /account/federated` (the account page's form,
   CSRF-checked) does the same for a signed-in user linking an identity.
2. `GET /login/federated/callback`: the answer is taken only with that cookie and its `state`
   (U1), from the provider's issuer (RFC 9207 `iss`, U2); the code is exchanged with the
   verifier and the ID token checked (signature, `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`:
   U3); the state is then spent, once (a single-use record), and the identity (its `iss` and
   `sub`, never its e-mail) finds its account, is given one just in time, or is refused (U4).
3. The answer is a first factor, as a right password is: the second-factor step follows it
   exactly as after a password (SECURITY M7), before any session exists, for a user with an
   authenticator app and wherever the request needs more than one factor. The session says
   `amr` ["fed"] (["fed", "otp", "mfa"] after a code): the provider's own `amr` is not passed
   on (this server cannot vouch for how another one checked its user); the request then goes
   on as after a password (consent, then a code).

Linking an identity from the account page needs a sign-in of the last ten minutes or the
password typed again (SECURITY U6): a link outlives a password reset, so a stolen session
cookie alone must not be able to make one.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace

from oauth_core import audit, constants
from oauth_core.admin.providers import (
    LINKED_ELSEWHERE,
    NOT_LINKED,
    NOT_YOURS,
    USER_DISABLED,
    IdentityLinks,
    LinkRefused,
)
from oauth_core.catalog import ProviderDefinition
from oauth_core.clock import Clock, Random
from oauth_core.config import Settings
from oauth_core.constants import OPAQUE_TOKEN_BYTES
from oauth_core.endpoints.flow import AuthorizationFlow, resumed
from oauth_core.endpoints.login import LoginPages
from oauth_core.endpoints.second_factor import SecondFactorStep
from oauth_core.endpoints.signin import PasswordSignIn, signed_in_user, verified_form
from oauth_core.errors import InvalidRequest
from oauth_core.http.answers import EXPIRED
from oauth_core.http.federation_pages import (
    ProviderRow,
    continue_to_provider,
    federation_problem,
    providers_section,
)
from oauth_core.http.forms import parse_query
from oauth_core.http.pages import error_page, origin_of, see_other, short_date, with_query
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.models import Client, PendingAuthorization, Session, User
from oauth_core.observability import count
from oauth_core.ports import GrantStore, ProviderSecretStore, UserStore
from oauth_core.rules.pkce import challenge_of
from oauth_core.rules.upstream_claims import email_domain_allowed
from oauth_core.tokens.federation_state import (
    LINK,
    SIGN_IN,
    AttemptSealer,
    FederatedAttempt,
)
from oauth_core.tokens.step_marks import FEDERATED_STEP
from oauth_core.tokens.upstream import (
    MAX_CODE_LENGTH,
    ProviderMetadata,
    UpstreamProviders,
    UpstreamRefused,
    authorization_url,
    check_response_issuer,
    verify_id_token,
)

FEDERATION_COOKIE = "federation"
ACCOUNT_PATH = "/account"
# What the user reads when an answer cannot be trusted: it names no check (a guesser learns
# nothing), the log line with the same reference does.
NOT_VERIFIED = (
    "The sign-in with {provider} could not be verified, so it was not used. "
    "Go back to the application and try again."
)
# The single-use records of the states answered (tables.SINGLE_USE_PREFIX is added to it).
STATE_RECORD_PREFIX = "federation#"


def _state_record(state: str) -> str:
    return STATE_RECORD_PREFIX + hashlib.sha256(state.encode()).hexdigest()


class FederatedSignIn:
    def __init__(
        self,
        flow: AuthorizationFlow,
        login: LoginPages,
        sign_in: PasswordSignIn,
        upstream: UpstreamProviders,
        links: IdentityLinks,
        secrets: ProviderSecretStore,
        attempts: AttemptSealer,
        grants: GrantStore,
        users: UserStore,
        settings: Settings,
        clock: Clock,
        random: Random,
        second_factor: SecondFactorStep | None = None,
    ):
        self._flow = flow
        self._second_factor = second_factor
        self._login = login
        self._sign_in = sign_in
        self._upstream = upstream
        self._links = links
        self._secrets = secrets
        self._attempts = attempts
        self._grants = grants
        self._users = users
        self._settings = settings
        self._clock = clock
        self._random = random

    # --- helpers -------------------------------------------------------------------------------

    def _provider(self, name: str | None) -> ProviderDefinition | None:
        return self._flow.catalog().providers.get(name or "")

    def _callback_uri(self, request: HttpRequest) -> str:
        return self._flow.issuer(request) + constants.FEDERATED_CALLBACK_PATH

    def _begin(
        self,
        request: HttpRequest,
        provider: ProviderDefinition,
        metadata: ProviderMetadata,
        attempt: FederatedAttempt,
        *,
        prompt_login: bool,
        max_age: int | None,
    ) -> tuple[str, str] | None:
        """The provider's URL for this attempt, and the cookie that carries it; None if the
        attempt is too large for a cookie."""
        sealed = self._attempts.seal(attempt)
        if sealed is None:
            return None
        url = authorization_url(
            metadata,
            provider,
            self._callback_uri(request),
            state=attempt.state,
            nonce=attempt.nonce,
            code_challenge=challenge_of(attempt.verifier),
            prompt_login=prompt_login,
            max_age=max_age,
        )
        lifetime = self._settings.pending_request_ttl
        cookie = self._flow.cookies.set(FEDERATION_COOKIE, sealed, lifetime)
        return url, cookie

    def _attempt(
        self, purpose: str, provider: ProviderDefinition, **bound: str
    ) -> FederatedAttempt:
        return FederatedAttempt(
            purpose=purpose,
            provider=provider.name,
            state=self._random.token(OPAQUE_TOKEN_BYTES),
            nonce=self._random.token(OPAQUE_TOKEN_BYTES),
            verifier=self._random.token(OPAQUE_TOKEN_BYTES),  # 43 characters (RFC 7636 4.1)
            expires_at=self._clock.now() + self._settings.pending_request_ttl,
            **bound,
        )

    def _refused(
        self,
        request: HttpRequest,
        provider: ProviderDefinition | None,
        reason: str,
        *,
        back: tuple[str, str] | None,
        detail: str = "",
        title: str = "Sign-in not completed",
        message: str | None = None,
        status: int = 400,
        cookies: tuple[str, ...] = (),
    ) -> HttpResponse:
        name = provider.display_name if provider else "the other provider"
        count("FederationRefused", reason=reason)
        audit.emit(
            audit.FEDERATION_REFUSED, provider=provider.name if provider else None, reason=reason
        )
        return federation_problem(
            request,
            title,
            message or NOT_VERIFIED.format(provider=name),
            back=back,
            status=status,
            cookies=(self._flow.cookies.clear(FEDERATION_COOKIE), *cookies),
            detail=f"{reason}: {detail}" if detail else reason,
        )

    # --- GET /login/federated: the sign-in page's button ----------------------------------------

    def start(self, request: HttpRequest) -> HttpResponse:
        params = parse_query(request)
        handle = params.get("request_id")
        found = self._login.resume(handle)
        if found is None or handle is None:
            return error_page(EXPIRED, title="Sign-in expired")
        pending, _client = found
        back = (with_query("/login", {"request_id": handle}), "Back to the sign-in page")
        provider = self._provider(params.get("provider"))
        if provider is None:
            return federation_problem(
                request,
                "Sign-in option not available",
                "This way of signing in is not offered any more. Sign in another way.",
                back=back,
            )
        try:
            metadata = self._upstream.metadata(provider)
        except UpstreamRefused as exc:
            return self._unreachable(request, provider, exc, back)
        fresh = "login" in pending.prompt or pending.max_age == 0
        begun = self._begin(
            request,
            provider,
            metadata,
            self._attempt(SIGN_IN, provider, request_handle=handle),
            prompt_login=fresh,
            max_age=pending.max_age if pending.max_age else None,
        )
        if begun is None:
            return federation_problem(
                request,
                "Sign-in option not available",
                f"This application's sign-in request is too long to continue with "
                f"{provider.display_name}. Sign in with your password instead.",
                back=back,
            )
        url, cookie = begun
        return see_other(url, [cookie])

    def _unreachable(
        self,
        request: HttpRequest,
        provider: ProviderDefinition,
        exc: UpstreamRefused,
        back: tuple[str, str] | None,
    ) -> HttpResponse:
        return self._refused(
            request,
            provider,
            exc.reason,
            back=back,
            detail=exc.detail,
            title="Sign-in not available",
            message=f"{provider.display_name} cannot be reached right now. Try again in a "
            "moment, or sign in another way.",
            status=503,
        )

    # --- GET /login/federated/callback: the provider's answer ------------------------------------

    def callback(self, request: HttpRequest) -> HttpResponse:
        params = parse_query(request)
        attempt = self._attempts.open(self._flow.cookies.read(request, FEDERATION_COOKIE))
        if attempt is None:
            response = error_page(EXPIRED, title="Sign-in expired")
            response.cookies.append(self._flow.cookies.clear(FEDERATION_COOKIE))
            return response
        provider = self._provider(attempt.provider)
        back = self._back(attempt)
        # U1: the answer to this browser's own attempt, and no other.
        state = params.get("state", "")
        if not hmac.compare_digest(state.encode(), attempt.state.encode()):
            return self._refused(request, provider, "state_mismatch", back=back)
        if provider is None:
            return self._refused(request, None, "provider_unavailable", back=back)
        if "error" in params:
            return self._refused(
                request,
                provider,
                "upstream_error",
                back=back,
                detail=params["error"][:40],
                message=f"{provider.display_name} did not sign you in. You can try again, or "
                "sign in another way.",
            )
        found = None
        if attempt.purpose == SIGN_IN:
            found = self._login.resume(attempt.request_handle)
            if found is None:
                response = error_page(EXPIRED, title="Sign-in expired")
                response.cookies.append(self._flow.cookies.clear(FEDERATION_COOKIE))
                return response
        pending = found[0] if found else None
        try:
            metadata = self._upstream.metadata(provider)
            check_response_issuer(metadata, params.get("iss"))  # U2 (RFC 9207)
            claims = self._verified_claims(request, provider, metadata, attempt, pending, params)
        except UpstreamRefused as exc:
            if exc.reason in ("provider_unavailable", "bad_metadata"):
                return self._unreachable(request, provider, exc, back)
            return self._refused(request, provider, exc.reason, back=back, detail=exc.detail)
        # Spent once, now that it is known to be the provider's answer to this attempt.
        if not self._grants.use_once(_state_record(attempt.state), attempt.expires_at):
            return self._refused(request, provider, "replayed", back=back)
        if not email_domain_allowed(provider, claims):
            return self._refused(
                request,
                provider,
                "email_domain_not_allowed",
                back=back,
                title="Account not allowed",
                message=f"Only accounts of certain e-mail domains may sign in here with "
                f"{provider.display_name}, and yours is not one of them (or it is not "
                "verified).",
                status=403,
            )
        if attempt.purpose == LINK:
            return self._link(request, provider, metadata, attempt, claims)
        assert found is not None
        pending, client = found
        return self._sign_in_as(request, provider, metadata, pending, client, claims, back)

    def _back(self, attempt: FederatedAttempt) -> tuple[str, str]:
        if attempt.purpose == LINK:
            return ACCOUNT_PATH, "Back to your account"
        return (
            with_query("/login", {"request_id": attempt.request_handle}),
            "Back to the sign-in page",
        )

    def _verified_claims(
        self,
        request: HttpRequest,
        provider: ProviderDefinition,
        metadata: ProviderMetadata,
        attempt: FederatedAttempt,
        pending: PendingAuthorization | None,
        params: dict[str, str],
    ) -> dict[str, object]:
        code = params.get("code", "")
        if not code or len(code) > MAX_CODE_LENGTH:
            raise UpstreamRefused("upstream_error", "no code in the answer")
        secret = self._secrets.client_secret(provider.name)
        if secret is None:
            raise UpstreamRefused("no_client_secret", "the provider has no client secret here")

        def exchange(client_secret: str) -> str:
            return self._upstream.exchange_code(
                metadata,
                provider.client_id,
                client_secret,
                code,
                self._callback_uri(request),
                attempt.verifier,
            )

        try:
            id_token = exchange(secret)
        except UpstreamRefused as exc:
            # A secret replaced since this container read it: read it again, once.
            renewed = self._secrets.client_secret(provider.name, fresh=True)
            if exc.detail != "invalid_client" or renewed is None or renewed == secret:
                raise
            id_token = exchange(renewed)
        max_age = None
        if attempt.purpose == LINK:
            max_age = self._settings.pending_request_ttl  # linking asked for a fresh sign-in
        elif pending is not None and pending.max_age:
            max_age = pending.max_age
        return verify_id_token(
            id_token,
            metadata,
            lambda refresh: self._upstream.keys(metadata, refresh=refresh),
            client_id=provider.client_id,
            nonce=attempt.nonce,
            now=self._clock.now(),
            max_age=max_age,
        )

    def _sign_in_as(
        self,
        request: HttpRequest,
        provider: ProviderDefinition,
        metadata: ProviderMetadata,
        pending: PendingAuthorization,
        client: Client,
        claims: dict[str, object],
        back: tuple[str, str],
    ) -> HttpResponse:
        try:
            account = self._links.account_for(provider, metadata.issuer, str(claims["sub"]), claims)
        except LinkRefused as exc:
            return self._link_refused(request, provider, exc.reason, back)
        if account.created:
            audit.emit(
                audit.FEDERATION_LINKED,
                sub=account.user.sub,
                username=account.user.username,
                provider=provider.name,
                by="jit",
            )
        if self._second_factor is not None:
            # The provider's answer is a first factor: the second follows as after a password
            # (M7), and no session exists before it is given.
            second = self._second_factor.after_password(
                request, account.user, pending, FEDERATED_STEP
            )
            if second is not None:
                second.cookies.append(self._flow.cookies.clear(FEDERATION_COOKIE))
                return second
        signed_in = self._sign_in.start_session(
            request, account.user, client.client_id, amr=(constants.AMR_FEDERATED,)
        )
        session = signed_in.session
        response = self._flow.next_step(
            request,
            client,
            resumed(replace(pending, password_change=None), session),
            session,
            from_page=True,
        )
        response.cookies.extend([signed_in.cookie, self._flow.cookies.clear(FEDERATION_COOKIE)])
        return response

    def _link_refused(
        self,
        request: HttpRequest,
        provider: ProviderDefinition,
        reason: str,
        back: tuple[str, str],
    ) -> HttpResponse:
        name = provider.display_name
        words = {
            NOT_LINKED: (
                "No account for this sign-in",
                f"Your {name} account is not linked to an account here. Ask an administrator "
                f"to link it, or sign in with your password and link {name} on your account "
                "page.",
                403,
            ),
            LINKED_ELSEWHERE: (
                "Already linked",
                f"This {name} account is already linked to another account here. Unlink it "
                "there first.",
                409,
            ),
            USER_DISABLED: ("Account disabled", "This account cannot sign in.", 403),
        }
        title, message, status = words.get(
            reason, ("Sign-in not completed", NOT_VERIFIED.format(provider=name), 400)
        )
        return self._refused(
            request, provider, reason, back=back, title=title, message=message, status=status
        )

    # --- linking, from the account page ---------------------------------------------------------

    def _recently_signed_in(self, session: Session | None) -> bool:
        """Signed in within the last ten minutes: re-authentication enough to link (U6)."""
        return session is not None and session.signed_in_within(self._clock.now_ms())

    def _link(
        self,
        request: HttpRequest,
        provider: ProviderDefinition,
        metadata: ProviderMetadata,
        attempt: FederatedAttempt,
        claims: dict[str, object],
    ) -> HttpResponse:
        back = self._back(attempt)
        found = signed_in_user(self._flow, self._users, request)
        user = found[0] if found is not None else None
        if user is None or user.sub != attempt.account_sub:
            return self._refused(
                request,
                provider,
                "session_changed",
                back=back,
                message="You are no longer signed in as the account that asked for the link. "
                "Sign in and try again.",
            )
        try:
            self._links.link(provider, metadata.issuer, str(claims["sub"]), user)
        except LinkRefused as exc:
            return self._link_refused(request, provider, exc.reason, back)
        audit.emit(
            audit.FEDERATION_LINKED,
            sub=user.sub,
            username=user.username,
            provider=provider.name,
            by="account",
        )
        cleared = self._flow.cookies.clear(FEDERATION_COOKIE)
        return see_other(f"{ACCOUNT_PATH}?done=linked", [cleared])

    def account_action(self, request: HttpRequest) -> HttpResponse:
        """POST /account/federated: link a provider (off to sign in there), or unlink one."""
        form = verified_form(self._flow.cookies, request)
        found = signed_in_user(self._flow, self._users, request)
        if found is None:
            return see_other(ACCOUNT_PATH)  # signed out meanwhile: the sign-in form
        user, session = found
        provider = self._provider(form.get("provider"))
        action = form.get("action", "")
        if action == "unlink":
            return self._unlink(request, user, form.get("provider", ""), form.get("subject", ""))
        if action != "link":
            raise InvalidRequest("unknown action")
        if provider is None:
            return see_other(ACCOUNT_PATH)
        # U6: a link outlives a password reset, so a session alone is not enough to make one.
        if not self._recently_signed_in(session):
            typed = form.get("current_password", "")
            if self._sign_in.check(request, user.username, typed, None) is None:
                return see_other(f"{ACCOUNT_PATH}?done=link_password#providers")
        back = (ACCOUNT_PATH, "Back to your account")
        try:
            metadata = self._upstream.metadata(provider)
        except UpstreamRefused as exc:
            return self._unreachable(request, provider, exc, back)
        # A fresh sign-in at the provider: the identity linked is the one the user proves now,
        # not whichever session the browser holds there. max_age makes the provider state its
        # auth_time (OIDC Core 3.1.2.1), which the answer is checked against.
        begun = self._begin(
            request,
            provider,
            metadata,
            self._attempt(LINK, provider, account_sub=user.sub),
            prompt_login=True,
            max_age=self._settings.pending_request_ttl,
        )
        assert begun is not None  # a link's attempt carries no request: it always fits
        url, cookie = begun
        if origin_of(metadata.authorization_endpoint) != origin_of(provider.issuer):
            return continue_to_provider(provider.display_name, url, [cookie])
        return see_other(url, [cookie])

    def _unlink(self, request: HttpRequest, user: User, name: str, subject: str) -> HttpResponse:
        link = next(
            (
                link
                for link in self._links.links_of(user)
                if link.provider == name and link.subject == subject
            ),
            None,
        )
        if link is not None:
            try:
                removed = self._links.unlink(user, link.issuer, link.subject)
            except LinkRefused:
                return see_other(f"{ACCOUNT_PATH}?done={NOT_YOURS}")
            if removed:
                audit.emit(
                    audit.FEDERATION_UNLINKED,
                    sub=user.sub,
                    username=user.username,
                    provider=name,
                    by="account",
                )
        return see_other(f"{ACCOUNT_PATH}?done=unlinked")

    def account_section(
        self, session: Session, csrf: str, user: User
    ) -> tuple[str, tuple[str, ...]]:
        """The account page's section of providers (HTML), and the origins its forms may end
        up at (the providers' issuers: form-action, which Chrome applies to the redirect). Its
        "Link" forms ask for the password when the sign-in is not recent (U6)."""
        providers = sorted(
            self._flow.catalog().providers.values(), key=lambda p: p.display_name.lower()
        )
        if not providers:
            return "", ()
        links = {link.provider: link for link in self._links.links_of(user)}
        rows = []
        for provider in providers:
            link = links.get(provider.name)
            if link is not None and link.issuer != provider.issuer:
                link = None  # a link made when the provider had another issuer
            rows.append(
                ProviderRow(
                    provider.name,
                    provider.display_name,
                    short_date(link.created_at) if link else None,
                    link.subject if link else "",
                    not link.created_account if link else True,
                )
            )
        targets = tuple(sorted({origin_of(p.issuer) for p in providers}))
        needs_password = not self._recently_signed_in(session)
        return providers_section(csrf, rows, needs_password=needs_password), targets
