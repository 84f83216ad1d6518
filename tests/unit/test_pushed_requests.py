"""Pushed authorization requests (RFC 9126), in memory: /par validates as /authorize does and
keeps the request under the hash of its reference; /authorize takes it once, only for the client
that pushed it, within 60 s; a client or stack that requires pushed requests sends no other."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlencode

import pytest

from oauth_core import constants
from oauth_core.clock import FixedClock
from oauth_core.config import Settings
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.models import PendingAuthorization
from oauth_core.rules.hashing import token_hash
from oauth_core.storage.memory import MemoryGrantStore
from oauth_core.wiring import Components, authorize_endpoints, memory_components, token_endpoints
from tests.support import DOMAIN, ISSUER, basic, form_request, pkce_pair, query_of, respond

WEB, SPA, OTHER = "web", "spa", "other"
WEB_REDIRECT = "https://web.example.com/callback"
SPA_REDIRECT = "https://spa.example.com/callback"
PREFIX = "urn:ietf:params:oauth:request_uri:"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def build(clock: FixedClock, **settings: Any) -> tuple[Components, dict[str, str]]:
    services = memory_components(Settings(issuer=ISSUER, **settings), clock=clock)
    secrets = {}
    for client_id, public, redirect in (
        (WEB, False, WEB_REDIRECT),
        (SPA, True, SPA_REDIRECT),
        (OTHER, False, "https://other.example.com/callback"),
    ):
        made = services.registry.create(
            {
                "client_id": client_id,
                "token_endpoint_auth_method": "none" if public else "client_secret_basic",
                "grant_types": ["authorization_code", "refresh_token"],
                "redirect_uris": [redirect],
                "scope": "openid profile read:data",
            }
        )
        secrets[client_id] = made.client_secret or ""
    return services, secrets


@pytest.fixture
def world(clock: FixedClock) -> tuple[Components, dict[str, str]]:
    return build(clock)


def authorization(client_id: str = WEB, **extra: str) -> dict[str, str]:
    return {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": WEB_REDIRECT if client_id == WEB else SPA_REDIRECT,
        "scope": "openid read:data",
        "state": "pushed-state",
        "nonce": "pushed-nonce",
        "code_challenge": pkce_pair()[1],
        "code_challenge_method": "S256",
        **extra,
    }


def push(
    services: Components,
    secrets: dict[str, str],
    params: dict[str, str],
    *,
    as_client: str | None = None,
) -> HttpResponse:
    as_client = as_client or params.get("client_id") or WEB
    headers = {}
    if secrets.get(as_client):
        headers["authorization"] = basic(as_client, secrets[as_client])
    request = form_request(params, path="/par", headers=headers)
    return respond(token_endpoints(services)["par"], request)


def authorize(services: Components, **query: str) -> HttpResponse:
    request = HttpRequest(
        "GET", "/authorize", raw_query=urlencode(query), domain_name=DOMAIN, request_id="r-1"
    )
    return authorize_endpoints(services)["authorize"](request)


def pending_of(services: Components, response: HttpResponse) -> PendingAuthorization:
    assert response.status_code == 303, response.body
    location = response.headers["Location"]
    assert location.startswith("/login?"), location
    pending = services.sealer.open(query_of(location)["request_id"])
    assert pending is not None
    return pending


def refused_page(response: HttpResponse) -> bool:
    return response.status_code == 400 and "Location" not in response.headers


# --- /par -----------------------------------------------------------------------------------


def test_a18_a_pushed_request_gets_a_request_uri_for_60_seconds_kept_only_as_a_hash(
    world: tuple[Components, dict[str, str]],
) -> None:
    services, secrets = world
    response = push(services, secrets, authorization())
    assert response.status_code == 201, response.body
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    body = response.json()
    assert body["expires_in"] == 60
    assert body["request_uri"].startswith(PREFIX)
    reference = body["request_uri"].removeprefix(PREFIX)
    assert len(reference) >= 43
    grants = services.grants
    assert isinstance(grants, MemoryGrantStore)
    assert list(grants.pushed_requests) == [token_hash(reference)]
    stored = grants.pushed_requests[token_hash(reference)]
    assert stored.client_id == WEB and stored.expires_at == services.clock.now() + 60
    assert reference not in repr(stored)


def test_client_credentials_are_not_kept_with_the_request(
    world: tuple[Components, dict[str, str]],
) -> None:
    services, secrets = world
    params = {**authorization(), "client_secret": secrets[WEB]}
    request = form_request(params, path="/par")
    response = respond(token_endpoints(services)["par"], request)
    assert response.status_code == 401  # web authenticates with Basic: the method is its own
    secrets_post = services.registry.create(
        {
            "client_id": "post",
            "token_endpoint_auth_method": "client_secret_post",
            "redirect_uris": [WEB_REDIRECT],
            "scope": "openid",
        }
    ).client_secret
    assert secrets_post
    params = {**authorization(), "client_id": "post", "scope": "openid"}
    request = form_request({**params, "client_secret": secrets_post}, path="/par")
    response = respond(token_endpoints(services)["par"], request)
    assert response.status_code == 201, response.body
    grants = services.grants
    assert isinstance(grants, MemoryGrantStore)
    (stored,) = grants.pushed_requests.values()
    assert "client_secret" not in stored.parameters
    assert secrets_post not in repr(stored)


def test_a_public_client_pushes_with_its_client_id(
    world: tuple[Components, dict[str, str]],
) -> None:
    services, secrets = world
    response = push(services, secrets, authorization(SPA))
    assert response.status_code == 201, response.body


def test_a20_par_validates_as_authorize_does(world: tuple[Components, dict[str, str]]) -> None:
    services, secrets = world
    cases = {
        "invalid_request": [
            {"redirect_uri": "https://evil.example.com/callback"},
            {"code_challenge": ""},
            {"code_challenge_method": "plain"},
            {"prompt": "none login"},
            {"max_age": "soon"},
            {"response_mode": "fragment"},
            {"state": "caf\u00e9"},
        ],
        "unsupported_response_type": [{"response_type": "token"}],
        "invalid_scope": [{"scope": "openid admin"}],
        "invalid_target": [{"resource": "https://unknown.example.com"}],
    }
    for error, overrides in cases.items():
        for override in overrides:
            response = push(services, secrets, {**authorization(), **override})
            assert response.status_code == 400, (override, response.body)
            assert response.json()["error"] == error, (override, response.body)
            assert response.headers["Cache-Control"] == "no-store"
    refused = push(services, secrets, authorization(redirect_uri="https://evil.example.com/cb"))
    assert refused.json()["error_description"] == (
        "The redirect_uri is not registered for this application."
    )
    grants = services.grants
    assert isinstance(grants, MemoryGrantStore) and not grants.pushed_requests


def test_request_uri_and_request_objects_cannot_be_pushed(
    world: tuple[Components, dict[str, str]],
) -> None:
    services, secrets = world
    for extra in ({"request_uri": PREFIX + "x" * 43}, {"request": "e30.e30.sig"}):
        response = push(services, secrets, {**authorization(), **extra})
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


def test_client_id_must_be_the_authenticated_clients(
    world: tuple[Components, dict[str, str]],
) -> None:
    services, secrets = world
    mismatched = push(services, secrets, authorization(OTHER), as_client=WEB)
    assert mismatched.status_code == 400 and mismatched.json()["error"] == "invalid_request"
    params = authorization()
    del params["client_id"]
    missing = push(services, secrets, params, as_client=WEB)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    wrong = push(services, {WEB: "not-the-secret-0123456789abcdef"}, authorization())
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"


def test_par_takes_only_a_form_post(world: tuple[Components, dict[str, str]]) -> None:
    services, secrets = world
    headers = {"authorization": basic(WEB, secrets[WEB])}
    endpoint = token_endpoints(services)["par"]
    for request in (
        form_request(authorization(), path="/par", headers=headers, method="GET"),
        form_request(urlencode(authorization()), path="/par", headers=headers, query="a=b"),
        form_request("{}", path="/par", headers=headers, content_type="application/json"),
    ):
        response = respond(endpoint, request)
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    big = form_request({**authorization(), "x": "y" * 17_000}, path="/par", headers=headers)
    assert respond(endpoint, big).status_code == 413


# --- /authorize with a request_uri ------------------------------------------------------------


def pushed_uri(services: Components, secrets: dict[str, str], **extra: str) -> str:
    response = push(services, secrets, authorization(**extra))
    assert response.status_code == 201, response.body
    return str(response.json()["request_uri"])


def test_the_pushed_request_continues_as_a_front_channel_one_and_other_parameters_are_ignored(
    world: tuple[Components, dict[str, str]],
) -> None:
    services, secrets = world
    uri = pushed_uri(services, secrets, resource=f"{ISSUER}/resource")
    response = authorize(
        services,
        client_id=WEB,
        request_uri=uri,
        state="from-the-query",
        redirect_uri="https://evil.example.com/callback",
        scope="openid profile",
    )
    pending = pending_of(services, response)
    assert (pending.client_id, pending.redirect_uri) == (WEB, WEB_REDIRECT)
    assert (pending.state, pending.nonce, pending.scope) == (
        "pushed-state",
        "pushed-nonce",
        "openid read:data",
    )
    assert pending.resource == f"{ISSUER}/resource"


def test_a18_a_request_uri_is_used_once(world: tuple[Components, dict[str, str]]) -> None:
    services, secrets = world
    uri = pushed_uri(services, secrets)
    pending_of(services, authorize(services, client_id=WEB, request_uri=uri))
    assert refused_page(authorize(services, client_id=WEB, request_uri=uri))


def test_a18_a_request_uri_expires_after_60_seconds(
    world: tuple[Components, dict[str, str]], clock: FixedClock
) -> None:
    services, secrets = world
    fresh, stale = pushed_uri(services, secrets), pushed_uri(services, secrets)
    clock.advance(59)
    pending_of(services, authorize(services, client_id=WEB, request_uri=fresh))
    clock.advance(1)
    assert refused_page(authorize(services, client_id=WEB, request_uri=stale))


def test_a19_a_request_uri_pushed_by_one_client_is_refused_with_another_client_id(
    world: tuple[Components, dict[str, str]],
) -> None:
    services, secrets = world
    uri = pushed_uri(services, secrets)
    for client_id in (OTHER, SPA, "unknown"):
        assert refused_page(authorize(services, client_id=client_id, request_uri=uri))
    assert refused_page(authorize(services, request_uri=uri))
    # Refused, not spent: the client that pushed it still can use it.
    pending_of(services, authorize(services, client_id=WEB, request_uri=uri))


def test_a19_a_client_registered_anew_cannot_use_its_predecessors_request(
    world: tuple[Components, dict[str, str]],
) -> None:
    services, secrets = world
    uri = pushed_uri(services, secrets)
    client = services.clients.get(WEB)
    assert client is not None
    services.clients.put(dataclasses.replace(client, registration_id="another-registration"))
    assert refused_page(authorize(services, client_id=WEB, request_uri=uri))


def test_a_pushed_request_is_checked_again_when_used(
    world: tuple[Components, dict[str, str]],
) -> None:
    """RFC 9126 7.4: the client's registration may have changed since it pushed."""
    services, secrets = world
    uri = pushed_uri(services, secrets)
    client = services.clients.get(WEB)
    assert client is not None
    services.clients.put(dataclasses.replace(client, redirect_uris=("https://web.example.com/b",)))
    assert refused_page(authorize(services, client_id=WEB, request_uri=uri))
    uri = pushed_uri(services, secrets, redirect_uri="https://web.example.com/b")
    narrowed = dataclasses.replace(
        client, scope="profile", redirect_uris=("https://web.example.com/b",)
    )
    services.clients.put(narrowed)
    response = authorize(services, client_id=WEB, request_uri=uri)
    assert response.status_code == 303
    answer = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith("https://web.example.com/b?")
    assert (answer["error"], answer["state"], answer["iss"]) == (
        "invalid_scope",
        "pushed-state",
        ISSUER,
    )


@pytest.mark.parametrize(
    "request_uri",
    [
        "https://web.example.com/request.jwt",
        "urn:example:abc",
        PREFIX + "not/a/reference",
        PREFIX + "x" * 43,
        "",
    ],
)
def test_any_other_request_uri_is_an_error_page(
    world: tuple[Components, dict[str, str]], request_uri: str
) -> None:
    services, _ = world
    assert refused_page(authorize(services, client_id=WEB, request_uri=request_uri))


def test_a_repeated_request_uri_is_an_error_page(
    world: tuple[Components, dict[str, str]],
) -> None:
    services, secrets = world
    uri = pushed_uri(services, secrets)
    request = HttpRequest(
        "GET",
        "/authorize",
        raw_query=urlencode([("client_id", WEB), ("request_uri", uri), ("request_uri", uri)]),
        domain_name=DOMAIN,
    )
    assert refused_page(authorize_endpoints(services)["authorize"](request))


def test_a_request_object_at_authorize_is_request_not_supported(
    world: tuple[Components, dict[str, str]],
) -> None:
    services, _ = world
    response = authorize(services, **authorization(), request="e30.e30.sig")
    assert response.status_code == 303
    answer = query_of(response.headers["Location"])
    assert answer["error"] == "request_not_supported" and answer["state"] == "pushed-state"


# --- requiring pushed requests ----------------------------------------------------------------


def test_a20_a_client_that_requires_pushed_requests_cannot_send_a_front_channel_one(
    world: tuple[Components, dict[str, str]],
) -> None:
    services, secrets = world
    client = services.clients.get(WEB)
    assert client is not None
    services.clients.put(dataclasses.replace(client, require_pushed_authorization_requests=True))
    response = authorize(services, **authorization())
    assert response.status_code == 303
    assert response.headers["Location"].startswith(WEB_REDIRECT + "?")
    answer = query_of(response.headers["Location"])
    assert (answer["error"], answer["state"], answer["iss"]) == (
        "invalid_request",
        "pushed-state",
        ISSUER,
    )
    assert "code" not in answer
    # Others are not affected; the client itself goes through /par.
    pending_of(services, authorize(services, **authorization(SPA)))
    uri = pushed_uri(services, secrets)
    pending_of(services, authorize(services, client_id=WEB, request_uri=uri))


def test_a20_a_stack_that_requires_pushed_requests_takes_no_front_channel_request(
    clock: FixedClock,
) -> None:
    services, secrets = build(clock, require_pushed_authorization_requests=True)
    for client_id in (WEB, SPA):
        response = authorize(services, **authorization(client_id))
        assert query_of(response.headers["Location"])["error"] == "invalid_request"
        uri = push(services, secrets, authorization(client_id)).json()["request_uri"]
        pending_of(services, authorize(services, client_id=client_id, request_uri=uri))
    # An unverified client or redirect URI is still an error page, never a redirect.
    unverified = authorization(redirect_uri="https://evil.example.com/callback")
    assert refused_page(authorize(services, **unverified))


def test_the_stack_setting_reads_from_the_environment() -> None:
    variable = constants.ENV_REQUIRE_PUSHED_REQUESTS
    assert not Settings.from_env({}).require_pushed_authorization_requests
    assert Settings.from_env({variable: "on"}).require_pushed_authorization_requests
    assert Settings.from_env({variable: "true"}).require_pushed_authorization_requests
    assert not Settings.from_env({variable: "off"}).require_pushed_authorization_requests
    with pytest.raises(ValueError, match=variable):
        Settings.from_env({variable: "maybe"})


@pytest.mark.parametrize("required", [False, True])
def test_metadata_names_the_endpoint_and_the_stacks_policy(
    clock: FixedClock, required: bool
) -> None:
    services, _ = build(clock, require_pushed_authorization_requests=required)
    endpoints = token_endpoints(services)
    for name in ("metadata", "openid_configuration"):
        request = HttpRequest("GET", "/.well-known/x", domain_name=DOMAIN)
        document = endpoints[name](request).json()
        assert document["pushed_authorization_request_endpoint"] == f"{ISSUER}/par"
        assert document["require_pushed_authorization_requests"] is required
    oidc = endpoints["openid_configuration"](HttpRequest("GET", "/", domain_name=DOMAIN)).json()
    # RFC 9126 5: pushed request_uris work regardless; no other request_uri is taken.
    assert oidc["request_uri_parameter_supported"] is False
    assert oidc["request_parameter_supported"] is False


# --- what a push may cost ---------------------------------------------------------------------


def test_a18_only_the_parameters_authorize_reads_are_kept(
    world: tuple[Components, dict[str, str]],
) -> None:
    services, secrets = world
    response = push(services, secrets, {**authorization(), "padding": "x" * 2000, "ui": "dark"})
    assert response.status_code == 201, response.body
    grants = services.grants
    assert isinstance(grants, MemoryGrantStore)
    (stored,) = grants.pushed_requests.values()
    assert set(stored.parameters) == set(authorization())


def test_a18_a_public_clients_pushes_are_counted_per_source(clock: FixedClock) -> None:
    """Anyone may push for a public client (it has no secret): a source's pushes are limited,
    so no one can fill the grants table. A confidential client's are not counted."""
    services, secrets = build(clock, public_pushes_per_source=2)
    for _ in range(2):
        assert push(services, secrets, authorization(SPA)).status_code == 201
    refused = push(services, secrets, authorization(SPA))
    assert refused.status_code == 429, refused.body
    assert refused.json()["error"] == "temporarily_unavailable"
    assert int(refused.headers["Retry-After"]) > 0
    for _ in range(3):
        assert push(services, secrets, authorization()).status_code == 201
    clock.advance(1800)  # half the window: one push drained
    assert push(services, secrets, authorization(SPA)).status_code == 201
