"""The audit trail over HTTP: flows against the local stack, and what `oauthctl audit tail`
shows of them (the stack's audit file, found through the stack itself); no secret, password,
code, token or Authorization header in any record."""

from __future__ import annotations

import base64
import json
import select
import subprocess
import sys
from typing import Any

import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import (
    PASSWORD,
    SPA,
    Browser,
    authorize_params,
    exchange,
    get_code,
    refresh,
)
from tests.e2e.test_security_client_credentials import oauthctl
from tests.support import pkce_pair

SERVICE = "audit-trail-svc"


def claims_of(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def tail(stack: LocalStack, *extra: str) -> list[dict[str, Any]]:
    shown = oauthctl(stack, "audit", "tail", "-n", "1000", "--output", "json", *extra)
    assert shown.returncode == 0, shown.stderr
    return list(json.loads(shown.stdout))


def test_flows_and_changes_are_in_oauthctl_audit_tail_without_secrets(stack: LocalStack) -> None:
    # An operator's change (the local stack's actor: local), with a secret in its answer.
    created = oauthctl(
        stack, "clients", "create", SERVICE, "--grant-type", "client_credentials",
        "--scope", "read:data",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    secret = json.loads(created.stdout)["client_secret"]
    token_url = f"{stack.issuer}/token"
    issued = requests.post(
        token_url, data={"grant_type": "client_credentials"}, auth=(SERVICE, secret), timeout=10
    )
    assert issued.status_code == 200
    wrong = "not-the-secret-of-the-audit-test"
    refused = requests.post(
        token_url, data={"grant_type": "client_credentials"}, auth=(SERVICE, wrong), timeout=10
    )
    assert refused.status_code == 401
    # A user's grant: consent asked for and given, code, refresh, reuse, revocation.
    code = get_code(stack, prompt="consent")
    tokens = exchange(stack, code).json()
    grant = claims_of(tokens["access_token"])
    rotated = refresh(stack, tokens["refresh_token"]).json()
    assert refresh(stack, tokens["refresh_token"]).status_code == 400  # reuse: grant revoked
    replayed = exchange(stack, code)
    assert replayed.status_code == 400

    records = tail(stack)
    mine = [r for r in records if r.get("client_id") == SERVICE]
    assert [(r["event"], r["outcome"]) for r in mine] == [
        ("admin.change", "success"),
        ("token.issued", "success"),
        ("client_auth.failure", "failure"),
    ]
    change, service_token, failure = mine
    assert change["actor"] == "local"
    assert change["detail"] == {
        "command": "clients create",
        "options": ["grant_type", "scope"],
        "target": SERVICE,
    }
    assert service_token["detail"] == {"grant_type": "client_credentials", "scope": "read:data"}
    assert service_token["source"] == "127.0.0.1" and service_token["request_id"]
    assert failure["detail"] == {"method": "client_secret_basic", "reason": "bad_secret"}

    of_grant = [r for r in records if r.get("detail", {}).get("grant_id") == grant["grant_id"]]
    assert [r["event"] for r in of_grant] == [
        "token.issued",
        "token.issued",
        "refresh_token.reused",
        "authorization_code.replayed",
    ]
    assert [r["detail"].get("grant_type") for r in of_grant[:2]] == [
        "authorization_code",
        "refresh_token",
    ]
    assert {r["sub"] for r in of_grant} == {grant["sub"]}
    consents = [
        r for r in tail(stack, "--event", "consent.given")
        if r["sub"] == grant["sub"] and r["client_id"] == SPA
    ]  # fmt: skip
    assert consents, "the consent given for the code is recorded"

    trail = stack.audit_file.read_text()
    needles = {
        "client secret": secret,
        "wrong client secret": wrong,
        "password": PASSWORD,
        "code": code.code,
        "code verifier": code.verifier,
        "access token": tokens["access_token"],
        "refresh token": tokens["refresh_token"],
        "rotated refresh token": rotated["refresh_token"],
        "id token": tokens["id_token"],
        "service token": issued.json()["access_token"],
        "Basic credentials": base64.b64encode(f"{SERVICE}:{secret}".encode()).decode(),
    }
    leaked = [name for name, value in needles.items() if value in trail]
    assert not leaked, leaked


def refuse(stack: LocalStack, client_id: str) -> None:
    requests.post(
        f"{stack.issuer}/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, "x" * 43),
        timeout=10,
    )


def read_line(process: subprocess.Popen[str], seconds: float = 20) -> dict[str, Any]:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], seconds)
    assert ready, "audit tail --follow printed nothing"
    return dict(json.loads(process.stdout.readline()))


def test_audit_tail_follows_new_records(stack: LocalStack) -> None:
    refuse(stack, "audit-follow-before")  # so that there is a latest one to start with
    follower = subprocess.Popen(
        [
            sys.executable, "-m", "oauthctl.cli", "--endpoint-url", stack.aws_endpoint,
            "audit", "tail", "--follow", "-n", "1", "--output", "json",
            "--event", "client_auth.failure", "--interval", "0.2",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert read_line(follower)["event"] == "client_auth.failure"
        refuse(stack, "audit-follow-probe")
        seen = read_line(follower)
        assert seen["client_id"] == "audit-follow-probe"
        assert seen["detail"]["reason"] == "unknown_client"
    finally:
        follower.terminate()
        follower.wait(timeout=10)


def test_sign_ins_and_a_denied_consent_are_recorded_without_the_password(
    stack: LocalStack,
) -> None:
    username, password = "audit-signin-user", "audit sign-in password"
    made = oauthctl(stack, "users", "create", username, "--password-stdin", stdin=password + "\n")
    assert made.returncode == 0, made.stderr
    browser = Browser(stack)
    login = browser.authorize(**authorize_params(challenge=pkce_pair()[1], prompt="consent"))
    location = login.headers["Location"]
    wrong = "not the password of the audit user"
    assert browser.sign_in(location, username, wrong).status_code == 200  # the form again
    assert browser.sign_in(location, "audit-nobody", wrong).status_code == 200
    consent = browser.sign_in(location, username, password)
    denied = browser.decide(consent.headers["Location"], decision="deny")
    assert "error=access_denied" in denied.headers["Location"]

    records = tail(stack)
    failures = [r for r in records if r["event"] == "signin.failure" and r.get("client_id") == SPA]
    mine = [r for r in failures if r.get("username") == username]
    assert [r["detail"] for r in mine] == [{"reason": "bad_password"}]
    assert any(r["detail"] == {"reason": "unknown_user"} and "username" not in r for r in failures)
    success = [
        r for r in records if r["event"] == "signin.success" and r.get("username") == username
    ]
    assert len(success) == 1 and success[0]["sub"] and success[0]["source"] == "127.0.0.1"
    denials = [
        r for r in records if r["event"] == "consent.denied" and r["sub"] == success[0]["sub"]
    ]
    assert [r["detail"]["scope"] for r in denials] == ["offline_access openid profile read:data"]
    trail = stack.audit_file.read_text()
    assert password not in trail and wrong not in trail and "audit-nobody" not in trail
