"""A passkey as the second factor (SECURITY K6): after a right password, or to step up a session
signed in with a password alone, the user confirms with one of their passkeys, on the
second-factor step's page (oauth_core.endpoints.second_factor) beside or instead of an
authenticator app's code.

The page's challenge is bound to this browser's CSRF token and to the step's mark (its user and
nonce), so it answers only the step it was shown for, and is spent once as every passkey
challenge is; the options list only this user's passkeys (allowCredentials), and an answer by
any other user's passkey is refused (the verifier's `user=`), counted in the second-factor
buckets as a wrong code is. User verification is preferred, not required: the password was the
factor the user knows, the passkey is the one they have. The session then says `amr`
`["pwd", "hwk" | "swk", "mfa"]` and the MFA `acr`. A suspended passkey (its counter went
backwards) is neither offered nor counted: a user whose passkeys are all suspended, and who has
no authenticator app, signs in with their password as before, and removes them.
"""

from __future__ import annotations

import json

from oauth_core import audit, constants
from oauth_core.config import Settings
from oauth_core.endpoints.flow import AuthorizationFlow
from oauth_core.endpoints.second_factor import StepContext, Verdict
from oauth_core.http import factor_pages
from oauth_core.http.pages import Script, passkey_script_ref
from oauth_core.http.request import HttpRequest
from oauth_core.models import Passkey, SecondFactors, User
from oauth_core.ports import PasskeyStore
from oauth_core.rules.passkey_challenges import SECOND_FACTOR
from oauth_core.rules.passkeys import PasskeyRefused, PasskeyVerifier, RelyingParty

METHOD = "passkey"
REFUSED = "That passkey could not confirm it is you. Try again with a passkey of this account."
SUSPENDED = (
    "That passkey can no longer be used: its use counter went backwards, which can mean it was "
    "copied. Use another way to confirm it is you, then remove it from your account."
)


class PasskeyFactor:
    method: str = METHOD
    # What a bound passkey says; the verdict says which kind answered (hwk or swk).
    amr: tuple[str, ...] = (
        constants.AMR_PASSWORD,
        constants.AMR_HARDWARE_KEY,
        constants.AMR_MULTI_FACTOR,
    )

    def __init__(
        self,
        flow: AuthorizationFlow,
        verifier: PasskeyVerifier,
        passkeys: PasskeyStore,
        settings: Settings,
    ):
        self._flow = flow
        self._verifier = verifier
        self._passkeys = passkeys
        self._settings = settings

    def _relying_party(self, request: HttpRequest) -> RelyingParty:
        return RelyingParty(*self._settings.passkey_relying_party(self._flow.issuer(request)))

    def _usable(self, user: User) -> list[Passkey]:
        """The user's passkeys that may answer (by the owner index: one added a moment ago may
        be missing for a moment)."""
        return [p for p in self._passkeys.of_user(user.sub) if not p.suspended_at]

    def offered(self, user: User, factors: SecondFactors | None) -> bool:
        return bool(self._usable(user))

    def fields(self, context: StepContext, error: bool) -> str:
        options = self._verifier.request_options(
            self._relying_party(context.request),
            SECOND_FACTOR,
            _binding(context),
            allow=self._usable(context.user),
            user_verification="preferred",
        )
        return factor_pages.passkey_fields(json.dumps(options, separators=(",", ":")))

    def script(self, request: HttpRequest) -> Script | None:
        return passkey_script_ref(self._relying_party(request).origin)

    def check(self, context: StepContext, form: dict[str, str]) -> Verdict:
        user = context.user
        try:
            verified = self._verifier.verify(
                self._relying_party(context.request),
                form.get("credential", ""),
                SECOND_FACTOR,
                _binding(context),
                user=user,
                require_user_verification=False,
            )
        except PasskeyRefused as refused:
            if refused.reason == "counter_regression":
                audit.emit(audit.PASSKEY_SUSPENDED, sub=user.sub, username=user.username)
            suspended = refused.reason in ("counter_regression", "suspended")
            return Verdict(
                False, METHOD, refused.reason, message=SUSPENDED if suspended else REFUSED
            )
        amr = (constants.AMR_PASSWORD, verified.key_kind, constants.AMR_MULTI_FACTOR)
        return Verdict(True, METHOD, amr=amr)


def _binding(context: StepContext) -> str:
    """What the challenge answers: this browser, and the step's mark (whose, which one)."""
    return f"{context.csrf} {context.mark.sub} {context.mark.nonce}"
