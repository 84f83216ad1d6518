"""The grants' own rules on the in-memory store: replay, retries that find their own write."""

from __future__ import annotations

from typing import Any

import pytest

from oauth_core.admin.registry import ClientRegistry
from oauth_core.clock import FixedClock
from oauth_core.errors import ConditionFailed, InvalidGrant
from oauth_core.grants import GrantContext
from oauth_core.models import Client, RefreshToken, TokenFamily
from oauth_core.rules.hashing import token_hash
from oauth_core.storage.memory import MemoryGrantStore
from oauth_core.wiring import Components
from tests.support import (
    code_as_authorize_issues_it,
    form_request,
    grant,
    pkce_pair,
    redeem_code,
)

REDIRECT = "https://app.example.com/cb"


class LostResponseStore(MemoryGrantStore):
    """Commits the write, then fails as if the response were lost on the way back."""

    def __init__(self) -> None:
        super().__init__()
        self.lose_next = False

    def redeem_code(self, *args: Any, **kwargs: Any) -> None:
        super().redeem_code(*args, **kwargs)
        if self.lose_next:
            self.lose_next = False
            raise ConditionFailed("simulated: the retry found the committed write")

    def rotate_refresh(self, *args: Any, **kwargs: Any) -> None:
        super().rotate_refresh(*args, **kwargs)
        if self.lose_next:
            self.lose_next = False
            raise ConditionFailed("simulated")


@pytest.fixture
def store(services: Components) -> LostResponseStore:
    store = LostResponseStore()
    services.grants = store
    return store


@pytest.fixture
def client(registry: ClientRegistry) -> Client:
    return registry.create(
        {
            "client_id": "app",
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [REDIRECT],
            "scope": "openid read:data",
            "first_party": True,
        }
    ).client


def issue_code(services: Components, client: Client, challenge: str) -> str:
    return issue_code_for(services, client, challenge, "user-1")


def issue_code_for(
    services: Components, client: Client, challenge: str, sub: str, *, signed_in_ms: int = 0
) -> str:
    return code_as_authorize_issues_it(
        services, client, REDIRECT, challenge, sub, signed_in_ms=signed_in_ms
    )


def redeem(services: Components, client: Client, code: str, verifier: str) -> dict[str, Any]:
    return redeem_code(services, client, REDIRECT, code, verifier)


def test_retry_that_finds_its_own_committed_redemption_succeeds(
    services: Components, store: LostResponseStore, client: Client
) -> None:
    verifier, challenge = pkce_pair()
    code = issue_code(services, client, challenge)
    store.lose_next = True
    body = redeem(services, client, code, verifier)
    assert "refresh_token" in body
    family = next(iter(store.families.values()))
    assert family.revoked is False


def test_replay_after_success_revokes_and_fails(
    services: Components, store: LostResponseStore, client: Client
) -> None:
    verifier, challenge = pkce_pair()
    code = issue_code(services, client, challenge)
    redeem(services, client, code, verifier)
    with pytest.raises(InvalidGrant):
        redeem(services, client, code, verifier)
    assert all(f.revoked for f in store.families.values())


def test_expired_code_is_refused_even_while_stored(
    services: Components, store: LostResponseStore, client: Client, clock: FixedClock
) -> None:
    verifier, challenge = pkce_pair()
    code = issue_code(services, client, challenge)
    clock.advance(services.settings.code_ttl)
    assert store.get_code(token_hash(code)) is not None
    with pytest.raises(InvalidGrant, match="expired"):
        redeem(services, client, code, verifier)


def test_refresh_retry_that_finds_its_own_rotation_succeeds(
    services: Components, store: LostResponseStore, client: Client
) -> None:
    verifier, challenge = pkce_pair()
    tokens = redeem(services, client, issue_code(services, client, challenge), verifier)
    store.lose_next = True
    refresh_grant = grant(services, "refresh_token")
    form = {"refresh_token": tokens["refresh_token"]}
    body = refresh_grant.issue(
        client, form, GrantContext("https://issuer.example", form_request({}))
    )
    assert body["refresh_token"] != tokens["refresh_token"]
    assert not any(f.revoked for f in store.families.values())


def test_rotation_keeps_absolute_lifetime_and_caps_idle(
    services: Components, store: LostResponseStore, clock: FixedClock
) -> None:
    now = clock.now()
    family = TokenFamily("f", "app", "u", "read:data", now, {}, now, now + 100)
    store.families["f"] = family
    old = RefreshToken(token_hash("old"), "f", "app", "u", "read:data", now + 50, now + 100)
    store.refresh_tokens[old.token_hash] = old
    client = Client(
        client_id="app",
        grant_types=("refresh_token",),
        token_endpoint_auth_method="none",
        scope="read:data",
        first_party=True,
    )
    body = grant(services, "refresh_token").issue(
        client, {"refresh_token": "old"}, GrantContext("https://i", form_request({}))
    )
    new = store.refresh_tokens[token_hash(body["refresh_token"])]
    assert new.absolute_expires_at == now + 100
    assert new.idle_expires_at == now + 100  # capped by the absolute lifetime


def test_d8_a_sign_in_in_the_same_second_as_a_password_change_is_told_apart(
    services: Components, clock: FixedClock, client: Client
) -> None:
    """Whole seconds let a sign-in made with the old password in the same second as the change
    survive it; the user state compares milliseconds."""
    from oauth_core.admin.users import UserDirectory

    directory = UserDirectory(services.users, clock, services.grants)
    user = directory.create("ms-user", "the-old-password")
    verifier, challenge = pkce_pair()
    before = issue_code_for(services, client, challenge, user.sub, signed_in_ms=clock.now_ms())
    clock.advance_ms(400)
    directory.set_password("ms-user", "the-new-password")
    clock.advance_ms(300)  # still the same second
    after = issue_code_for(services, client, challenge, user.sub, signed_in_ms=clock.now_ms())
    with pytest.raises(InvalidGrant):
        redeem(services, client, before, verifier)
    assert "access_token" in redeem(services, client, after, verifier)
