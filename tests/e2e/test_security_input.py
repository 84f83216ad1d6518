"""SECURITY.md rows A11 and A12: what callers send never comes back in an error description,
and no input reaches a 5xx."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import SPA_REDIRECT, Browser, authorize_params, pkce_pair, query_of

# RFC 6749: error_description is %x20-21 / %x23-5B / %x5D-7E (no '"' and no '\').
DESCRIPTION = re.compile(r"^[\x20\x21\x23-\x5b\x5d-\x7e]*$")
PROBE = '"><img src=x onerror=alert(7)>'


def assert_fixed_description(description: str) -> None:
    assert DESCRIPTION.match(description), description
    for fragment in ("onerror", "alert", "<img", 'a"b', "'a"):
        assert fragment not in description


def service_auth(stack: LocalStack) -> tuple[str, str]:
    return ("demo-service", stack.client_secret("demo-service"))


@pytest.mark.parametrize(
    "body",
    [
        {"grant_type": 'a"b'},
        {"grant_type": PROBE},
        {"grant_type": "client_credentials", "scope": PROBE},
        [("grant_type", "client_credentials"), (PROBE, "1"), (PROBE, "2")],
    ],
)
def test_a11_token_errors_never_echo_caller_input(
    stack: LocalStack, body: dict[str, str] | list[tuple[str, str]]
) -> None:
    response = requests.post(
        f"{stack.issuer}/token", data=body, auth=service_auth(stack), timeout=10
    )
    assert response.status_code == 400
    assert_fixed_description(response.json().get("error_description", ""))


@pytest.mark.parametrize("path", ["/revoke", "/introspect"])
def test_a11_token_operation_errors_never_echo_caller_input(stack: LocalStack, path: str) -> None:
    body = [("token", "x"), (PROBE, "1"), (PROBE, "2")]
    response = requests.post(
        f"{stack.issuer}{path}", data=body, auth=service_auth(stack), timeout=10
    )
    assert response.status_code == 400
    assert_fixed_description(response.json().get("error_description", ""))


def test_a11_authorization_errors_never_echo_caller_input(stack: LocalStack) -> None:
    params = authorize_params(challenge=pkce_pair()[1])
    query = urlencode(params) + "&" + urlencode([(PROBE, "1"), (PROBE, "2")])
    response = Browser(stack).get(f"/authorize?{query}")
    location = response.headers["Location"]
    assert location.startswith(SPA_REDIRECT)
    assert "onerror" not in location
    answer = query_of(location)
    assert answer["error"] == "invalid_request"
    assert_fixed_description(answer["error_description"])


def test_a11_resource_errors_never_echo_caller_input(stack: LocalStack) -> None:
    response = requests.get(
        f"{stack.issuer}/resource", headers={"Authorization": f"Bearer {PROBE}"}, timeout=10
    )
    assert response.status_code in (400, 401)
    assert "onerror" not in response.headers["WWW-Authenticate"]
    assert_fixed_description(response.json().get("error_description", ""))


@pytest.mark.parametrize("max_age", ["\u00b2", "\u2460", "\u0661\u0662", "1e3", " 5", "-0"])
def test_a12_max_age_that_is_not_ascii_digits_is_invalid_request(
    stack: LocalStack, max_age: str
) -> None:
    params = authorize_params(challenge=pkce_pair()[1], max_age=max_age)
    response = Browser(stack).authorize(**params)
    assert response.status_code == 303
    assert query_of(response.headers["Location"])["error"] == "invalid_request"


def test_a12_too_many_parameters_is_an_error_page_not_a_500(stack: LocalStack) -> None:
    params = authorize_params(challenge=pkce_pair()[1])
    query = urlencode(params) + "&" + "&".join(f"p{i}=1" for i in range(70))
    response = Browser(stack).get(f"/authorize?{query}")
    assert response.status_code == 400
    assert "Location" not in response.headers


@pytest.mark.parametrize("raw_state", ["%FF%FE", "ok%C3", "%ED%A0%80"])
def test_a12_non_utf8_percent_encodings_are_refused_not_replaced(
    stack: LocalStack, raw_state: str
) -> None:
    params = authorize_params(challenge=pkce_pair()[1])
    del params["state"]
    response = Browser(stack).get(f"/authorize?{urlencode(params)}&state={raw_state}")
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "\ufffd" not in response.text


@pytest.mark.parametrize("name", ["state", "nonce"])
@pytest.mark.parametrize("value", ["\u00fcn\u00efc\u00f8d\u00e9", "tab\there", "line\nbreak"])
def test_a12_state_and_nonce_accept_only_visible_ascii(
    stack: LocalStack, name: str, value: str
) -> None:
    params = authorize_params(challenge=pkce_pair()[1], **{name: value})
    response = Browser(stack).authorize(**params)
    assert response.status_code == 303
    answer = query_of(response.headers["Location"])
    assert answer["error"] == "invalid_request"
    if name == "state":
        assert "state" not in answer  # a state that is not VSCHAR is never echoed
    else:
        assert answer["state"] == params["state"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/token", b"grant_type=client_credentials&scope=%FF"),
        ("/token", b"\xff\xfe=\x00"),
        ("/revoke", b"token=%FF%FF"),
        ("/introspect", b"token=" + b"%C3" * 10),
    ],
)
def test_a12_non_utf8_bodies_are_json_errors_not_500s(
    stack: LocalStack, path: str, body: bytes
) -> None:
    response = requests.post(
        f"{stack.issuer}{path}",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=service_auth(stack),
        timeout=10,
    )
    assert 400 <= response.status_code < 500
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "query",
    ["request_id=%FF", "request_id=" + "A" * 9000, "request_id=x&request_id=y", "%zz=1"],
)
@pytest.mark.parametrize("page", ["/login", "/consent"])
def test_a12_pages_answer_bad_input_with_error_pages(
    stack: LocalStack, page: str, query: str
) -> None:
    response = Browser(stack).get(f"{page}?{query}")
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")
