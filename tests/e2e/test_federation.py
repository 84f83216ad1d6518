"""Federation end to end, two local stacks of this server: the upstream is the identity provider
(its own sign-in and consent pages, a confidential client whose redirect URI is the downstream's
callback), the downstream declares it with `oauthctl providers create` and its sign-in page
offers "Sign in with Company SSO". A user clicks it, signs in at the upstream, comes back, gets
an account (just in time), and the downstream's app gets its code and an ID token whose `amr`
says "fed". Then the attacks: a changed state, another `iss`, another nonce (sent to the
upstream in place of ours, so its ID token carries it), a replayed answer, and an unverified
e-mail address that matches an existing user (SECURITY U1-U4). A provider's answer is a first
factor: the second-factor step follows it before any session (M7)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import pytest
import requests

from oauth_core import constants
from tests.e2e.conftest import LocalStack, local_stack
from tests.e2e.flows import WEB, WEB_REDIRECT, authorize_params
from tests.e2e.test_security_client_credentials import oauthctl
from tests.support import form_fields, pkce_pair, query_of

PROVIDER = "corp"
DISPLAY = "Company SSO"
UPSTREAM_CLIENT = "downstream-fed"
PASSWORD = "upstream user password"


@dataclass(frozen=True)
class Federation:
    upstream: LocalStack
    downstream: LocalStack
    client_secret: str  # the downstream's secret at the upstream


def _run(stack: LocalStack, *args: str, stdin: str = "") -> dict[str, Any]:
    done = oauthctl(stack, *args, stdin=stdin)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}


def upstream_user(stack: LocalStack, username: str, email: str, verified: bool) -> None:
    _run(
        stack, "users", "create", username, "--password-stdin",
        "--claim", f"email={email}", "--claim", f"email_verified={str(verified).lower()}",
        "--claim", f"name={username.title()} Upstream",
        stdin=PASSWORD + "\n",
    )  # fmt: skip


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    with (
        local_stack(tmp_path_factory, "fed-upstream") as upstream,
        local_stack(tmp_path_factory, "fed-downstream") as downstream,
    ):
        made = _run(
            upstream, "clients", "create", UPSTREAM_CLIENT,
            "--name", "Downstream sign-in",
            "--redirect-uri", downstream.issuer + constants.FEDERATED_CALLBACK_PATH,
            "--grant-type", "authorization_code",
            "--auth-method", "client_secret_basic",
            "--scope", "openid email profile",
        )  # fmt: skip
        secret = made["client_secret"]
        declared = _run(
            downstream, "providers", "create", PROVIDER,
            "--display-name", DISPLAY,
            "--discovery-url", f"{upstream.issuer}/.well-known/openid-configuration",
            "--client-id", UPSTREAM_CLIENT, "--client-secret-stdin",
            "--scope", "openid email profile", "--jit-create",
            stdin=secret + "\n",
        )  # fmt: skip
        assert declared["issuer"] == upstream.issuer
        assert secret not in json.dumps(declared)  # never shown back
        yield Federation(upstream, downstream, secret)


@dataclass
class Person:
    """A browser driving the downstream's app's sign-in through the upstream. One cookie jar for
    both stacks, as a browser keeps 127.0.0.1's cookies for every port; or (`hosts_apart`) one
    per stack, as for a provider on another host, which a deployed stack's always is."""

    federation: Federation
    hosts_apart: bool = False
    http: requests.Session = field(default_factory=requests.Session)
    jars: dict[str, requests.Session] = field(default_factory=dict)

    def _session(self, url: str) -> requests.Session:
        if not self.hosts_apart:
            return self.http
        return self.jars.setdefault(urlsplit(url).netloc, requests.Session())

    def get(self, url: str) -> requests.Response:
        return self._session(url).get(url, allow_redirects=False, timeout=10)

    def post(self, url: str, data: dict[str, str]) -> requests.Response:
        return self._session(url).post(url, data=data, allow_redirects=False, timeout=10)

    def absolute(self, stack: LocalStack, location: str) -> str:
        return location if location.startswith("http") else stack.issuer + location

    def button(self, extra: dict[str, str] | None = None) -> tuple[str, str]:
        """Start the app's request at the downstream and click the provider's button: the
        upstream's authorization URL, and the app's PKCE verifier."""
        downstream = self.federation.downstream
        verifier, challenge = pkce_pair()
        params = authorize_params(WEB, WEB_REDIRECT, challenge, scope="openid profile email")
        params.update(extra or {})
        started = self.get(f"{downstream.issuer}/authorize?{urlencode(params)}")
        assert started.status_code == 303, started.text
        page = self.get(self.absolute(downstream, started.headers["Location"]))
        assert page.status_code == 200 and f"Sign in with {DISPLAY}" in page.text
        (href,) = re.findall(r'<a class="button" href="([^"]+)"', page.text)
        clicked = self.get(self.absolute(downstream, unescape(href)))
        assert clicked.status_code == 303, clicked.text
        at_upstream = clicked.headers["Location"]
        assert at_upstream.startswith(f"{self.federation.upstream.issuer}/authorize?")
        return at_upstream, verifier

    def at_upstream(self, authorize_url: str, username: str) -> str:
        """Sign in (and consent) at the upstream: its answer, the downstream's callback URL."""
        upstream = self.federation.upstream
        response = self.get(authorize_url)
        while response.status_code == 303 and response.headers["Location"].startswith("/"):
            location = upstream.issuer + response.headers["Location"]
            page = self.get(location)
            assert page.status_code == 200, page.text
            fields = form_fields(page.text)
            if location.startswith(f"{upstream.issuer}/login"):
                fields.update(username=username, password=PASSWORD)
                response = self.post(f"{upstream.issuer}/login", fields)
            else:
                response = self.post(f"{upstream.issuer}/consent", {**fields, "decision": "allow"})
        assert response.status_code == 303, response.text
        answer = response.headers["Location"]
        callback = self.federation.downstream.issuer + constants.FEDERATED_CALLBACK_PATH
        assert answer.startswith(callback), answer
        return answer

    def back_at_downstream(self, answer: str) -> requests.Response:
        return self.get(answer)


def exchange(downstream: LocalStack, code: str, verifier: str) -> dict[str, Any]:
    answer = requests.post(
        f"{downstream.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": WEB_REDIRECT,
            "code_verifier": verifier,
        },
        auth=(WEB, downstream.client_secret(WEB)),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


def claims_of(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


def refusals(stack: LocalStack) -> list[str]:
    """The reasons of the federation.refused records in the stack's audit file so far."""
    found = []
    for line in stack.audit_file.read_text().splitlines():
        record = json.loads(line)["audit"]
        if record["event"] == "federation.refused":
            found.append(record["detail"]["reason"])
    return found


def wait_for_the_button(federation: Federation) -> None:
    """The downstream's containers see a new provider within REGISTRY_CACHE_TTL (2 s here)."""
    downstream = federation.downstream
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        params = authorize_params(WEB, WEB_REDIRECT, pkce_pair()[1])
        started = requests.get(
            f"{downstream.issuer}/authorize?{urlencode(params)}", allow_redirects=False, timeout=10
        )
        page = requests.get(downstream.issuer + started.headers["Location"], timeout=10)
        if f"Sign in with {DISPLAY}" in page.text:
            return
        time.sleep(0.2)
    raise AssertionError("the sign-in page never offered the provider")


@pytest.fixture(scope="module")
def ready(federation: Federation) -> Federation:
    upstream_user(federation.upstream, "ann", "ann@corp.example", verified=True)
    wait_for_the_button(federation)
    return federation


def test_signing_in_with_the_upstream_gets_the_app_its_code_and_amr_fed(ready: Federation) -> None:
    person = Person(ready)
    authorize_url, verifier = person.button()
    asked = query_of(authorize_url)
    assert asked["code_challenge_method"] == "S256"
    assert asked["client_id"] == UPSTREAM_CLIENT and asked["nonce"] and asked["state"]
    answer = person.at_upstream(authorize_url, "ann")
    assert query_of(answer)["iss"] == ready.upstream.issuer  # the upstream says who answers
    back = person.back_at_downstream(answer)
    assert back.status_code == 303, back.text
    assert back.headers["Location"].startswith(WEB_REDIRECT)
    tokens = exchange(ready.downstream, query_of(back.headers["Location"])["code"], verifier)
    id_token = claims_of(tokens["id_token"])
    assert id_token["iss"] == ready.downstream.issuer
    assert id_token["amr"] == ["fed"]
    assert id_token["email"] == "ann@corp.example" and id_token["email_verified"] is True
    assert id_token["name"] == "Ann Upstream"
    # A second sign-in of the same upstream user is the same account here.
    again = Person(ready)
    authorize_url, verifier = again.button()
    back = again.back_at_downstream(again.at_upstream(authorize_url, "ann"))
    tokens = exchange(ready.downstream, query_of(back.headers["Location"])["code"], verifier)
    assert claims_of(tokens["id_token"])["sub"] == id_token["sub"]
    links = oauthctl(ready.downstream, "users", "show", "corp.ann")
    assert links.returncode == 0, links.stderr


def test_u1_a_changed_state_is_refused(ready: Federation) -> None:
    person = Person(ready)
    authorize_url, _ = person.button()
    answer = person.at_upstream(authorize_url, "ann")
    state = query_of(answer)["state"]
    changed = answer.replace(f"state={state}", f"state={state[:-2]}xx")
    refused = person.back_at_downstream(changed)
    assert refused.status_code == 400 and "Location" not in refused.headers
    assert "could not be verified" in refused.text
    assert refusals(ready.downstream)[-1] == "state_mismatch"


def test_u1_an_answer_used_once_is_refused_the_second_time(ready: Federation) -> None:
    person = Person(ready)
    authorize_url, _ = person.button()
    answer = person.at_upstream(authorize_url, "ann")
    kept = [(cookie.name, cookie.value or "") for cookie in person.http.cookies]
    assert person.back_at_downstream(answer).status_code == 303
    replay = Person(ready)
    for name, value in kept:  # the attempt's cookie, as it was
        replay.http.cookies.set(name, value)
    refused = replay.back_at_downstream(answer)
    assert refused.status_code == 400
    # The upstream refused its used code (or, had it not, the state was spent): no session.
    assert refusals(ready.downstream)[-1] in ("token_request_refused", "replayed")


def test_u2_an_answer_naming_another_issuer_is_refused(ready: Federation) -> None:
    person = Person(ready)
    authorize_url, _ = person.button()
    answer = person.at_upstream(authorize_url, "ann")
    mixed_up = answer.replace(
        urlencode({"iss": ready.upstream.issuer}), urlencode({"iss": "http://127.0.0.1:9"})
    )
    assert mixed_up != answer
    refused = person.back_at_downstream(mixed_up)
    assert refused.status_code == 400 and "Location" not in refused.headers
    assert refusals(ready.downstream)[-1] == "issuer_mismatch"


def test_u3_an_id_token_with_another_nonce_is_refused(ready: Federation) -> None:
    person = Person(ready)
    authorize_url, _ = person.button()
    ours = query_of(authorize_url)["nonce"]
    # The upstream is asked with another nonce (as a mixed-up or malicious provider would
    # answer): its ID token carries that one, not ours.
    other = authorize_url.replace(f"nonce={ours}", "nonce=not-the-downstreams-nonce")
    answer = person.at_upstream(other, "ann")
    refused = person.back_at_downstream(answer)
    assert refused.status_code == 400
    assert refusals(ready.downstream)[-1] == "nonce_mismatch"


def test_u4_an_unverified_email_matching_a_user_does_not_sign_in_as_them(
    ready: Federation,
) -> None:
    _run(
        ready.downstream, "users", "create", "bob", "--password-stdin",
        "--claim", "email=bob@corp.example", "--claim", "email_verified=true",
        stdin="bob's own password\n",
    )  # fmt: skip
    bob = _run(ready.downstream, "users", "show", "bob")
    upstream_user(ready.upstream, "mallory", "bob@corp.example", verified=False)
    person = Person(ready)
    authorize_url, verifier = person.button()
    back = person.back_at_downstream(person.at_upstream(authorize_url, "mallory"))
    assert back.status_code == 303, back.text
    tokens = exchange(ready.downstream, query_of(back.headers["Location"])["code"], verifier)
    id_token = claims_of(tokens["id_token"])
    assert id_token["sub"] != bob["sub"]  # an account of its own, not Bob's
    assert "email_verified" not in id_token  # copied only when the upstream says true
    listed = oauthctl(ready.downstream, "providers", "links", "bob", "--output", "json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []


def test_u4_linking_from_the_account_page_then_signing_in_as_that_account(
    ready: Federation,
) -> None:
    downstream = ready.downstream
    _run(downstream, "users", "create", "carol", "--password-stdin", stdin="carol's password\n")
    carol = _run(downstream, "users", "show", "carol")
    upstream_user(ready.upstream, "carol-up", "carol@corp.example", verified=True)
    # The account page's session must survive the trip to the provider: on one host (two local
    # stacks on 127.0.0.1) the upstream's session cookie would replace it (docs/federation.md).
    person = Person(ready, hosts_apart=True)
    account = person.get(f"{downstream.issuer}/account")
    signed = person.post(
        f"{downstream.issuer}/account/login",
        {**form_fields(account.text), "username": "carol", "password": "carol's password"},
    )
    assert signed.status_code == 303
    page = person.get(f"{downstream.issuer}/account")
    assert f"Link {DISPLAY}" in page.text
    (form,) = re.findall(r'action="/account/federated">(.*?)</form>', page.text, re.DOTALL)
    started = person.post(f"{downstream.issuer}/account/federated", form_fields(form))
    assert started.status_code == 303
    authorize_url = started.headers["Location"]
    assert query_of(authorize_url)["prompt"] == "login"
    linked = person.back_at_downstream(person.at_upstream(authorize_url, "carol-up"))
    assert linked.status_code == 303 and linked.headers["Location"] == "/account?done=linked"
    # Now the upstream identity signs in as Carol.
    other = Person(ready)
    authorize_url, verifier = other.button()
    back = other.back_at_downstream(other.at_upstream(authorize_url, "carol-up"))
    tokens = exchange(downstream, query_of(back.headers["Location"])["code"], verifier)
    assert claims_of(tokens["id_token"])["sub"] == carol["sub"]
    listed = json.loads(
        oauthctl(downstream, "providers", "links", "carol", "--output", "json").stdout
    )
    assert [(link["provider"], link["created_account"]) for link in listed] == [(PROVIDER, False)]


def test_u5_the_downstream_never_shows_the_secret_nor_logs_it(
    ready: Federation,
) -> None:
    shown = oauthctl(ready.downstream, "providers", "show", PROVIDER)
    assert shown.returncode == 0 and ready.client_secret not in shown.stdout
    assert json.loads(shown.stdout)["client_secret_set"] is True
    listed = oauthctl(ready.downstream, "providers", "list")
    assert DISPLAY in listed.stdout and ready.client_secret not in listed.stdout
    log = ready.downstream.output.read_text()
    assert ready.client_secret not in log
    assert urlsplit(ready.upstream.issuer).hostname == "127.0.0.1"


def test_m7_a_provider_sign_in_then_the_second_factor_before_any_session(
    ready: Federation,
) -> None:
    import pyotp

    downstream = ready.downstream
    upstream_user(ready.upstream, "dana-up", "dana@corp.example", verified=True)
    # The app asks for a second factor: the account made just in time has none, so it sets one
    # up right after the upstream's answer, before any session here.
    person = Person(ready, hosts_apart=True)  # the downstream's cookies apart from the upstream's
    authorize_url, verifier = person.button({"acr_values": constants.ACR_MFA})
    enrol = person.back_at_downstream(person.at_upstream(authorize_url, "dana-up"))
    assert enrol.status_code == 200 and "Set up an authenticator app" in enrol.text
    assert "Location" not in enrol.headers
    here = person.jars[urlsplit(downstream.issuer).netloc].cookies
    assert not [c.name for c in here if "session" in c.name], here  # no session yet
    found = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', enrol.text)
    assert found
    secret = found.group(1).replace(" ", "")
    saved = person.post(
        f"{downstream.issuer}/login/second-factor",
        {**form_fields(enrol.text), "code": pyotp.TOTP(secret).now()},
    )
    assert saved.status_code == 200 and "Save your recovery codes" in saved.text
    done = person.post(f"{downstream.issuer}/login/continue", form_fields(saved.text))
    assert done.status_code == 303 and done.headers["Location"].startswith(WEB_REDIRECT)
    tokens = exchange(downstream, query_of(done.headers["Location"])["code"], verifier)
    id_token = claims_of(tokens["id_token"])
    assert id_token["amr"] == ["fed", "otp", "mfa"] and id_token["acr"] == constants.ACR_MFA
    # From now on the user with an app gives a code after every provider sign-in, asked or not.
    again = Person(ready)
    authorize_url, verifier = again.button()
    asked = again.back_at_downstream(again.at_upstream(authorize_url, "dana-up"))
    assert asked.status_code == 200 and "Two-step verification" in asked.text
    code = str(pyotp.TOTP(secret).at(time.time() + 30))  # the current step is spent
    back = again.post(
        f"{downstream.issuer}/login/second-factor", {**form_fields(asked.text), "code": code}
    )
    assert back.status_code == 303 and back.headers["Location"].startswith(WEB_REDIRECT)
    tokens = exchange(downstream, query_of(back.headers["Location"])["code"], verifier)
    assert claims_of(tokens["id_token"])["amr"] == ["fed", "otp", "mfa"]
