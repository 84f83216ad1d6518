"""The second-factor step's mark, carried in a sealed request (oauth_core.tokens.sealed_requests)
between the step that earned it and the one it opens (oauth_core.endpoints.second_factor).

A mark says who may give a second factor, and on what grounds: `pwd`, their password was right
a moment ago in this very request (the proof: a fingerprint of the password hash it matched, so
a new password spends it); `fed`, an upstream provider's verified answer named them a moment
ago in this very request (the same proof: a password reset since spends it too); or
`session`, the browser's session (the proof: its hash) signed in with less than the request
needs, so it may be stepped up. Its nonce is spent once, when the
step succeeds (GrantStore.use_once), so a mark opens one second factor only. While the user
enrols an authenticator, the mark carries the new secret too, which is stored only once a code
of it proves the app has it.

The browser can neither read nor change a mark: the request it rides in is sealed. It is never
put in a URL after a first step (the page is the answer to the password's POST, or to the
provider's answer), so a handle left in a
browser's history never stands for a password typed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from oauth_core.clock import Random
from oauth_core.models import Session, User

PASSWORD_STEP = "pwd"
FEDERATED_STEP = "fed"
SESSION_STEP = "session"
_KINDS = (PASSWORD_STEP, FEDERATED_STEP, SESSION_STEP)
# The kinds that come before any session: the step makes the session once it succeeds.
FIRST_STEPS = (PASSWORD_STEP, FEDERATED_STEP)
NONCE_BYTES = 16


@dataclass(frozen=True)
class StepMark:
    kind: str
    sub: str
    username: str
    proof: str
    nonce: str
    secret: str = ""  # while enrolling: the TOTP secret being set up

    def render(self) -> str:
        parts = [self.kind, self.sub, self.username, self.proof, self.nonce]
        return " ".join([*parts, self.secret] if self.secret else parts)

    @classmethod
    def parse(cls, text: str | None) -> StepMark | None:
        parts = (text or "").split(" ")
        if len(parts) not in (5, 6) or parts[0] not in _KINDS or not all(parts):
            return None
        return cls(*parts)

    def enrolling(self, secret: str) -> StepMark:
        return replace(self, secret=secret)


def password_fingerprint(user: User) -> str:
    """Which password a password step matched: a new password (or a reset) spends the mark."""
    return hashlib.sha256(f"step:{user.password_hash}".encode()).hexdigest()[:16]


def after_password(user: User, random: Random, kind: str = PASSWORD_STEP) -> StepMark:
    """The mark of a first step: a right password, or (`FEDERATED_STEP`) a provider's answer."""
    return StepMark(
        kind,
        user.sub,
        user.username,
        password_fingerprint(user),
        random.token(NONCE_BYTES),
    )


def stepping_up(session: Session, random: Random) -> StepMark:
    return StepMark(
        SESSION_STEP, session.sub, session.username, session.session_hash,
        random.token(NONCE_BYTES),
    )  # fmt: skip
