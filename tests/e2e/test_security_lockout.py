"""SECURITY.md rows E9 and G7: the limits on guessing cannot be turned against the client or the
user they protect. Requests come from several loopback addresses (127.0.0.0/8), so the server
sees several sources, as it would see an attacker and the real client."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import (
    SPA,
    Browser,
    authorize_params,
    exchange,
    form_fields,
    get_code,
    pkce_pair,
    session_from,
)

SECRET = "e9-client-secret-0123456789abcdefghijklmnop"
PASSWORD = "g7-the-right-password"


def create_client(stack: LocalStack, client_id: str) -> str:
    from oauthctl.admin import Admin

    Admin.connect(endpoint_url=stack.aws_endpoint).clients().create(
        {
            "client_id": client_id,
            "client_secret": SECRET,
            "grant_types": ["client_credentials"],
            "scope": "read:data",
        },
        replace=True,
    )
    return client_id


def client_credentials(
    stack: LocalStack, http: requests.Session, client_id: str, secret: str
) -> requests.Response:
    return http.post(
        f"{stack.issuer}/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=10,
    )


def test_e9_wrong_secrets_from_one_source_never_lock_out_the_client_elsewhere(
    stack: LocalStack,
) -> None:
    client_id = create_client(stack, "e9-victim")
    attacker, real = session_from("127.0.0.21"), session_from("127.0.0.22")
    statuses = [
        client_credentials(stack, attacker, client_id, f"guess-{i}").status_code for i in range(15)
    ]
    assert statuses[-1] == 429  # the attacker's source is slowed...
    # ...and the real client, from its own source, is served at once.
    assert client_credentials(stack, real, client_id, SECRET).status_code == 200
    assert client_credentials(stack, real, client_id, SECRET).status_code == 200


def test_e9_unknown_clients_are_limited_like_known_ones(stack: LocalStack) -> None:
    """E3 holds under the limit too: an unknown id is not told apart by never reaching 429."""
    http = session_from("127.0.0.23")
    known = create_client(stack, "e9-known")
    answers = {
        client_id: [
            client_credentials(stack, http, client_id, f"guess-{i}").status_code for i in range(12)
        ]
        for client_id in (known, "e9-no-such-client")
    }
    assert answers[known] == answers["e9-no-such-client"]
    assert answers[known][-1] == 429


def test_e9_requests_naming_a_public_client_are_not_counted_as_failed_secrets(
    stack: LocalStack,
) -> None:
    attacker = session_from("127.0.0.24")
    for i in range(15):
        response = attacker.post(
            f"{stack.issuer}/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": "x",
                "client_id": SPA,
                "client_secret": f"guess-{i}",
            },
            timeout=10,
        )
        assert response.status_code == 401, response.text  # never 429: no secret was guessed
    # The public client still redeems its codes, from that same address too.
    result = get_code(stack)
    assert exchange(stack, result).status_code == 200


def create_user(stack: LocalStack, username: str) -> str:
    from oauthctl.admin import Admin

    Admin.connect(endpoint_url=stack.aws_endpoint).users().create(
        username, PASSWORD, replace_existing=True
    )
    return username


def sign_in(browser: Browser, username: str, password: str) -> requests.Response:
    start = browser.authorize(**authorize_params(challenge=pkce_pair()[1]))
    page = browser.get(start.headers["Location"])
    fields = form_fields(page.text)
    return browser.post("/login", {**fields, "username": username, "password": password})


def test_g7_failures_from_one_source_never_stop_the_right_password_from_another(
    stack: LocalStack,
) -> None:
    username = create_user(stack, "g7-victim")
    attacker = Browser(stack, session_from("127.0.0.31"))
    statuses = [sign_in(attacker, username.upper(), "wrong").status_code for _ in range(12)]
    assert statuses[-1] == 429
    assert sign_in(attacker, username, PASSWORD).status_code == 429  # no oracle for the attacker
    user = Browser(stack, session_from("127.0.0.32"))
    response = user.until_client(sign_in(user, username, PASSWORD))
    assert response.status_code == 303
    assert "code=" in response.headers["Location"]


def test_g7_usernames_are_unique_regardless_of_case(stack: LocalStack) -> None:
    from oauth_core.admin.users import InvalidUser
    from oauthctl.admin import Admin

    users = Admin.connect(endpoint_url=stack.aws_endpoint).users()
    users.create("g7-Alice", PASSWORD, replace_existing=True)
    with pytest.raises(InvalidUser):
        users.create("g7-alice", PASSWORD)
    with pytest.raises(InvalidUser):
        users.create("G7-ALICE", PASSWORD)
    # Whatever case the user types, it is the one account.
    browser = Browser(stack, session_from("127.0.0.33"))
    response = browser.until_client(sign_in(browser, "G7-aLiCe", PASSWORD))
    assert "code=" in response.headers["Location"]


def test_g6_parallel_guesses_each_take_a_place_in_the_bucket(stack: LocalStack) -> None:
    """The reported race: attempts sent at once all passed a check made before any of them was
    counted. Counted first, no more than the limit (10) get their password checked."""
    from concurrent.futures import ThreadPoolExecutor

    username = create_user(stack, "g6-parallel")
    browsers = [Browser(stack, session_from("127.0.0.41")) for _ in range(30)]
    forms = []
    for browser in browsers:
        start = browser.authorize(**authorize_params(challenge=pkce_pair()[1]))
        forms.append(form_fields(browser.get(start.headers["Location"]).text))

    def guess(index: int) -> int:
        data = {**forms[index], "username": username, "password": f"wrong-{index}"}
        return browsers[index].post("/login", data).status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(guess, range(30)))
    assert statuses.count(200) <= 10, statuses  # 200: the form again, password checked
    assert statuses.count(429) >= 20, statuses
