"""Dynamic client registration over HTTP (RFC 7591, RFC 7592; SECURITY A16): open registration
makes only public PKCE clients with https or loopback redirect URIs and allow-listed scopes,
replaces what it cannot honour and says so, refuses the unsafe, counts registrations per
source, and lets only the holder of the registration access token read or delete one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.e2e.conftest import LocalStack, local_stack
from tests.e2e.flows import get_code, session_from
from tests.e2e.test_security_client_credentials import oauthctl

LOOPBACK = "http://127.0.0.1:8765/callback"


def register(
    stack: LocalStack, metadata: dict[str, Any], http: Any = requests
) -> requests.Response:
    answer: requests.Response = http.post(f"{stack.issuer}/register", json=metadata, timeout=10)
    return answer


def test_a16_the_metadata_names_the_registration_endpoint(stack: LocalStack) -> None:
    metadata = requests.get(f"{stack.issuer}/.well-known/oauth-authorization-server", timeout=10)
    assert metadata.json()["registration_endpoint"] == f"{stack.issuer}/register"


def test_a16_a_registered_public_client_runs_the_code_flow(stack: LocalStack) -> None:
    answer = register(
        stack,
        {
            "client_name": "An MCP client",
            "redirect_uris": [LOOPBACK],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "client_secret_basic",  # replaced: no secrets
            "scope": "openid profile read:data admin:everything",
            "logo_uri": "https://example.com/logo.png",  # unknown here: ignored
        },
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert answer.headers["cache-control"] == "no-store"
    assert body["client_id"].startswith("dyn.") and "client_secret" not in body
    assert body["token_endpoint_auth_method"] == "none"
    assert body["application_type"] == "native"
    assert body["scope"] == "openid profile"  # only the allow-list
    assert body["registration_access_token"] and body["client_id_issued_at"] > 0
    code = get_code(stack, client_id=body["client_id"], redirect_uri=LOOPBACK, scope="openid")
    tokens = requests.post(
        f"{stack.issuer}/token",
        data={"grant_type": "authorization_code", "code": code.code, "redirect_uri": LOOPBACK,
              "code_verifier": code.verifier, "client_id": body["client_id"]},
        timeout=10,
    )  # fmt: skip
    assert tokens.status_code == 200, tokens.text
    assert "id_token" in tokens.json()


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"redirect_uris": ["http://app.example.com/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["com.example.app:/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://app.example.com/cb#frag"]}, "invalid_redirect_uri"),
        ({"redirect_uris": [LOOPBACK, "https://app.example.com/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": []}, "invalid_redirect_uri"),
        ({}, "invalid_redirect_uri"),
        (
            {"redirect_uris": [LOOPBACK], "grant_types": ["client_credentials"]},
            "invalid_client_metadata",
        ),
        ({"redirect_uris": [LOOPBACK], "scope": 42}, "invalid_client_metadata"),
    ],
)
def test_a16_unsafe_or_unsupported_metadata_is_refused(
    stack: LocalStack, metadata: dict[str, Any], error: str
) -> None:
    # From a source of their own: every registration counts, refused ones too.
    answer = register(stack, metadata, session_from("127.0.0.79"))
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == error


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("not json", "application/json"), ("[1, 2]", "application/json"),
     ('{"redirect_uris": []}', "text/plain"), ("{" + " " * 20_000 + "}", "application/json")],
)  # fmt: skip
def test_a16_a_body_that_is_no_metadata_is_a_clear_error(
    stack: LocalStack, body: str, content_type: str
) -> None:
    answer = requests.post(
        f"{stack.issuer}/register", data=body, headers={"content-type": content_type}, timeout=10
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_client_metadata"


def test_a16_only_the_registration_access_token_reads_or_deletes_it(stack: LocalStack) -> None:
    body = register(stack, {"redirect_uris": ["https://app.example.com/cb"]}).json()
    uri, token = body["registration_client_uri"], body["registration_access_token"]
    assert uri == f"{stack.issuer}/register?client_id={body['client_id']}"
    for wrong in ({}, {"Authorization": "Bearer " + "x" * 43}, {"Authorization": f"Basic {token}"}):
        refused = requests.get(uri, headers=wrong, timeout=10)
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    bearer = {"Authorization": f"Bearer {token}"}
    read = requests.get(uri, headers=bearer, timeout=10)
    assert read.status_code == 200 and read.json()["client_id"] == body["client_id"]
    assert "registration_access_token" not in read.json()
    # Another client's token opens nothing here.
    other = register(stack, {"redirect_uris": ["https://other.example.com/cb"]}).json()
    crossed = {"Authorization": f"Bearer {other['registration_access_token']}"}
    assert requests.delete(uri, headers=crossed, timeout=10).status_code == 401
    updated = requests.put(
        uri, headers=bearer, timeout=10,
        json={"client_id": body["client_id"], "redirect_uris": ["https://app.example.com/new"]},
    )  # fmt: skip
    assert updated.status_code == 200 and updated.json()["redirect_uris"] == [
        "https://app.example.com/new"
    ]
    assert requests.delete(uri, headers=bearer, timeout=10).status_code == 204
    assert requests.get(uri, headers=bearer, timeout=10).status_code == 401


def test_a16_registrations_are_counted_per_source(stack: LocalStack) -> None:
    flood = session_from("127.0.0.77")
    answers = [register(stack, {"redirect_uris": [LOOPBACK]}, flood).status_code for _ in range(21)]
    assert answers[:20] == [201] * 20 and answers[20] == 429
    refused = register(stack, {"redirect_uris": [LOOPBACK]}, flood)
    assert int(refused.headers["retry-after"]) > 0
    # Another source is not affected.
    assert (
        register(stack, {"redirect_uris": [LOOPBACK]}, session_from("127.0.0.78")).status_code
        == 201
    )
    assert json.loads(refused.text)["error"] == "temporarily_unavailable"


@pytest.fixture(scope="module")
def token_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack that registers clients only with an initial access token."""
    with local_stack(
        tmp_path_factory, "local-stack-iat", extra_env={"CLIENT_REGISTRATION": "token"}
    ) as running:
        yield running


def test_a16_with_the_token_policy_registration_needs_an_initial_access_token(
    token_stack: LocalStack,
) -> None:
    metadata = {"redirect_uris": [LOOPBACK]}
    advertised = requests.get(
        f"{token_stack.issuer}/.well-known/oauth-authorization-server", timeout=10
    ).json()
    assert advertised["registration_endpoint"] == f"{token_stack.issuer}/register"
    refused = register(token_stack, metadata)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    made = oauthctl(token_stack, "registration", "token", "--uses", "2")
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)["initial_access_token"]
    assert token not in token_stack.audit_file.read_text()  # the change is recorded, not it

    def with_token(value: str) -> requests.Response:
        return requests.post(
            f"{token_stack.issuer}/register", json=metadata, timeout=10,
            headers={"Authorization": f"Bearer {value}"},
        )  # fmt: skip

    assert with_token("x" * 43).status_code == 401
    assert [with_token(token).status_code for _ in range(3)] == [201, 201, 401]  # two uses
    expired = oauthctl(token_stack, "registration", "token", "--expires-in", "10")
    assert expired.returncode == 2  # at least 60 s: refused with a clear message
    assert "--expires-in" in expired.stderr


def test_a16_a_self_registered_client_is_shown_unverified_and_stays_under_the_operator(
    stack: LocalStack,
) -> None:
    body = register(
        stack,
        {"client_name": "Demo Web", "redirect_uris": ["https://evil.example.com/cb"]},
        session_from("127.0.0.80"),
    ).json()
    # The consent page shows it so: no anonymous caller passes as an app the operator made.
    assert body["client_name"] == "Demo Web (unverified, evil.example.com)"
    disabled = oauthctl(stack, "clients", "update", body["client_id"], "--disabled")
    assert disabled.returncode == 0, disabled.stderr
    bearer = {"Authorization": f"Bearer {body['registration_access_token']}"}
    again = requests.put(
        body["registration_client_uri"], headers=bearer, timeout=10,
        json={"client_id": body["client_id"], "redirect_uris": ["https://evil.example.com/cb"]},
    )  # fmt: skip
    assert again.status_code == 400
    shown = oauthctl(stack, "clients", "show", body["client_id"], "--output", "json")
    assert json.loads(shown.stdout)["disabled"] is True
