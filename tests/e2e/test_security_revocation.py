"""SECURITY.md rows H1-H2: revocation (RFC 7009) and introspection (RFC 7662), over HTTP."""

from __future__ import annotations

import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import SPA, WEB, WEB_REDIRECT, exchange, get_code, introspect, refresh


def revoke(stack: LocalStack, token: str, client_id: str, **extra: str) -> requests.Response:
    if client_id == SPA:
        return requests.post(
            f"{stack.issuer}/revoke", data={"token": token, "client_id": SPA, **extra}, timeout=10
        )
    return requests.post(
        f"{stack.issuer}/revoke",
        data={"token": token, **extra},
        auth=(client_id, stack.client_secret(client_id)),
        timeout=10,
    )


def web_tokens(stack: LocalStack) -> dict[str, str]:
    result = get_code(stack, client_id=WEB, redirect_uri=WEB_REDIRECT)
    return dict(exchange(stack, result, client_id=WEB, redirect_uri=WEB_REDIRECT).json())


def test_h1_revoking_a_refresh_token_ends_its_grant(stack: LocalStack) -> None:
    tokens = web_tokens(stack)
    response = revoke(stack, tokens["refresh_token"], WEB, token_type_hint="refresh_token")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert refresh(stack, tokens["refresh_token"], client_id=WEB).json()["error"] == "invalid_grant"
    assert introspect(stack, tokens["access_token"]) == {"active": False}


def test_h1_revoking_an_access_token(stack: LocalStack) -> None:
    tokens = web_tokens(stack)
    assert (
        revoke(stack, tokens["access_token"], WEB, token_type_hint="access_token").status_code
        == 200
    )
    assert introspect(stack, tokens["access_token"]) == {"active": False}


def test_h1_unknown_token_is_200(stack: LocalStack) -> None:
    assert revoke(stack, "no-such-token", WEB).status_code == 200
    assert revoke(stack, "a.b.c", WEB).status_code == 200


def test_h1_another_clients_token_is_not_revoked(stack: LocalStack) -> None:
    spa_tokens = exchange(stack, get_code(stack)).json()
    assert revoke(stack, spa_tokens["refresh_token"], WEB).status_code == 200
    assert refresh(stack, spa_tokens["refresh_token"], client_id=SPA).status_code == 200


def test_h1_public_client_revokes_its_own_token(stack: LocalStack) -> None:
    spa_tokens = exchange(stack, get_code(stack)).json()
    assert revoke(stack, spa_tokens["refresh_token"], SPA).status_code == 200
    assert refresh(stack, spa_tokens["refresh_token"], client_id=SPA).status_code == 400


def test_h1_revocation_requires_client_authentication(stack: LocalStack) -> None:
    response = requests.post(f"{stack.issuer}/revoke", data={"token": "x"}, timeout=10)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_h2_introspection_requires_client_authentication(stack: LocalStack) -> None:
    tokens = web_tokens(stack)
    anonymous = requests.post(
        f"{stack.issuer}/introspect", data={"token": tokens["access_token"]}, timeout=10
    )
    assert anonymous.status_code == 401
    public = requests.post(
        f"{stack.issuer}/introspect",
        data={"token": tokens["access_token"], "client_id": SPA},
        timeout=10,
    )
    assert public.status_code == 401
    assert "active" not in anonymous.json()


def test_h2_active_and_inactive_answers(stack: LocalStack) -> None:
    tokens = web_tokens(stack)
    active = introspect(stack, tokens["access_token"])
    assert active["active"] is True
    assert active["client_id"] == WEB
    assert active["token_type"] == "Bearer"
    refresh_info = introspect(stack, tokens["refresh_token"])
    assert refresh_info["active"] is True
    assert refresh_info["client_id"] == WEB
    for inactive in ("garbage", "a.b.c", tokens["access_token"][:-4] + "AAAA"):
        assert introspect(stack, inactive) == {"active": False}
    # Another client's refresh token is not disclosed.
    assert introspect(stack, tokens["refresh_token"], client_id="demo-service") == {"active": False}
