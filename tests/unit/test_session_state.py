"""A session is honoured on every page only while its user's state allows it (SECURITY D8):
the owner index that finds a user's sessions to delete them is eventually consistent, so a
session it missed must still end when the user is disabled, changes password, or signs out
everywhere (the red team restored a session item after each and kept signing in)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from oauth_core.admin.access import UserAccess
from oauth_core.clock import FixedClock
from oauth_core.http.request import HttpRequest
from oauth_core.models import Session, User
from oauth_core.rules.hashing import token_hash
from oauth_core.wiring import Components
from tests.support import form_request

SESSION_ID = "s" * 43


def signed_in(services: Components, clock: FixedClock) -> tuple[User, Session]:
    user = services.user_directory.create("state-user", "state user password", {})
    session = Session(
        session_hash=token_hash(SESSION_ID),
        sub=user.sub,
        username=user.username,
        auth_time=clock.now(),
        expires_at=clock.now() + 3600,
        signed_in_ms=clock.now_ms(),
    )
    services.grants.put_session(session)
    return user, session


def browser(services: Components) -> HttpRequest:
    return form_request(
        {},
        path="/authorize",
        method="GET",
        headers={"cookie": f"{services.flow.cookies.name('session')}={SESSION_ID}"},
    )


ENDINGS: dict[str, Callable[[Components, User], object]] = {
    "disabled": lambda s, u: s.user_directory.set_disabled(u.username, True),
    "new password": lambda s, u: s.user_directory.set_password(u.username, "another password"),
    "signed out everywhere": lambda s, u: UserAccess(s.grants, s.clock).end_sessions(u),
}


@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_d8_a_session_the_index_missed_still_ends(
    services: Components, clock: FixedClock, ending: str
) -> None:
    user, session = signed_in(services, clock)
    flow = services.flow
    assert flow.live_session(browser(services)) == session
    clock.advance_ms(5)
    ENDINGS[ending](services, user)
    services.grants.put_session(session)  # as if the owner index had not listed it yet
    assert flow.live_session(browser(services)) is None


def test_signing_out_everywhere_leaves_grants_alone(
    services: Components, clock: FixedClock
) -> None:
    user, _ = signed_in(services, clock)
    UserAccess(services.grants, services.clock).end_sessions(user)
    state = services.grants.get_subject_state(user.sub)
    assert state is not None and state.allows(clock.now_ms() - 1)  # grants: not_before untouched
    assert not state.allows_session(clock.now_ms() - 1)
