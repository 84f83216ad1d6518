"""Helpers for building requests and tokens in tests."""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlencode, urlsplit

from oauth_core.grants import Grant, GrantContext
from oauth_core.http.answers import json_answer
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.models import Client, PendingAuthorization, Session
from oauth_core.rules.pkce import challenge_of
from oauth_core.wiring import Components

EVENTS = Path(__file__).parent / "events"
ISSUER = "https://auth.example.com"
DOMAIN = "auth.example.com"

SERVICE_ID = "svc"
SERVICE_SECRET = "svc-secret-0123456789abcdefghijklmnopqrstuvwxyz"


def basic(client_id: str, secret: str) -> str:
    """client_secret_basic as RFC 6749 2.3.1 says: form-url-encode each part, then base64."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def form_request(
    params: dict[str, str] | list[tuple[str, str]] | str,
    *,
    path: str = "/token",
    headers: dict[str, str] | None = None,
    method: str = "POST",
    query: str = "",
    content_type: str = "application/x-www-form-urlencoded",
) -> HttpRequest:
    body = params if isinstance(params, str) else urlencode(params)
    all_headers = {"content-type": content_type}
    all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    return HttpRequest(
        method=method,
        path=path,
        headers=all_headers,
        raw_query=query,
        body=body.encode(),
        source_ip="198.51.100.7",
        domain_name=DOMAIN,
        request_id="test",
    )


def respond(endpoint: Callable[[HttpRequest], HttpResponse], request: HttpRequest) -> HttpResponse:
    """An endpoint's answer as the token function gives it: errors in RFC 6749 5.2 JSON."""
    try:
        return endpoint(request)
    except Exception as exc:
        return json_answer(request, exc)


def grant(components: Components, grant_type: str) -> Grant:
    """The components' implementation of one grant type."""
    return next(g for g in components.grant_types if g.grant_type == grant_type)


def load_event(name: str, **overrides: Any) -> dict[str, Any]:
    """A sample API Gateway HTTP API event from tests/events, with top-level overrides."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    for key, value in overrides.items():
        if key == "headers":
            event["headers"] = {**event.get("headers", {}), **value}
        else:
            event[key] = value
    return event


def form_fields(html: str) -> dict[str, str]:
    """The hidden fields of a server-rendered form (request id, CSRF token)."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def pkce_pair() -> tuple[str, str]:
    """A fresh (code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    return verifier, challenge_of(verifier)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query, keep_blank_values=True).items()}


def code_as_authorize_issues_it(
    services: Components,
    client: Client,
    redirect_uri: str,
    challenge: str,
    sub: str,
    *,
    signed_in_ms: int = 0,
) -> str:
    """A code as /authorize issues it to a signed-in user (scope `openid read:data`)."""
    now = services.clock.now()
    pending = PendingAuthorization(
        request_id="r",
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        scope="openid read:data",
        state="s",
        nonce="n",
        code_challenge=challenge,
        prompt=(),
        max_age=None,
        login_hint=None,
        expires_at=now + 600,
        client_registration=client.registration_id,
    )
    session = Session(
        "h", sub, "alice", now, now + 3600, {"name": "Alice"}, signed_in_ms=signed_in_ms
    )
    response = services.flow.redirect_with_code(form_request({}), pending, session)
    return query_of(response.headers["Location"])["code"]


def redeem_code(
    services: Components, client: Client, redirect_uri: str, code: str, verifier: str
) -> dict[str, Any]:
    """The token endpoint's answer body to an authorization_code grant."""
    code_grant = grant(services, "authorization_code")
    form = {"code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}
    return code_grant.issue(client, form, GrantContext(ISSUER, form_request({})))
