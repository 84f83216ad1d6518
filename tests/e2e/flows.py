"""A scripted browser and OAuth client for the code flow, over plain HTTP (requests)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from tests.e2e.conftest import LocalStack
from tests.support import form_fields, pkce_pair, query_of

__all__ = ["form_fields", "pkce_pair", "query_of"]

SPA = "demo-spa"
SPA_REDIRECT = "http://127.0.0.1:8401/callback"
WEB = "demo-web"
WEB_REDIRECT = "http://127.0.0.1:8400/callback"
USER, PASSWORD = "demo", "demo-password"


class _SourceAddressAdapter(HTTPAdapter):
    def __init__(self, source_ip: str):
        self._source_ip = source_ip
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self._source_ip, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(source_ip: str) -> requests.Session:
    """An HTTP session whose requests come from another loopback address (Linux routes all of
    127.0.0.0/8 to the loopback interface), so the server sees another source."""
    session = requests.Session()
    adapter = _SourceAddressAdapter(source_ip)
    session.mount("http://", adapter)
    return session


@dataclass
class Browser:
    """A browser: a cookie jar that follows our pages but stops at the client's redirect."""

    stack: LocalStack
    http: requests.Session = field(default_factory=requests.Session)

    def get(self, path_or_url: str, **kwargs: Any) -> requests.Response:
        url = path_or_url if path_or_url.startswith("http") else self.stack.issuer + path_or_url
        return self.http.get(url, allow_redirects=False, timeout=10, **kwargs)

    def post(self, path: str, data: dict[str, str]) -> requests.Response:
        return self.http.post(
            self.stack.issuer + path, data=data, allow_redirects=False, timeout=10
        )

    def authorize(self, **params: str) -> requests.Response:
        return self.get("/authorize", params=params)

    def sign_in(
        self, login_location: str, username: str = USER, password: str = PASSWORD
    ) -> requests.Response:
        page = self.get(login_location)
        assert page.status_code == 200, page.text
        fields = form_fields(page.text)
        return self.post("/login", {**fields, "username": username, "password": password})

    def decide(self, consent_location: str, decision: str = "allow") -> requests.Response:
        page = self.get(consent_location)
        assert page.status_code == 200, page.text
        return self.post("/consent", {**form_fields(page.text), "decision": decision})

    def until_client(
        self, response: requests.Response, username: str = USER, password: str = PASSWORD
    ) -> requests.Response:
        """Follow our own redirects (login, consent) until one leaves for the client."""
        while response.status_code == 303 and response.headers["Location"].startswith("/"):
            location = response.headers["Location"]
            if location.startswith("/login"):
                response = self.sign_in(location, username, password)
            elif location.startswith("/consent"):
                response = self.decide(location)
            else:
                response = self.get(location)
        return response


def authorize_params(
    client_id: str | None = SPA,
    redirect_uri: str | None = SPA_REDIRECT,
    challenge: str | None = None,
    **extra: str,
) -> dict[str, str]:
    params = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": "openid profile offline_access read:data",
        "state": secrets.token_urlsafe(8),
        "code_challenge_method": "S256",
    }
    if challenge:
        params["code_challenge"] = challenge
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


@dataclass
class CodeResult:
    code: str
    verifier: str
    state: str
    query: dict[str, str]
    browser: Browser


def get_code(
    stack: LocalStack,
    client_id: str = SPA,
    redirect_uri: str = SPA_REDIRECT,
    browser: Browser | None = None,
    username: str = USER,
    password: str = PASSWORD,
    **extra: str,
) -> CodeResult:
    """A code for `client_id`, the user (`username`) signing in and consenting in `browser`."""
    browser = browser or Browser(stack)
    verifier, challenge = pkce_pair()
    params = authorize_params(client_id, redirect_uri, challenge, **extra)
    final = browser.until_client(browser.authorize(**params), username, password)
    assert final.status_code == 303, final.text
    assert final.headers["Location"].startswith(redirect_uri)
    query = query_of(final.headers["Location"])
    assert "code" in query, query
    return CodeResult(query["code"], verifier, params["state"], query, browser)


def client_auth(stack: LocalStack, client_id: str) -> dict[str, Any]:
    """How a seeded client authenticates at /token: Basic for confidential, client_id for public."""
    if client_id == SPA:
        return {"data": {"client_id": SPA}}
    return {"auth": (client_id, stack.client_secret(client_id))}


def token_request(stack: LocalStack, client_id: str, data: dict[str, str]) -> requests.Response:
    auth = client_auth(stack, client_id)
    body = {**auth.get("data", {}), **data}
    return requests.post(f"{stack.issuer}/token", data=body, auth=auth.get("auth"), timeout=10)


def service_token(stack: LocalStack, scope: str = "read:data") -> str:
    """A client-credentials access token for the seeded demo service."""
    response = token_request(
        stack, "demo-service", {"grant_type": "client_credentials", "scope": scope}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def exchange(
    stack: LocalStack,
    result: CodeResult,
    client_id: str = SPA,
    redirect_uri: str | None = SPA_REDIRECT,  # None: leave it out
    **overrides: str | None,
) -> requests.Response:
    fields: dict[str, str | None] = {
        "grant_type": "authorization_code",
        "code": result.code,
        "redirect_uri": redirect_uri,
        "code_verifier": result.verifier,
        **overrides,
    }
    return token_request(stack, client_id, {k: v for k, v in fields.items() if v is not None})


def redeem_as(
    stack: LocalStack, result: CodeResult, auth: tuple[str, str], redirect_uri: str
) -> requests.Response:
    """The code exchange of a confidential client that is not in the seed."""
    return requests.post(
        f"{stack.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": result.code,
            "redirect_uri": redirect_uri,
            "code_verifier": result.verifier,
        },
        auth=auth,
        timeout=10,
    )


def refresh(
    stack: LocalStack, refresh_token: str, client_id: str = SPA, **extra: str
) -> requests.Response:
    return token_request(
        stack, client_id, {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    )


def introspect(stack: LocalStack, token: str, client_id: str = WEB) -> dict[str, Any]:
    response = requests.post(
        f"{stack.issuer}/introspect",
        data={"token": token},
        auth=(client_id, stack.client_secret(client_id)),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())
