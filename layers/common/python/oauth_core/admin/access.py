"""Who is signed in, with which apps: a user's sessions, grants and consents, and ending them.

Every change takes effect at once: a revoked grant's refresh token is refused at its next use
(the refresh transaction requires the grant to be live), an ended session no longer answers
/authorize, and a withdrawn consent is asked for again. Used by oauthctl and the account page.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from oauth_core.clock import Clock
from oauth_core.models import Consent, Session, SubjectState, TokenFamily, User
from oauth_core.ports import GrantStore

# How a session is named to operators: the start of its hash (the cookie itself is a secret
# no one is shown, and the hash is all the server keeps).
SESSION_ID_LENGTH = 16


def session_id(session: Session) -> str:
    return session.session_hash[:SESSION_ID_LENGTH]


@dataclass(frozen=True)
class GrantView:
    grant_id: str
    client_id: str
    scope: str
    created_at: int
    last_used_at: int | None
    expires_at: int
    state: str  # live, revoked or expired


class UserAccess:
    def __init__(self, grants: GrantStore, clock: Clock):
        self._grants = grants
        self._clock = clock

    def sessions(self, user: User) -> list[Session]:
        now = self._clock.now()
        live = [s for s in self._grants.sessions_of(user.sub) if s.expires_at > now]
        return sorted(live, key=lambda s: s.auth_time, reverse=True)

    def grants(self, user: User, *, live_only: bool = False) -> list[GrantView]:
        views = [self.view(f) for f in self._grants.families_of(user.sub)]
        if live_only:
            views = [v for v in views if v.state == "live"]
        return sorted(views, key=lambda v: (v.client_id, -v.created_at))

    def client_grants(self, client_id: str) -> list[tuple[str, GrantView]]:
        """(sub, grant) for every grant a client holds."""
        families = self._grants.families_of_client(client_id)
        return sorted(((f.sub, self.view(f)) for f in families), key=lambda p: -p[1].created_at)

    def consents(self, user: User) -> list[Consent]:
        now = self._clock.now()
        live = [c for c in self._grants.consents_of(user.sub) if c.expires_at > now]
        return sorted(live, key=lambda c: c.client_id)

    def view(self, family: TokenFamily) -> GrantView:
        now = self._clock.now()
        state = (
            "revoked"
            if family.revoked
            else "expired"
            if family.absolute_expires_at <= now
            else "live"
        )
        return GrantView(
            grant_id=family.family_id,
            client_id=family.client_id,
            scope=family.scope,
            created_at=family.created_at,
            last_used_at=family.last_used_at or None,
            expires_at=family.absolute_expires_at,
            state=state,
        )

    def end_sessions(self, user: User, only: str | None = None) -> list[Session]:
        """End the user's sessions (or the one whose id starts `only`); those found (their apps
        are told: oauth_core.admin.backchannel_logout). Ending them all also records the moment
        in the user's state, which every page checks: a session the owner index does not list
        yet ends too."""
        if only is None:
            state = self._grants.get_subject_state(user.sub) or SubjectState(user.sub)
            now_ms = self._clock.now_ms()
            self._grants.put_subject_state(replace(state, sessions_not_before_ms=now_ms))
        ended = []
        for session in self._grants.sessions_of(user.sub):
            if only is None or session.session_hash.startswith(only):
                self._grants.delete_session(session.session_hash)
                ended.append(session)
        return ended

    def revoke_grants(
        self, user: User, *, client_id: str | None = None, grant_id: str | None = None
    ) -> int:
        """Revoke the user's live grants: all, one client's, or one grant; how many."""
        revoked = 0
        for family in self._grants.families_of(user.sub):
            if family.revoked:
                continue
            if client_id is not None and family.client_id != client_id:
                continue
            if grant_id is not None and family.family_id != grant_id:
                continue
            self._grants.revoke_family(family.family_id)
            revoked += 1
        return revoked

    def withdraw_consent(self, user: User, client_id: str) -> bool:
        return self._grants.delete_consent(user.sub, client_id)

    def remove_app(self, user: User, client_id: str) -> tuple[int, bool]:
        """What "remove access" on the account page does: the client's grants revoked and its
        consent withdrawn, so the app must ask again. How many grants, and whether a consent
        was withdrawn."""
        revoked = self.revoke_grants(user, client_id=client_id)
        return revoked, self.withdraw_consent(user, client_id)
