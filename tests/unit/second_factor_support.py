"""The in-memory stack as a browser sees it, for the second-factor tests (tests/unit/
test_second_factor.py), without pyotp: a child process signs in with it and checks that a sign-in
without a second factor loads neither pyotp nor segno."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from oauth_core.clock import FixedClock
from oauth_core.config import Settings
from oauth_core.http.dispatch import FunctionHandler
from oauth_core.http.routes import find_route
from oauth_core.models import AuthorizationCode
from oauth_core.storage.memory import MemoryGrantStore
from oauth_core.wiring import Components, endpoints_for, memory_components
from tests.support import DOMAIN, ISSUER, form_fields, pkce_pair

APP, APP_REDIRECT = "mfa-app", "https://app.example/cb"
STRICT = "strict-app"  # registered with require_mfa
USER, PASSWORD = "mfa-user", "mfa user password"
SOURCE = "198.51.100.7"
OTHER_SOURCE = "203.0.113.9"


@dataclass
class MemoryBrowser:
    """A browser on the in-memory stack: a cookie jar, and every answer as the functions give
    it (errors as their pages)."""

    services: Components
    source: str = SOURCE
    jar: dict[str, str] = field(default_factory=dict)

    def _handler(self, function: str) -> FunctionHandler:
        handlers = self.services.__dict__.setdefault("_test_handlers", {})
        if function not in handlers:
            built = endpoints_for(function, self.services)
            handlers[function] = FunctionHandler(function, lambda: built)
        return handlers[function]

    def send(self, method: str, path: str, query: str = "", body: str = "") -> dict[str, Any]:
        route = find_route(method, path)
        assert route is not None, (method, path)
        event = {
            "rawPath": path,
            "rawQueryString": query,
            "headers": {"content-type": "application/x-www-form-urlencoded"},
            "cookies": [f"{k}={v}" for k, v in self.jar.items()],
            "body": body,
            "isBase64Encoded": False,
            "requestContext": {
                "http": {"method": method, "path": path, "sourceIp": self.source},
                "domainName": DOMAIN,
                "requestId": "test",
            },
        }
        answer: dict[str, Any] = self._handler(route.function)(event, None)
        for cookie in answer.get("cookies", []):
            name, value = cookie.split(";", 1)[0].split("=", 1)
            if "Max-Age=0" in cookie:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return answer

    def get(self, location: str) -> dict[str, Any]:
        path, _, query = location.partition("?")
        return self.send("GET", path, query)

    def post(self, path: str, fields: dict[str, str]) -> dict[str, Any]:
        return self.send("POST", path, body=urlencode(fields))


def location(answer: dict[str, Any]) -> str:
    assert answer["statusCode"] == 303, answer
    return str(answer["headers"]["Location"])


def secret_shown(html: str) -> str:
    found = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', html)
    assert found, "the enrolment page shows the key in text"
    return found.group(1).replace(" ", "")


def codes_shown(html: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-7-]+)</code></li>", html)


def build(clock: FixedClock, **settings: Any) -> Components:
    services = memory_components(Settings(issuer=ISSUER, **settings), clock=clock)
    for client_id in (APP, STRICT):
        services.registry.create(
            {
                "client_id": client_id,
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code"],
                "redirect_uris": [APP_REDIRECT],
                "scope": "openid",
                "first_party": True,
                "require_mfa": client_id == STRICT,
            }
        )
    services.user_directory.create(USER, PASSWORD, {})
    return services


def authorize(browser: MemoryBrowser, client_id: str = APP, **extra: str) -> dict[str, Any]:
    params = {
        "client_id": client_id,
        "redirect_uri": APP_REDIRECT,
        "response_type": "code",
        "scope": "openid",
        "state": "s",
        "code_challenge": pkce_pair()[1],
        "code_challenge_method": "S256",
        **extra,
    }
    return browser.get(f"/authorize?{urlencode(params)}")


def password_step(browser: MemoryBrowser, client_id: str = APP, **extra: str) -> dict[str, Any]:
    """/authorize, then the sign-in page's form with the right password: what it answers."""
    login = browser.get(location(authorize(browser, client_id, **extra)))
    assert login["statusCode"] == 200
    fields = {**form_fields(login["body"]), "username": USER, "password": PASSWORD}
    return browser.post("/login", fields)


def issued_code(services: Components, answer: dict[str, Any]) -> AuthorizationCode:
    where = location(answer)
    assert where.startswith(APP_REDIRECT), where
    grants = services.grants
    assert isinstance(grants, MemoryGrantStore)
    return list(grants.codes.values())[-1]
