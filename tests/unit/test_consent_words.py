"""The consent page names the API a scope is for (RFC 8707: a user sees where access goes),
in the API's registered words, and says nothing extra for the built-in API's scopes."""

from __future__ import annotations

from oauth_core.models import PendingAuthorization
from oauth_core.wiring import Components


def pending(scope: str) -> PendingAuthorization:
    return PendingAuthorization(
        request_id="r", client_id="app", redirect_uri="https://app.example/cb", scope=scope,
        state=None, nonce=None, code_challenge="c", prompt=(), max_age=None, login_hint=None,
        expires_at=0,
    )  # fmt: skip


def test_the_consent_page_names_the_api_of_each_scope(services: Components) -> None:
    services.api_admin.create("https://orders.example.com", description="Orders")
    services.scope_admin.create(
        {"name": "orders:read", "description": "See your orders",
         "audience": "https://orders.example.com"}
    )  # fmt: skip
    asked, offline = services.flow.consent_asks(pending("openid orders:read read:data"))
    assert asked == ["Confirm who you are", "See your orders (Orders)", "Read your data"]
    assert not offline
