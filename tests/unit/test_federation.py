"""Federation against a stand-in provider (a tiny OpenID Connect provider in this file): the
sign-in page's button, the provider's answer and every check on it (SECURITY U1-U4), accounts
made just in time or refused, linking from the account page, and declaring providers (U5)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from html import unescape
from typing import Any
from urllib.parse import quote_plus, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from oauth_core import constants
from oauth_core.admin.catalog import InvalidDefinition
from oauth_core.catalog import ProviderDefinition
from oauth_core.clock import FixedClock
from oauth_core.http.outbound import FetchRefused
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.http.routes import find_route
from oauth_core.models import PendingAuthorization
from oauth_core.rules.hashing import token_hash
from oauth_core.tokens.federation_state import AttemptSealer, FederatedAttempt
from oauth_core.tokens.upstream import UpstreamProviders, UpstreamRefused, metadata_from
from oauth_core.wiring import Components, endpoints_for
from tests.support import DOMAIN, ISSUER, form_fields, pkce_pair, query_of

UPSTREAM = "https://idp.example.org"
DISCOVERY = f"{UPSTREAM}/.well-known/openid-configuration"
CLIENT_ID = "our-client-at-the-idp"
CLIENT_SECRET = "our secret at the idp"
APP, APP_REDIRECT = "fed-app", "https://app.example.com/callback"
CALLBACK = f"{ISSUER}{constants.FEDERATED_CALLBACK_PATH}"


# --- a stand-in provider -------------------------------------------------------------------------


@dataclass
class FakeProvider:
    """An OpenID Connect provider in memory: discovery, JWKS, /authorize and /token, with knobs
    to make it answer wrongly."""

    clock: FixedClock
    key: Any = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    kid: str = "k1"
    claims: dict[str, Any] = field(
        default_factory=lambda: {
            "sub": "idp-user-1",
            "email": "ann@corp.example",
            "email_verified": True,
            "name": "Ann Upstream",
            "preferred_username": "ann",
        }
    )
    # Applied to each ID token it issues (a knob for the tests), and keys it signs with.
    id_token_changes: dict[str, Any] = field(default_factory=dict)
    sign_with: Any = None
    signed_kid: str | None = None  # the kid its ID tokens name (default: its key's)
    alg: str = "RS256"
    discovery_changes: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: int = 0

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": UPSTREAM,
            "authorization_endpoint": f"{UPSTREAM}/authorize",
            "token_endpoint": f"{UPSTREAM}/token",
            "jwks_uri": f"{UPSTREAM}/jwks",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "authorization_response_iss_parameter_supported": True,
            **self.discovery_changes,
        }

    def fetch(self, url: str) -> dict[str, Any]:
        return {DISCOVERY: self.discovery(), f"{UPSTREAM}/jwks": self.jwks()}[url]

    def authorize(self, location: str, **change: str) -> str:
        """The provider's answer to the browser it sent to `location`: the callback URL."""
        assert location.startswith(f"{UPSTREAM}/authorize?")
        query = {**query_of(location), **change}
        assert query["client_id"] == CLIENT_ID and query["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.codes[code] = query
        answer = {"code": code, "state": query["state"], "iss": UPSTREAM}
        return f"{query['redirect_uri']}?{urlencode(answer)}"

    def post(
        self, url: str, fields: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        self.token_requests += 1
        assert url == f"{UPSTREAM}/token"
        # RFC 6749 2.3.1: each part form-url-encoded, then base64.
        pair = f"{quote_plus(CLIENT_ID)}:{quote_plus(CLIENT_SECRET)}".encode()
        expected = "Basic " + base64.b64encode(pair).decode()
        if headers.get("Authorization") != expected:
            return 401, {"error": "invalid_client"}
        asked = self.codes.pop(fields.get("code", ""), None)
        if asked is None or asked["redirect_uri"] != fields["redirect_uri"]:
            return 400, {"error": "invalid_grant"}
        digest = hashlib.sha256(fields["code_verifier"].encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != asked["code_challenge"]:
            return 400, {"error": "invalid_grant"}
        now = self.clock.now()
        claims = {
            "iss": UPSTREAM,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "nonce": asked["nonce"],
            **self.claims,
            **self.id_token_changes,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        return 200, {"access_token": "at", "token_type": "Bearer", "id_token": self.sign(claims)}

    def signing(self, alg: str, key: Any) -> None:
        self.alg, self.sign_with = alg, key

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims,
            self.sign_with or self.key,
            algorithm=self.alg,
            headers={"kid": self.signed_kid or self.kid},
        )


# --- a browser over the login function's endpoints ---------------------------------------------


@dataclass
class Browser:
    services: Components
    cookies: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.endpoints = endpoints_for("login", self.services)

    def _send(self, method: str, url: str, body: dict[str, str] | None = None) -> HttpResponse:
        parts = urlsplit(url)
        route = find_route(method, parts.path)
        assert route is not None and route.function == "login", url
        request = HttpRequest(
            method=method,
            path=parts.path,
            headers={
                "cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
                "content-type": "application/x-www-form-urlencoded",
            },
            raw_query=parts.query,
            body=urlencode(body or {}).encode(),
            source_ip="198.51.100.7",
            domain_name=DOMAIN,
            request_id="test-request",
        )
        response = self.endpoints[route.endpoint](request)
        for cookie in response.cookies:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    def get(self, url: str) -> HttpResponse:
        return self._send("GET", url)

    def post(self, path: str, form: dict[str, str]) -> HttpResponse:
        return self._send("POST", path, form)


def location(response: HttpResponse) -> str:
    assert response.status_code == 303, (response.status_code, response.body)
    return response.headers["Location"]


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def provider(services: Components, clock: FixedClock) -> FakeProvider:
    fake = FakeProvider(clock)
    services.upstream = UpstreamProviders(fake.fetch, fake.post, clock)
    return fake


def declare(services: Components, **changes: Any) -> ProviderDefinition:
    data = {
        "name": "corp",
        "display_name": "Corp SSO",
        "discovery_url": DISCOVERY,
        "client_id": CLIENT_ID,
        "jit_create": True,
        **changes,
    }
    return services.provider_admin.create(data, CLIENT_SECRET)


@pytest.fixture
def app(services: Components) -> str:
    services.registry.create(
        {
            "client_id": APP,
            "client_secret": "fed-app-secret-0123456789abcdefghijklmnop",
            "redirect_uris": [APP_REDIRECT],
            "grant_types": ["authorization_code"],
            "scope": "openid profile email",
            "first_party": True,
        }
    )
    return APP


def request_handle(services: Components, **changes: Any) -> str:
    client = services.clients.get(APP)
    assert client is not None
    now = services.clock.now()
    pending = PendingAuthorization(
        request_id=secrets.token_urlsafe(16),
        client_id=APP,
        redirect_uri=APP_REDIRECT,
        scope="openid profile email",
        state="app-state",
        nonce="app-nonce",
        code_challenge=pkce_pair()[1],
        prompt=(),
        max_age=None,
        login_hint=None,
        expires_at=now + 600,
        requested_at=now,
        client_registration=client.registration_id,
    )
    return services.sealer.seal(replace(pending, **changes))


def start(browser: Browser, handle: str, name: str = "corp") -> str:
    """Click the button on the sign-in page: where the browser is sent."""
    page = browser.get(f"/login?{urlencode({'request_id': handle})}")
    assert page.status_code == 200
    links = [unescape(h) for h in re.findall(r'<a class="button" href="([^"]+)"', page.body)]
    (button,) = [link for link in links if f"provider={name}" in link]
    return location(browser.get(button))


def sign_in_via_provider(
    services: Components, provider: FakeProvider, browser: Browser | None = None, **change: str
) -> HttpResponse:
    browser = browser or Browser(services)
    at_provider = start(browser, request_handle(services))
    return browser.get(provider.authorize(at_provider, **change))


def session_of(services: Components, browser: Browser) -> Any:
    session_id = browser.cookies[services.flow.cookies.name("session")]
    return services.grants.get_session(token_hash(session_id))


# --- the whole way ----------------------------------------------------------------------------


def test_the_button_signs_in_through_the_provider_and_the_app_gets_its_code(
    services: Components, provider: FakeProvider, app: str
) -> None:
    declare(services)
    browser = Browser(services)
    handle = request_handle(services)
    page = browser.get(f"/login?{urlencode({'request_id': handle})}")
    assert "Sign in with Corp SSO" in page.body
    at_provider = start(browser, handle)
    asked = query_of(at_provider)
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["redirect_uri"] == CALLBACK and asked["scope"] == "openid email profile"
    assert len(asked["state"]) >= 43 and len(asked["nonce"]) >= 43
    back = browser.get(provider.authorize(at_provider))
    assert location(back).startswith(f"{APP_REDIRECT}?code=")
    assert query_of(location(back))["state"] == "app-state"
    session = session_of(services, browser)
    assert session.amr == (constants.AMR_FEDERATED,)
    user = services.users.get("corp.ann")
    assert user is not None and session.sub == user.sub
    assert user.claims == {
        "email": "ann@corp.example",
        "email_verified": True,
        "name": "Ann Upstream",
        "preferred_username": "ann",
    }
    assert services.flow.cookies.name("federation") not in browser.cookies  # cleared


def test_a_second_sign_in_of_the_same_identity_finds_the_same_account(
    services: Components, provider: FakeProvider, app: str
) -> None:
    declare(services)
    first = Browser(services)
    sign_in_via_provider(services, provider, first)
    provider.claims["preferred_username"] = "renamed"  # nothing but iss and sub links
    second = Browser(services)
    sign_in_via_provider(services, provider, second)
    assert session_of(services, first).sub == session_of(services, second).sub
    assert services.users.get("corp.renamed") is None


# --- U1: bound to this browser and this attempt, used once -------------------------------------


def test_u1_an_answer_with_another_state_is_refused(
    services: Components, provider: FakeProvider, app: str
) -> None:
    declare(services)
    browser = Browser(services)
    at_provider = start(browser, request_handle(services))
    answer = provider.authorize(at_provider, state="a-state-of-the-attackers-choosing")
    refused = browser.get(answer)
    assert refused.status_code == 400 and "Location" not in refused.headers
    assert "could not be verified" in refused.body
    assert provider.token_requests == 0  # the code is never exchanged
    assert services.flow.cookies.name("session") not in browser.cookies


def test_u1_an_answer_carried_to_another_browser_opens_nothing(
    services: Components, provider: FakeProvider, app: str
) -> None:
    declare(services)
    victim = Browser(services)
    answer = provider.authorize(start(victim, request_handle(services)))
    attacker = Browser(services)
    refused = attacker.get(answer)
    assert refused.status_code == 400 and "expired" in refused.body
    assert provider.token_requests == 0


def test_u1_the_same_answer_twice_is_refused_the_second_time(
    services: Components, provider: FakeProvider, app: str
) -> None:
    declare(services)
    browser = Browser(services)
    answer = provider.authorize(start(browser, request_handle(services)))
    code = query_of(answer)["code"]
    asked = dict(provider.codes[code])
    kept = dict(browser.cookies)
    assert location(browser.get(answer)).startswith(APP_REDIRECT)
    # Replayed with the cookie as it was, to a provider that would take its code again.
    provider.codes[code] = asked
    replay = Browser(services, cookies=kept)
    refused = replay.get(answer)
    assert refused.status_code == 400
    assert provider.token_requests == 2  # the ID token verified, and then the state was spent
    assert services.flow.cookies.name("session") not in replay.cookies


def test_u1_a_changed_or_expired_attempt_cookie_opens_nothing(
    services: Components, clock: FixedClock
) -> None:
    sealer = AttemptSealer(services.sealing_secrets, clock)
    attempt = FederatedAttempt(
        "signin", "corp", "s" * 43, "n" * 43, "v" * 43, clock.now() + 600, request_handle="QUJD"
    )
    sealed = sealer.seal(attempt)
    assert sealed is not None and sealer.open(sealed) == attempt
    flipped = sealed[:-5] + ("A" if sealed[-5] != "A" else "B") + sealed[-4:]
    assert sealer.open(flipped) is None
    assert sealer.open("not-a-cookie") is None
    clock.advance(601)
    assert sealer.open(sealed) is None


def test_u1_the_attempt_is_sealed_not_readable(services: Components, clock: FixedClock) -> None:
    sealer = AttemptSealer(services.sealing_secrets, clock)
    nonce = "a-nonce-" + "x" * 35
    sealed = sealer.seal(FederatedAttempt("signin", "corp", "s" * 43, nonce, "v" * 43, 2**40))
    assert sealed is not None
    raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
    assert b"a-nonce-" not in raw and b"corp" not in raw


# --- U2: mix-up -------------------------------------------------------------------------------


def test_u2_an_answer_naming_another_issuer_is_refused(
    services: Components, provider: FakeProvider, app: str
) -> None:
    declare(services)
    browser = Browser(services)
    answer = provider.authorize(start(browser, request_handle(services)))
    tampered = answer.replace(
        urlencode({"iss": UPSTREAM}), urlencode({"iss": "https://evil.example"})
    )
    result = browser.get(tampered)
    assert result.status_code == 400 and "could not be verified" in result.body
    assert provider.token_requests == 0  # the code was never sent


def test_u2_an_answer_without_iss_from_a_provider_that_sends_it_is_refused(
    services: Components, provider: FakeProvider, app: str
) -> None:
    declare(services)
    browser = Browser(services)
    answer = provider.authorize(start(browser, request_handle(services)))
    without = answer.replace(f"&{urlencode({'iss': UPSTREAM})}", "")
    assert "iss=" not in without
    assert browser.get(without).status_code == 400
    assert provider.token_requests == 0


def test_u2_without_iss_from_a_provider_that_never_sends_it_goes_on(
    services: Components, provider: FakeProvider, app: str
) -> None:
    provider.discovery_changes["authorization_response_iss_parameter_supported"] = False
    declare(services)
    browser = Browser(services)
    answer = provider.authorize(start(browser, request_handle(services)))
    without = answer.replace(f"&{urlencode({'iss': UPSTREAM})}", "")
    assert location(browser.get(without)).startswith(APP_REDIRECT)


def test_u2_an_id_token_of_another_issuer_is_refused(
    services: Components, provider: FakeProvider, app: str
) -> None:
    declare(services)
    provider.id_token_changes["iss"] = "https://idp.example.org.evil.example"
    assert sign_in_via_provider(services, provider).status_code == 400


def test_u2_a_discovery_document_naming_another_issuer_is_refused() -> None:
    document = FakeProvider(FixedClock()).discovery()
    with pytest.raises(UpstreamRefused) as refused:
        metadata_from(document, "https://idp.example.org/tenant")
    assert refused.value.reason == "issuer_mismatch"
    assert metadata_from(document, UPSTREAM).issuer == UPSTREAM


# --- U3: the ID token -------------------------------------------------------------------------

REFUSED_TOKENS: dict[str, Callable[[FakeProvider], None]] = {
    "another audience": lambda p: p.id_token_changes.update(aud="another-client"),
    "several audiences, no azp": lambda p: p.id_token_changes.update(aud=[CLIENT_ID, "other"]),
    "azp another client": lambda p: p.id_token_changes.update(azp="other"),
    "expired": lambda p: p.id_token_changes.update(exp=p.clock.now() - 120),
    "issued in the future": lambda p: p.id_token_changes.update(iat=p.clock.now() + 600),
    "issued long ago": lambda p: p.id_token_changes.update(iat=p.clock.now() - 3600),
    "another nonce": lambda p: p.id_token_changes.update(nonce="not-the-nonce-we-sent"),
    "no nonce": lambda p: p.id_token_changes.update(nonce=None),
    "no sub": lambda p: p.id_token_changes.update(sub=None),
    "signed by another key": lambda p: setattr(
        p, "sign_with", rsa.generate_private_key(65537, 2048)
    ),
    "a key the provider does not publish": lambda p: setattr(p, "signed_kid", "unknown"),
    "HS256 with the client secret": lambda p: p.signing("HS256", CLIENT_SECRET.encode() * 2),
    "an algorithm the provider does not name": lambda p: p.signing(
        "ES384", ec.generate_private_key(ec.SECP384R1())
    ),
}


# Why each is refused, as the audit record says.
REASONS = {
    "another audience": "wrong_audience",
    "several audiences, no azp": "wrong_audience",
    "azp another client": "wrong_audience",
    "expired": "id_token_expired",
    "issued in the future": "id_token_expired",
    "issued long ago": "id_token_expired",
    "another nonce": "nonce_mismatch",
    "no nonce": "nonce_mismatch",
    "no sub": "bad_id_token",
    "signed by another key": "bad_signature",
    "a key the provider does not publish": "unknown_key",
    "HS256 with the client secret": "bad_id_token",
    "an algorithm the provider does not name": "bad_id_token",
}


def refusal_reasons(captured: str) -> list[str]:
    records = [json.loads(line)["audit"] for line in captured.splitlines() if '"audit"' in line]
    return [r["detail"]["reason"] for r in records if r["event"] == "federation.refused"]


@pytest.mark.parametrize("case", sorted(REFUSED_TOKENS))
def test_u3_an_id_token_that_fails_a_check_signs_no_one_in(
    services: Components,
    provider: FakeProvider,
    app: str,
    case: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    declare(services)
    REFUSED_TOKENS[case](provider)
    browser = Browser(services)
    refused = sign_in_via_provider(services, provider, browser)
    assert refused.status_code == 400, case
    assert refusal_reasons(capsys.readouterr().out) == [REASONS[case]]
    assert "Location" not in refused.headers
    assert services.flow.cookies.name("session") not in browser.cookies
    assert services.users.get("corp.ann") is None


def test_u3_alg_none_is_refused(services: Components, provider: FakeProvider, app: str) -> None:
    declare(services)
    now = provider.clock.now()
    unsigned = jwt.encode(
        {"iss": UPSTREAM, "aud": CLIENT_ID, "sub": "x", "iat": now, "exp": now + 60},
        key="",
        algorithm="none",
    )
    provider.sign = lambda claims: unsigned  # type: ignore[method-assign]
    assert sign_in_via_provider(services, provider).status_code == 400


def test_u3_a_rotated_key_is_fetched_once_more(
    services: Components, provider: FakeProvider, app: str
) -> None:
    declare(services)
    sign_in_via_provider(services, provider)  # keys kept
    provider.key, provider.kid = rsa.generate_private_key(65537, 2048), "k2"
    provider.clock.advance(31)  # past the refetch floor
    assert location(sign_in_via_provider(services, provider)).startswith(APP_REDIRECT)


def test_u3_max_age_asks_the_provider_and_checks_its_auth_time(
    services: Components, provider: FakeProvider, app: str
) -> None:
    declare(services)
    browser = Browser(services)
    at_provider = start(browser, request_handle(services, max_age=60))
    assert query_of(at_provider)["max_age"] == "60"
    provider.id_token_changes["auth_time"] = provider.clock.now() - 3600
    assert browser.get(provider.authorize(at_provider)).status_code == 400
    browser = Browser(services)
    at_provider = start(browser, request_handle(services, prompt=("login",)))
    assert query_of(at_provider)["prompt"] == "login"


# --- U4: linking -------------------------------------------------------------------------------


def test_u4_an_unverified_email_matching_a_user_does_not_sign_in_as_that_user(
    services: Components, provider: FakeProvider, app: str
) -> None:
    existing = services.user_directory.create(
        "ann", "ann's own password", {"email": "ann@corp.example", "email_verified": True}
    )
    declare(services)
    provider.claims["email_verified"] = False
    browser = Browser(services)
    sign_in_via_provider(services, provider, browser)
    session = session_of(services, browser)
    assert session.sub != existing.sub  # a new account, not Ann's
    made = services.users.get(session.username)
    assert made is not None and "email_verified" not in made.claims
    assert services.links.links_of(existing.sub) == []


def test_u4_a_verified_email_matching_a_user_does_not_link_either(
    services: Components, provider: FakeProvider, app: str
) -> None:
    existing = services.user_directory.create("ann2", "ann's own password", {})
    declare(services, jit_create=False)
    provider.claims["email"] = "ann2@corp.example"
    services.user_directory.update("ann2", {"email": "ann2@corp.example", "email_verified": True})
    refused = sign_in_via_provider(services, provider)
    assert refused.status_code == 403 and "not linked" in refused.body
    assert "Ask an administrator" in refused.body
    assert services.links.links_of(existing.sub) == []


def test_u4_email_verified_is_copied_only_when_the_provider_says_true(
    services: Components, provider: FakeProvider, app: str
) -> None:
    declare(services)
    provider.claims["email_verified"] = "true"  # a string is not true
    browser = Browser(services)
    sign_in_via_provider(services, provider, browser)
    made = services.users.get(session_of(services, browser).username)
    assert made is not None and made.claims["email"] == "ann@corp.example"
    assert "email_verified" not in made.claims


def test_u4_allowed_domains_take_only_a_verified_address_in_them(
    services: Components, provider: FakeProvider, app: str
) -> None:
    declare(services, allowed_email_domains=["corp.example"])
    provider.claims["email"] = "ann@corp.example.evil.example"
    assert sign_in_via_provider(services, provider).status_code == 403
    provider.claims["email"] = "ann@corp.example"
    provider.claims["email_verified"] = False
    assert sign_in_via_provider(services, provider).status_code == 403
    provider.claims["email_verified"] = True
    assert location(sign_in_via_provider(services, provider)).startswith(APP_REDIRECT)


def test_u4_an_operator_link_signs_the_identity_in_as_that_user(
    services: Components, provider: FakeProvider, app: str
) -> None:
    user = services.user_directory.create("bob", "bob's own password", {})
    corp = declare(services, jit_create=False)
    services.identity_links.link(corp, UPSTREAM, "idp-user-1", user)
    browser = Browser(services)
    assert location(sign_in_via_provider(services, provider, browser)).startswith(APP_REDIRECT)
    assert session_of(services, browser).sub == user.sub
    services.user_directory.set_disabled("bob", True)
    assert sign_in_via_provider(services, provider).status_code == 403


def test_u4_a_link_to_a_deleted_user_does_not_sign_in_as_a_new_user_of_that_name(
    services: Components, provider: FakeProvider, app: str
) -> None:
    user = services.user_directory.create("carol", "carol's own password", {})
    corp = declare(services, jit_create=False)
    services.identity_links.link(corp, UPSTREAM, "idp-user-1", user)
    services.user_directory.delete("carol")
    services.user_directory.create("carol", "another carol's password", {})
    assert sign_in_via_provider(services, provider).status_code == 403


def test_u4_linking_from_the_account_page_links_the_signed_in_user(
    services: Components, provider: FakeProvider, app: str
) -> None:
    user = services.user_directory.create("dave", "dave's own password", {})
    declare(services, jit_create=False)
    browser = Browser(services)
    account = browser.get("/account")
    signed = browser.post(
        "/account/login",
        {**form_fields(account.body), "username": "dave", "password": "dave's own password"},
    )
    assert location(signed).startswith("/account")
    page = browser.get("/account")
    assert "Sign-in providers" in page.body and "Link Corp SSO" in page.body
    assert "https://idp.example.org" in page.headers["Content-Security-Policy"]
    (link_form,) = re.findall(r'action="/account/federated">(.*?)</form>', page.body)
    at_provider = location(browser.post("/account/federated", form_fields(link_form)))
    assert query_of(at_provider)["prompt"] == "login"  # a fresh sign-in at the provider
    assert query_of(at_provider)["max_age"] == "600"  # and its auth_time, checked
    assert location(browser.get(provider.authorize(at_provider))) == "/account?done=linked"
    assert [link.username for link in services.links.links_of(user.sub)] == ["dave"]
    # Now the identity signs in as Dave.
    other = Browser(services)
    sign_in_via_provider(services, provider, other)
    assert session_of(services, other).sub == user.sub
    # And Dave may unlink it.
    page = browser.get("/account")
    (unlink_form,) = re.findall(r'action="/account/federated">(.*?)</form>', page.body)
    assert "Unlink Corp SSO" in unlink_form
    assert location(browser.post("/account/federated", form_fields(unlink_form))).endswith(
        "done=unlinked"
    )
    assert services.links.links_of(user.sub) == []


def test_u4_linking_is_only_by_a_form_of_ours_and_only_for_a_signed_in_user(
    services: Components, provider: FakeProvider, app: str
) -> None:
    from oauth_core.errors import CsrfRejected

    declare(services)
    browser = Browser(services)
    browser.get("/account")  # a CSRF cookie, but no session
    with pytest.raises(CsrfRejected):
        browser.post("/account/federated", {"action": "link", "provider": "corp"})
    csrf = browser.cookies[services.flow.cookies.name("csrf")]
    answer = browser.post(
        "/account/federated", {"csrf_token": csrf, "action": "link", "provider": "corp"}
    )
    assert location(answer) == "/account"  # the sign-in form, nowhere else


def test_u4_an_identity_linked_to_one_user_is_not_linked_to_another(
    services: Components, provider: FakeProvider, app: str
) -> None:
    corp = declare(services)
    first = services.user_directory.create("erin", "erin's own password", {})
    second = services.user_directory.create("frank", "frank's own password", {})
    services.identity_links.link(corp, UPSTREAM, "idp-user-1", first)
    from oauth_core.admin.providers import LinkRefused

    with pytest.raises(LinkRefused):
        services.identity_links.link(corp, UPSTREAM, "idp-user-1", second)


def test_a_made_account_keeps_its_link(
    services: Components, provider: FakeProvider, app: str
) -> None:
    declare(services)
    browser = Browser(services)
    sign_in_via_provider(services, provider, browser)
    user = services.users.get(session_of(services, browser).username)
    assert user is not None
    (link,) = services.links.links_of(user.sub)
    assert link.created_account
    from oauth_core.admin.providers import LinkRefused

    with pytest.raises(LinkRefused):
        services.identity_links.unlink(user, UPSTREAM, "idp-user-1")


def test_usernames_of_made_accounts_never_take_an_existing_one(
    services: Components, provider: FakeProvider, app: str
) -> None:
    services.user_directory.create("corp.ann", "someone else entirely", {})
    declare(services)
    browser = Browser(services)
    sign_in_via_provider(services, provider, browser)
    assert session_of(services, browser).username == "corp.ann-2"


# --- U5: declaring providers ------------------------------------------------------------------


def test_u5_the_client_secret_is_in_the_secret_store_not_the_registry(
    services: Components,
) -> None:
    declare(services)
    (stored,) = services.catalog_store.list(ProviderDefinition)
    assert CLIENT_SECRET not in json.dumps(stored.to_item())
    assert services.provider_secrets.client_secret("corp") == CLIENT_SECRET
    services.provider_admin.delete("corp")
    assert services.provider_secrets.client_secret("corp") is None


@pytest.mark.parametrize(
    "url",
    [
        "http://idp.example.org/.well-known/openid-configuration",  # plain http, not loopback
        "https://idp.example.org/",  # not a discovery document's URL
        "https://user@idp.example.org/.well-known/openid-configuration",
        "https://idp.example.org/.well-known/openid-configuration?x=1",
        "file:///etc/passwd",
    ],
)
def test_u5_unsafe_discovery_urls_are_refused(services: Components, url: str) -> None:
    with pytest.raises(InvalidDefinition):
        declare(services, discovery_url=url)


def test_u5_loopback_providers_are_fetched_only_on_a_local_stack(clock: FixedClock) -> None:
    from oauth_core.config import Settings
    from oauth_core.wiring import memory_components

    deployed = memory_components(Settings(issuer="https://auth.example.com"), clock=clock)
    local = memory_components(Settings(issuer="http://127.0.0.1:8000"), clock=clock)
    loopback = ProviderDefinition(
        "dev", "Dev", "http://127.0.0.1:9/.well-known/openid-configuration", "c"
    )
    with pytest.raises(UpstreamRefused) as refused:
        deployed.upstream.metadata(loopback)
    assert refused.value.reason == "provider_unavailable"
    # What the refusal was: the address (deployed); on the local stack, only that no one answers.
    with pytest.raises(FetchRefused, match="only https"):
        deployed.upstream._fetch(loopback.discovery_url)
    with pytest.raises(FetchRefused, match="could not be fetched"):
        local.upstream._fetch(loopback.discovery_url)


def test_providers_are_declared_with_their_rules(services: Components) -> None:
    with pytest.raises(InvalidDefinition):
        declare(services, scope="email profile")  # no openid
    with pytest.raises(InvalidDefinition):
        declare(services, claim_mapping={"email_verified": "verified"})
    with pytest.raises(InvalidDefinition):
        declare(services, allowed_email_domains=["not a domain"])
    made = declare(services, claim_mapping={"name": "displayName"})
    assert made.issuer == UPSTREAM and dict(made.claim_mapping) == {"name": "displayName"}
    with pytest.raises(InvalidDefinition):
        declare(services, name="corp2")  # the same issuer twice
    updated = services.provider_admin.update("corp", {"jit_create": False}, "a new secret")
    assert not updated.jit_create
    assert services.provider_secrets.client_secret("corp") == "a new secret"


def test_the_claim_mapping_takes_the_providers_names(
    services: Components, provider: FakeProvider, app: str
) -> None:
    declare(services, claim_mapping={"name": "displayName", "email": "mail"})
    provider.claims.update(displayName="Ann D.", mail="ann.d@corp.example")
    browser = Browser(services)
    sign_in_via_provider(services, provider, browser)
    made = services.users.get(session_of(services, browser).username)
    assert made is not None
    # email_verified speaks of the provider's `email`, not of `mail`: not copied.
    assert made.claims == {"name": "Ann D.", "email": "ann.d@corp.example"}


def test_a_provider_that_cannot_be_reached_is_a_page_not_a_500(
    services: Components, provider: FakeProvider, app: str
) -> None:
    declare(services)

    def unreachable(url: str) -> dict[str, Any]:
        raise OSError("no route")

    services.upstream = UpstreamProviders(unreachable, provider.post, provider.clock)
    browser = Browser(services)
    page = browser.get(f"/login?{urlencode({'request_id': request_handle(services)})}")
    (button,) = re.findall(r'<a class="button" href="([^"]+)"', page.body)
    answer = browser.get(unescape(button))
    assert answer.status_code == 503 and "cannot be reached" in answer.body


def test_the_provider_saying_no_is_a_page_with_the_way_back(
    services: Components, provider: FakeProvider, app: str
) -> None:
    declare(services)
    browser = Browser(services)
    at_provider = start(browser, request_handle(services))
    state = query_of(at_provider)["state"]
    answer = browser.get(
        f"{CALLBACK}?{urlencode({'error': 'access_denied', 'state': state, 'iss': UPSTREAM})}"
    )
    assert answer.status_code == 400 and "did not sign you in" in answer.body
    assert "Back to the sign-in page" in answer.body


def test_no_provider_no_button(services: Components, app: str) -> None:
    page = Browser(services).get(f"/login?{urlencode({'request_id': request_handle(services)})}")
    # No provider link (the passkey offer, "Sign in with a passkey", is no provider).
    assert 'aria-label="Other ways to sign in"' not in page.body
    assert "/login/federated" not in page.body


def test_the_login_page_offers_each_provider_as_a_link(
    services: Components, provider: FakeProvider, app: str
) -> None:
    declare(services)
    page = Browser(services).get(f"/login?{urlencode({'request_id': request_handle(services)})}")
    assert page.body.count('class="button"') == 1
    assert 'aria-label="Other ways to sign in"' in page.body


def test_parse_callback_repeated_parameters_are_refused(
    services: Components, provider: FakeProvider, app: str
) -> None:
    from oauth_core.errors import InvalidRequest

    declare(services)
    browser = Browser(services)
    with pytest.raises(InvalidRequest):
        browser.get(f"{CALLBACK}?state=a&state=b")


def test_the_token_request_sends_the_verifier_and_client_secret_basic(
    services: Components, provider: FakeProvider, app: str
) -> None:
    # FakeProvider.post refuses anything else: a sign-in that works proves both.
    declare(services)
    assert location(sign_in_via_provider(services, provider)).startswith(APP_REDIRECT)


# --- M7: a provider's answer is a first factor; the second follows before any session -----------


def with_app(services: Components, username: str, password: str, corp: ProviderDefinition) -> str:
    """A user linked to the provider's identity, with an authenticator app: its secret."""
    from oauth_core.models import SecondFactors
    from oauth_core.rules import totp

    user = services.user_directory.create(username, password, {})
    services.identity_links.link(corp, UPSTREAM, "idp-user-1", user)
    secret = totp.new_secret(services.random)
    services.factors.enrol(SecondFactors(sub=user.sub, totp_secret=secret, enrolled_at=1))
    return secret


def issued(services: Components, answer: HttpResponse) -> Any:
    """The authorization code an answer sent the app."""
    code = query_of(location(answer))["code"]
    return services.grants.get_code(token_hash(code))


def test_m7_a_user_with_an_app_gives_a_code_after_the_provider_before_any_session(
    services: Components, provider: FakeProvider, app: str, clock: FixedClock
) -> None:
    from oauth_core.rules import totp

    secret = with_app(services, "gail", "gail's own password", declare(services, jit_create=False))
    browser = Browser(services)
    step = sign_in_via_provider(services, provider, browser)
    assert step.status_code == 200 and "Two-step verification" in step.body
    assert "Location" not in step.headers
    assert services.flow.cookies.name("session") not in browser.cookies  # no session yet
    assert services.flow.cookies.name("federation") not in browser.cookies
    # The handle is in the page's form only, never in a URL.
    assert "request_id" not in "".join(re.findall(r'href="([^"]*)"', step.body))
    # A wrong code: the step again, still no session.
    again = browser.post("/login/second-factor", {**form_fields(step.body), "code": "000000"})
    assert again.status_code == 200 and "not right" in again.body
    assert services.flow.cookies.name("session") not in browser.cookies
    code = totp.code_at(secret, totp.time_step(clock.now()))
    done = browser.post("/login/second-factor", {**form_fields(again.body), "code": code})
    assert location(done).startswith(f"{APP_REDIRECT}?code=")
    session = session_of(services, browser)
    assert session.amr == ("fed", "otp", "mfa") and session.acr == constants.ACR_MFA
    granted = issued(services, done)
    assert granted.amr == ("fed", "otp", "mfa") and granted.acr == constants.ACR_MFA
    # The mark opens one second factor: the same form once more opens nothing.
    from oauth_core.errors import RequestCompleted

    clock.advance(totp.STEP_SECONDS)
    fresh = totp.code_at(secret, totp.time_step(clock.now()))
    with pytest.raises(RequestCompleted):
        browser.post("/login/second-factor", {**form_fields(again.body), "code": fresh})


def test_m7_a_request_needing_mfa_is_not_met_by_a_provider_sign_in_alone(
    services: Components, provider: FakeProvider, app: str, clock: FixedClock
) -> None:
    from oauth_core.rules import totp
    from tests.unit.second_factor_support import secret_shown

    declare(services)  # accounts made just in time: no app
    browser = Browser(services)
    at_provider = start(browser, request_handle(services, required_acr=constants.ACR_MFA))
    enrol = browser.get(provider.authorize(at_provider))
    assert enrol.status_code == 200 and "Set up an authenticator app" in enrol.body
    assert services.flow.cookies.name("session") not in browser.cookies  # no session yet
    secret = secret_shown(enrol.body)
    code = totp.code_at(secret, totp.time_step(clock.now()))
    saved = browser.post("/login/second-factor", {**form_fields(enrol.body), "code": code})
    assert saved.status_code == 200 and "Save your recovery codes" in saved.body
    session = session_of(services, browser)
    assert session.amr == ("fed", "otp", "mfa") and session.acr == constants.ACR_MFA
    done = browser.post("/login/continue", form_fields(saved.body))
    assert issued(services, done).acr == constants.ACR_MFA


def test_m7_without_an_app_or_a_need_for_more_the_provider_signs_in_alone(
    services: Components, provider: FakeProvider, app: str
) -> None:
    declare(services)
    browser = Browser(services)
    done = sign_in_via_provider(services, provider, browser)
    granted = issued(services, done)
    assert granted.amr == ("fed",) and granted.acr == constants.ACR_PASSWORD
    assert session_of(services, browser).amr == ("fed",)


# --- U6: linking needs a recent sign-in, or the password again ----------------------------------


def test_u6_linking_needs_a_recent_sign_in_or_the_password(
    services: Components,
    provider: FakeProvider,
    app: str,
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = services.user_directory.create("hank", "hank's own password", {})
    declare(services, jit_create=False)
    browser = Browser(services)
    account = browser.get("/account")
    browser.post(
        "/account/login",
        {**form_fields(account.body), "username": "hank", "password": "hank's own password"},
    )
    (recent_form,) = re.findall(
        r'action="/account/federated">(.*?)</form>', browser.get("/account").body
    )
    assert 'name="current_password"' not in recent_form  # just signed in: no password asked
    clock.advance(constants.REAUTHENTICATION_WINDOW + 1)
    page = browser.get("/account")
    (link_form,) = re.findall(r'action="/account/federated">(.*?)</form>', page.body)
    assert 'name="current_password"' in link_form and 'autocomplete="current-password"' in link_form
    assert "type your password too" in page.body
    capsys.readouterr()
    for typed in ("", "not hank's password"):
        refused = browser.post(
            "/account/federated", {**form_fields(link_form), "current_password": typed}
        )
        assert location(refused) == "/account?done=link_password#providers"
        assert services.flow.cookies.name("federation") not in browser.cookies  # not begun
    failures = [line for line in capsys.readouterr().out.splitlines() if "signin.failure" in line]
    assert len(failures) == 2  # counted as a sign-in's failures are
    assert "no provider was linked" in browser.get("/account?done=link_password").body
    at_provider = location(
        browser.post(
            "/account/federated",
            {**form_fields(link_form), "current_password": "hank's own password"},
        )
    )
    assert location(browser.get(provider.authorize(at_provider))) == "/account?done=linked"
    assert [link.username for link in services.links.links_of(user.sub)] == ["hank"]
