"""SECURITY.md rows A1-A10 and B1-B3, B7: the authorization endpoint, over HTTP."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import (
    SPA,
    SPA_REDIRECT,
    Browser,
    authorize_params,
    get_code,
    pkce_pair,
    query_of,
)


def assert_error_page(response: requests.Response) -> None:
    assert response.status_code == 400, response.text
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")


def error_redirect(response: requests.Response, error: str, state: str | None) -> dict[str, str]:
    assert response.status_code in (302, 303), response.text
    location = response.headers["Location"]
    assert location.startswith(SPA_REDIRECT)
    query = query_of(location)
    assert query["error"] == error
    assert "code" not in query
    assert query.get("state") == state
    return query


def challenge() -> str:
    return pkce_pair()[1]


@pytest.mark.parametrize("client_id", [None, "", "no-such-client"])
def test_a1_unknown_or_missing_client_is_an_error_page(
    stack: LocalStack, client_id: str | None
) -> None:
    params = authorize_params(challenge=challenge(), client_id=client_id)
    assert_error_page(Browser(stack).authorize(**params))


@pytest.mark.parametrize(
    "variant",
    [
        "http://127.0.0.1:8401/Callback",
        "http://127.0.0.1:8401/callback/",
        "http://127.0.0.1:8401/callback?x=1",
        "http://127.0.0.1:8401/callback#frag",
        "http://127.0.0.1:8401/x/../callback",
        "http://user@127.0.0.1:8401/callback",
        "http://127.0.0.1.evil.com:8401/callback",
        "https://127.0.0.1:8401/callback",
        "http://127.0.0.1:8401/callback%2F",
        "http://LOCALHOST:8401/callback",
        "http://localhost:8401/callback/",
        "https://evil.example.com/callback",
    ],
)
def test_a2_redirect_uri_must_match_exactly(stack: LocalStack, variant: str) -> None:
    params = authorize_params(challenge=challenge(), redirect_uri=variant)
    assert_error_page(Browser(stack).authorize(**params))


@pytest.fixture(scope="module")
def native_app(stack: LocalStack) -> str:
    """A native app with one registered loopback redirect URI."""
    from oauthctl.admin import Admin

    Admin.connect(endpoint_url=stack.aws_endpoint).clients().create(
        {
            "client_id": "native-app",
            "application_type": "native",
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"],
            "redirect_uris": ["http://127.0.0.1/callback"],
            "scope": "read:data",
            "first_party": True,
        },
        replace=True,
    )
    return "native-app"


def test_a2_loopback_port_may_differ_for_native_clients(stack: LocalStack, native_app: str) -> None:
    result = get_code(
        stack,
        client_id="native-app",
        redirect_uri="http://127.0.0.1:53117/callback",
        scope="read:data",
    )
    assert result.query["iss"] == stack.issuer


def test_a3_missing_redirect_uri_with_several_registered_is_an_error_page(
    stack: LocalStack,
) -> None:
    params = authorize_params(challenge=challenge(), redirect_uri=None)
    assert_error_page(Browser(stack).authorize(**params))


def test_a3_missing_redirect_uri_with_one_registered_uses_it(
    stack: LocalStack, native_app: str
) -> None:
    params = authorize_params(
        client_id="native-app",
        challenge=challenge(),
        redirect_uri=None,
        scope="read:data",
    )
    response = Browser(stack).authorize(**params)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "code id_token"}, "unsupported_response_type"),
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"scope": 'bad"scope'}, "invalid_scope"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"prompt": "select_account"}, "invalid_request"),
        ({"max_age": "-1"}, "invalid_request"),
        ({"prompt": "none"}, "login_required"),
    ],
)
def test_a4_faults_after_verification_redirect_with_error_state_and_iss(
    stack: LocalStack, overrides: dict[str, str | None], error: str
) -> None:
    params = authorize_params(challenge=challenge(), **overrides)  # type: ignore[arg-type]
    query = error_redirect(Browser(stack).authorize(**params), error, params["state"])
    assert query["iss"] == stack.issuer


def test_a4_client_not_registered_for_code_flow_is_unauthorized_client(stack: LocalStack) -> None:
    from oauthctl.admin import Admin

    Admin.connect(endpoint_url=stack.aws_endpoint).clients().create(
        {
            "client_id": "cc-with-uri",
            "grant_types": ["client_credentials"],
            "redirect_uris": [SPA_REDIRECT],
            "scope": "read:data",
        },
        replace=True,
    )
    params = authorize_params(client_id="cc-with-uri", challenge=challenge(), scope="read:data")
    error_redirect(Browser(stack).authorize(**params), "unauthorized_client", params["state"])


def test_a4_client_and_redirect_uri_are_checked_before_anything_else(stack: LocalStack) -> None:
    # Everything else is wrong too, but the unverified redirect URI wins: an error page.
    response = Browser(stack).authorize(
        client_id=SPA,
        redirect_uri="https://evil.example.com/cb",
        response_type="token",
        scope="nope!",
    )
    assert_error_page(response)


@pytest.mark.parametrize(
    "state",
    [
        "a",
        "with spaces & ampersands = equals",
        "%41%2F+plus",
        "x" * 2000,
        "\"'<>{}|\\^`",
    ],
)
def test_a5_state_comes_back_byte_for_byte(stack: LocalStack, state: str) -> None:
    result = get_code(stack, state=state)
    assert result.query["state"] == state


def test_a5_no_state_in_no_state_out(stack: LocalStack) -> None:
    _, challenge_value = pkce_pair()
    browser = Browser(stack)
    params = authorize_params(challenge=challenge_value)
    del params["state"]
    final = browser.until_client(browser.authorize(**params))
    query = query_of(final.headers["Location"])
    assert "code" in query
    assert "state" not in query
    error = browser.authorize(**{**params, "response_type": "token"})
    assert "state" not in query_of(error.headers["Location"])


def test_a6_every_response_carries_iss_equal_to_metadata_issuer(stack: LocalStack) -> None:
    metadata = requests.get(
        f"{stack.issuer}/.well-known/oauth-authorization-server", timeout=5
    ).json()
    assert metadata["authorization_response_iss_parameter_supported"] is True
    success = get_code(stack)
    assert success.query["iss"] == metadata["issuer"]
    params = authorize_params(challenge=challenge(), response_type="token")
    failure = query_of(Browser(stack).authorize(**params).headers["Location"])
    assert failure["iss"] == metadata["issuer"]


def test_a7_unknown_parameters_are_ignored_and_scope_order_does_not_matter(
    stack: LocalStack,
) -> None:
    result = get_code(stack, scope="read:data profile openid", foo="bar", claims_locales="fr")
    assert "code" in result.query


def test_a7_repeated_parameter_is_invalid_request(stack: LocalStack) -> None:
    params = [*authorize_params(challenge=challenge()).items(), ("scope", "openid")]
    response = Browser(stack).get("/authorize", params=params)
    error_redirect(response, "invalid_request", dict(params)["state"])


def test_a7_repeated_client_id_or_redirect_uri_is_an_error_page(stack: LocalStack) -> None:
    base = list(authorize_params(challenge=challenge()).items())
    assert_error_page(Browser(stack).get("/authorize", params=[*base, ("client_id", SPA)]))
    assert_error_page(
        Browser(stack).get("/authorize", params=[*base, ("redirect_uri", SPA_REDIRECT)])
    )


def test_a8_user_denies_consent_gives_access_denied(stack: LocalStack) -> None:
    browser = Browser(stack)
    params = authorize_params(challenge=challenge(), prompt="consent")
    response = browser.authorize(**params)
    while response.headers["Location"].startswith("/login"):
        response = browser.sign_in(response.headers["Location"])
    assert response.headers["Location"].startswith("/consent")
    denied = browser.decide(response.headers["Location"], "deny")
    query = error_redirect(denied, "access_denied", params["state"])
    assert query["iss"] == stack.issuer


@pytest.mark.parametrize("mode", ["fragment", "form_post", "web_message", "query.jwt"])
def test_a9_only_query_response_mode_and_others_refused_before_redirect(
    stack: LocalStack, mode: str
) -> None:
    params = authorize_params(challenge=challenge(), response_mode=mode)
    assert_error_page(Browser(stack).authorize(**params))


def test_a9_explicit_query_mode_works(stack: LocalStack) -> None:
    assert "code" in get_code(stack, response_mode="query").query


def test_b1_missing_code_challenge_is_invalid_request(stack: LocalStack) -> None:
    params = authorize_params()
    error_redirect(Browser(stack).authorize(**params), "invalid_request", params["state"])


@pytest.mark.parametrize("method", ["plain", None, "s256", "S512"])
def test_b2_only_s256(stack: LocalStack, method: str | None) -> None:
    # None: authorize_params leaves the method out altogether.
    params = authorize_params(challenge=challenge(), code_challenge_method=method)  # type: ignore[arg-type]
    assert params.get("code_challenge_method") == method
    error_redirect(Browser(stack).authorize(**params), "invalid_request", params["state"])


@pytest.mark.parametrize(
    "bad", ["short", "x" * 42, "x" * 44, "+" * 43, "a" * 42 + "=", "a" * 128, "é" * 43]
)
def test_b3_challenge_must_be_43_base64url_characters(stack: LocalStack, bad: str) -> None:
    params = authorize_params(challenge=bad)
    error_redirect(Browser(stack).authorize(**params), "invalid_request", params["state"])


def test_b7_metadata_lists_exactly_s256(stack: LocalStack) -> None:
    for document in ("oauth-authorization-server", "openid-configuration"):
        metadata = requests.get(f"{stack.issuer}/.well-known/{document}", timeout=5).json()
        assert metadata["code_challenge_methods_supported"] == ["S256"]


@pytest.mark.parametrize("port", ["9999", "0", "99999", "08400", "8401 "])
def test_a2_loopback_port_of_a_web_client_must_match_exactly(stack: LocalStack, port: str) -> None:
    """The first-party web client is not a native app: its loopback URI is compared exactly."""
    params = authorize_params(
        "demo-web", f"http://127.0.0.1:{port}/callback", challenge(), scope="openid"
    )
    assert_error_page(Browser(stack).authorize(**params))


@pytest.mark.parametrize("port", ["0", "99999", "65536", "08400"])
def test_a2_native_apps_get_no_port_outside_1_to_65535_or_with_a_leading_zero(
    stack: LocalStack, native_app: str, port: str
) -> None:
    params = authorize_params(
        "native-app", f"http://127.0.0.1:{port}/callback", challenge(), scope="read:data"
    )
    assert_error_page(Browser(stack).authorize(**params))


def test_a2_registration_refuses_bad_ports_and_unknown_application_types(
    stack: LocalStack,
) -> None:
    from oauth_core.admin.registry import InvalidClientMetadata
    from oauthctl.admin import Admin

    clients = Admin.connect(endpoint_url=stack.aws_endpoint).clients()
    base = {"client_id": "a2-bad", "token_endpoint_auth_method": "none", "scope": "read:data"}
    for metadata in (
        {**base, "redirect_uris": ["http://127.0.0.1:08400/cb"]},
        {**base, "redirect_uris": ["http://127.0.0.1:0/cb"]},
        {**base, "redirect_uris": ["http://127.0.0.1/cb"], "application_type": "desktop"},
    ):
        with pytest.raises(InvalidClientMetadata):
            clients.create(metadata)
