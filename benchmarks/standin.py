"""A fast in-memory stand-in for AWS, installed into the real handler modules, so that what the
warm benchmark measures is our own CPU (handler, Powertools, JWT), not moto's."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (
    "layers/common/python",
    "functions/token",
    "functions/resource",
    "functions/authorize",
    "functions/login",
):
    if str(ROOT / path) not in sys.path:
        sys.path.insert(0, str(ROOT / path))

from oauth_core.admin.registry import ClientRegistry  # noqa: E402
from oauth_core.http.pages import SESSION_COOKIE, CookiePolicy  # noqa: E402
from oauth_core.http.request import HttpRequest  # noqa: E402
from oauth_core.models import PendingAuthorization, Session  # noqa: E402
from oauth_core.rules.hashing import token_hash  # noqa: E402
from oauth_core.wiring import Components, endpoints_for, memory_components  # noqa: E402

EVENTS = ROOT / "tests" / "events"
SERVICE_ID = "svc"
SERVICE_SECRET = "svc-secret-0123456789abcdefghijklmnopqrstuvwxyz"
APP_REDIRECT = "https://app.example.com/callback"


def event(name: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    for key, value in overrides.items():
        if key == "headers":
            data["headers"] = {**data["headers"], **value}
        else:
            data[key] = value
    return data


def demo_services() -> Components:
    """The stand-in: in-memory stores holding the benchmark's clients and a user."""
    services = memory_components()
    register_clients(services.registry)
    services.user_directory.create("alice", "a long password", {"name": "Alice"})
    return services


def register_clients(registry: ClientRegistry) -> None:
    registry.create(
        {
            "client_id": SERVICE_ID,
            "client_secret": SERVICE_SECRET,
            "grant_types": ["client_credentials"],
            "scope": "read:data write:data",
        }
    )
    registry.create(
        {
            "client_id": "app",
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [APP_REDIRECT],
            "scope": "openid profile read:data",
            "first_party": True,
        }
    )


def form_event(fields: dict[str, str]) -> dict[str, Any]:
    """A POST /token event whose client authenticates in the form (a public client)."""
    import urllib.parse

    data = event("token_client_credentials", body=urllib.parse.urlencode(fields))
    del data["headers"]["authorization"]
    return data


def pkce_pair() -> tuple[str, str]:
    """A fresh (code_verifier, S256 code_challenge)."""
    import secrets

    from oauth_core.rules.pkce import challenge_of

    verifier = secrets.token_urlsafe(48)
    return verifier, challenge_of(verifier)


def code_exchange_event(services: Components, scope: str) -> dict[str, Any]:
    """A token request redeeming a freshly minted code for the `app` client, with its verifier."""
    verifier, challenge = pkce_pair()
    code = mint_code(services, (verifier, challenge), scope)
    return form_event(
        {
            "grant_type": "authorization_code",
            "client_id": "app",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": APP_REDIRECT,
        }
    )


def authorize_event(scope: str = "openid", cookie: str | None = None) -> dict[str, Any]:
    """GET /authorize for the `app` client with a fresh PKCE challenge (and a session cookie)."""
    import urllib.parse

    _, challenge = pkce_pair()
    query = urllib.parse.urlencode(
        {
            "client_id": "app",
            "redirect_uri": APP_REDIRECT,
            "response_type": "code",
            "scope": scope,
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return event("authorize", rawQueryString=query, cookies=[cookie] if cookie else [])


def install(module: ModuleType, services: Components) -> None:
    """Serve a handler module's function from the stand-in's components."""
    function = module.__name__.rsplit(".", 1)[-1].removesuffix("_handler")
    module.lambda_handler.install(endpoints_for(function, services))


def session_cookie(services: Components) -> str:
    """A signed-in browser: a live session in the stand-in, and its cookie value."""
    now = services.clock.now()
    session_id = services.token_issuer.opaque()
    services.grants.put_session(
        Session(token_hash(session_id), "user-1", "alice", now, now + 3600, {"name": "Alice"})
    )
    name = CookiePolicy(services.settings.secure_cookies).name(SESSION_COOKIE)
    return f"{name}={session_id}"


def mint_code(services: Components, verifier_challenge: tuple[str, str], scope: str) -> str:
    """A fresh authorization code for the `app` client, as /authorize would issue it."""
    from urllib.parse import parse_qs, urlsplit

    _, challenge = verifier_challenge
    now = services.clock.now()
    app = services.clients.get("app")
    assert app is not None
    pending = PendingAuthorization(
        "r", "app", APP_REDIRECT, scope, None, "n", challenge, (), None, None, now + 600
    )
    pending = replace(pending, client_registration=app.registration_id)
    session = Session("s", "user-1", "alice", now, now + 3600, {"name": "Alice"})
    request = HttpRequest.from_apigw_v2(event("authorize"))
    response = services.flow.redirect_with_code(request, pending, session)
    return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]
