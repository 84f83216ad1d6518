"""SECURITY.md row H3 over HTTP: run every flow against the local stack, then read everything
the server logged (its functions' JSON logs, the gateway's access log and its audit records)
and find no secret, password, code, token or Authorization header value in it."""

from __future__ import annotations

import base64
import time

import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import (
    PASSWORD,
    WEB,
    WEB_REDIRECT,
    Browser,
    authorize_params,
    exchange,
    get_code,
    pkce_pair,
    refresh,
)


def test_h3_no_secret_password_code_or_token_in_the_server_logs(stack: LocalStack) -> None:
    secret = stack.client_secret(WEB)
    service_secret = stack.client_secret("demo-service")
    # Every flow: code (with a failed sign-in first), exchange, refresh, reuse, introspect,
    # revoke, client credentials, bad client credentials, resource and userinfo calls.
    browser = Browser(stack)
    verifier, challenge = pkce_pair()
    login = browser.authorize(**authorize_params(WEB, WEB_REDIRECT, challenge)).headers["Location"]
    browser.sign_in(login, password="a-wrong-password-for-the-log-test")
    result = get_code(stack, client_id=WEB, redirect_uri=WEB_REDIRECT)
    tokens = exchange(stack, result, client_id=WEB, redirect_uri=WEB_REDIRECT).json()
    rotated = refresh(stack, tokens["refresh_token"], client_id=WEB).json()
    refresh(stack, tokens["refresh_token"], client_id=WEB)  # reuse: revokes, and is logged
    exchange(stack, result, client_id=WEB, redirect_uri=WEB_REDIRECT)  # code replay
    auth = (WEB, secret)
    requests.post(
        f"{stack.issuer}/introspect", data={"token": rotated["access_token"]}, auth=auth, timeout=10
    )
    requests.post(
        f"{stack.issuer}/revoke", data={"token": rotated["refresh_token"]}, auth=auth, timeout=10
    )
    service = requests.post(
        f"{stack.issuer}/token",
        data={"grant_type": "client_credentials"},
        auth=("demo-service", service_secret),
        timeout=10,
    ).json()
    requests.post(
        f"{stack.issuer}/token",
        data={"grant_type": "client_credentials"},
        auth=("demo-service", "a-wrong-client-secret-for-the-log-test"),
        timeout=10,
    )
    bearer = {"Authorization": f"Bearer {service['access_token']}"}
    requests.get(f"{stack.issuer}/resource", headers=bearer, timeout=10)
    requests.get(
        f"{stack.issuer}/userinfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    # A last, refused request: once its log line (carrying its request id) is in the file, so
    # is every line before it.
    last = requests.post(f"{stack.issuer}/token", data={"grant_type": "log-flush"}, timeout=10)
    assert last.status_code == 400
    deadline = time.monotonic() + 10
    while last.headers["apigw-requestid"] not in stack.output.read_text():
        assert time.monotonic() < deadline, "the server's log lines never reached the log file"
        time.sleep(0.1)

    trail = stack.audit_file.read_text()
    # The logs and the audit trail were captured at all.
    assert "request refused" in stack.output.read_text()
    assert '"event":"token.issued"' in trail and '"event":"client_auth.failure"' in trail
    logs = stack.output.read_text() + trail
    basic = base64.b64encode(f"{WEB}:{secret}".encode()).decode()
    needles = {
        "client secret": secret,
        "service secret": service_secret,
        "wrong client secret": "a-wrong-client-secret-for-the-log-test",
        "password": PASSWORD,
        "wrong password": "a-wrong-password-for-the-log-test",
        "code": result.code,
        "code verifier": result.verifier,
        "access token": tokens["access_token"],
        "refresh token": tokens["refresh_token"],
        "rotated refresh token": rotated["refresh_token"],
        "id token": tokens["id_token"],
        "service token": service["access_token"],
        "Authorization header": basic,
        "PKCE verifier": verifier,
    }
    leaked = [name for name, value in needles.items() if value in logs]
    assert not leaked, leaked
