"""DPoP (RFC 9449) end to end on the local stack: tokens bound at the token endpoint, taken at
the bundled resource only with a proof of their key, public clients' refresh tokens bound, proofs
used once, nonces when the stack asks for them (SECURITY P1-P5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import jwt
import pytest
import requests

from tests.dpop_keys import DpopKey
from tests.e2e.conftest import LocalStack, local_stack
from tests.e2e.flows import SPA, SPA_REDIRECT, get_code, introspect
from tests.e2e.test_security_client_credentials import oauthctl

SERVICE = "demo-service"


def token_url(stack: LocalStack) -> str:
    return f"{stack.issuer}/token"


def resource_url(stack: LocalStack) -> str:
    return f"{stack.issuer}/resource"


def service_token(
    stack: LocalStack, key: DpopKey | None, proof: str | None = None, client: str = SERVICE
) -> requests.Response:
    headers = {}
    if key is not None or proof is not None:
        headers["DPoP"] = proof or key.proof("POST", token_url(stack))  # type: ignore[union-attr]
    secret = stack.client_secret(client) if client == SERVICE else client_secrets[client]
    return requests.post(
        token_url(stack),
        data={"grant_type": "client_credentials", "scope": "read:data"},
        auth=(client, secret),
        headers=headers,
        timeout=10,
    )


client_secrets: dict[str, str] = {}


def call_resource(
    stack: LocalStack, token: str, *, scheme: str = "DPoP", proof: str | None = None
) -> requests.Response:
    headers = {"Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return requests.get(resource_url(stack), headers=headers, timeout=10)


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def test_p3_client_credentials_with_a_proof_is_a_dpop_bound_token(stack: LocalStack) -> None:
    key = DpopKey()
    response = service_token(stack, key)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "DPoP"
    assert claims_of(body["access_token"])["cnf"] == {"jkt": key.jkt}
    # Introspection says so too (RFC 9449 6.2).
    answer = introspect(stack, body["access_token"], client_id=SERVICE)
    assert answer["token_type"] == "DPoP" and answer["cnf"] == {"jkt": key.jkt}
    # Without a proof: a bearer token, as before.
    plain = service_token(stack, None).json()
    assert plain["token_type"] == "Bearer" and "cnf" not in claims_of(plain["access_token"])


def test_p3_a_bound_token_is_taken_only_with_a_proof_of_its_key(stack: LocalStack) -> None:
    key = DpopKey()
    token = service_token(stack, key).json()["access_token"]
    url = resource_url(stack)
    good = call_resource(stack, token, proof=key.proof("GET", url, access_token=token))
    assert good.status_code == 200, good.text
    refusals = {
        "as a bearer token": call_resource(stack, token, scheme="Bearer"),
        "without a proof": call_resource(stack, token),
        "with another key": call_resource(
            stack, token, proof=DpopKey().proof("GET", url, access_token=token)
        ),
        "without ath": call_resource(stack, token, proof=key.proof("GET", url)),
        "for another method": call_resource(
            stack, token, proof=key.proof("POST", url, access_token=token)
        ),
        "for another URL": call_resource(
            stack, token, proof=key.proof("GET", f"{stack.issuer}/userinfo", access_token=token)
        ),
    }
    for why, response in refusals.items():
        assert response.status_code == 401, why
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith("DPoP "), (why, challenge)
        assert 'algs="ES256 PS256 RS256"' in challenge, why
    # An unbound token presented as DPoP is refused as well.
    bearer = service_token(stack, None).json()["access_token"]
    unbound = call_resource(stack, bearer, proof=key.proof("GET", url, access_token=bearer))
    assert (
        unbound.status_code == 401
        and 'error="invalid_token"' in unbound.headers["WWW-Authenticate"]
    )


def test_p1_a_proof_for_another_url_or_method_is_refused_at_the_token_endpoint(
    stack: LocalStack,
) -> None:
    key = DpopKey()
    for proof in (
        key.proof("POST", f"{stack.issuer}/revoke"),
        key.proof("GET", token_url(stack)),
        key.proof("POST", token_url(stack), iat=0),
        key.proof("POST", token_url(stack), header={"typ": "JWT"}),
    ):
        refused = service_token(stack, None, proof=proof)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] == "invalid_dpop_proof"
        assert refused.headers["Cache-Control"] == "no-store"
    two = requests.post(
        token_url(stack),
        data={"grant_type": "client_credentials"},
        auth=(SERVICE, stack.client_secret(SERVICE)),
        headers={"DPoP": f"{key.proof('POST', token_url(stack))}, {key.proof('POST', 'x')}"},
        timeout=10,
    )
    assert two.status_code == 400 and two.json()["error"] == "invalid_dpop_proof"


def test_p2_a_proof_is_used_once_at_the_token_endpoint_and_the_resource(
    stack: LocalStack,
) -> None:
    key = DpopKey()
    proof = key.proof("POST", token_url(stack))
    first = service_token(stack, key, proof)
    assert first.status_code == 200
    again = service_token(stack, key, proof)
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_dpop_proof",
        "error_description": "the DPoP proof was already used",
    }
    token = first.json()["access_token"]
    resource_proof = key.proof("GET", resource_url(stack), access_token=token)
    assert call_resource(stack, token, proof=resource_proof).status_code == 200
    replayed = call_resource(stack, token, proof=resource_proof)
    assert replayed.status_code == 401
    assert 'error="invalid_dpop_proof"' in replayed.headers["WWW-Authenticate"]


def test_p2_a_refused_client_writes_no_proof_record(stack: LocalStack) -> None:
    key = DpopKey()
    proof = key.proof("POST", token_url(stack))
    wrong = requests.post(
        token_url(stack),
        data={"grant_type": "client_credentials"},
        auth=(SERVICE, "wrong-secret-" + "x" * 32),
        headers={"DPoP": proof},
        timeout=10,
    )
    assert wrong.status_code == 401
    assert service_token(stack, key, proof).status_code == 200  # the proof was not spent


def spa_tokens(stack: LocalStack, key: DpopKey) -> dict[str, Any]:
    code = get_code(stack)
    response = requests.post(
        token_url(stack),
        data={
            "grant_type": "authorization_code",
            "client_id": SPA,
            "code": code.code,
            "redirect_uri": SPA_REDIRECT,
            "code_verifier": code.verifier,
        },
        headers={"DPoP": key.proof("POST", token_url(stack))},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def spa_refresh(stack: LocalStack, refresh_token: str, proof: str | None) -> requests.Response:
    return requests.post(
        token_url(stack),
        data={"grant_type": "refresh_token", "client_id": SPA, "refresh_token": refresh_token},
        headers={"DPoP": proof} if proof else {},
        timeout=10,
    )


def test_p4_a_public_clients_refresh_token_works_only_with_its_dpop_key(
    stack: LocalStack,
) -> None:
    key = DpopKey()
    tokens = spa_tokens(stack, key)
    assert tokens["token_type"] == "DPoP"
    assert claims_of(tokens["access_token"])["cnf"] == {"jkt": key.jkt}
    refresh_token = tokens["refresh_token"]
    missing = spa_refresh(stack, refresh_token, None)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_dpop_proof"
    stolen = spa_refresh(stack, refresh_token, DpopKey().proof("POST", token_url(stack)))
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    refreshed = spa_refresh(stack, refresh_token, key.proof("POST", token_url(stack)))
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["token_type"] == "DPoP"
    # The rotated refresh token stays bound to the same key.
    onward = refreshed.json()["refresh_token"]
    other = spa_refresh(stack, onward, DpopKey().proof("POST", token_url(stack)))
    assert other.status_code == 400 and other.json()["error"] == "invalid_grant"


def test_p4_a_client_registered_for_dpop_gets_no_token_without_a_proof(
    stack: LocalStack,
) -> None:
    made = oauthctl(
        stack, "clients", "create", "dpop-only", "--grant-type", "client_credentials",
        "--scope", "read:data", "--dpop-bound",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    client_secrets["dpop-only"] = json.loads(made.stdout)["client_secret"]
    refused = service_token(stack, None, client="dpop-only")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_dpop_proof"
    key = DpopKey()
    bound = service_token(stack, key, client="dpop-only")
    assert bound.status_code == 200 and bound.json()["token_type"] == "DPoP"


@pytest.fixture(scope="module")
def nonce_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(tmp_path_factory, "local-stack-dpop-nonces", {"DPOP_NONCES": "on"}) as s:
        yield s


def test_p5_a_stack_requiring_nonces_hands_one_out_and_takes_it(nonce_stack: LocalStack) -> None:
    key = DpopKey()
    first = service_token(nonce_stack, key)
    assert first.status_code == 400
    assert first.json()["error"] == "use_dpop_nonce"
    nonce = first.headers["DPoP-Nonce"]
    made_up = service_token(
        nonce_stack, key, key.proof("POST", token_url(nonce_stack), nonce="AAAA" + nonce[4:])
    )
    assert made_up.status_code == 400 and made_up.json()["error"] == "use_dpop_nonce"
    served = service_token(nonce_stack, key, key.proof("POST", token_url(nonce_stack), nonce=nonce))
    assert served.status_code == 200, served.text
    assert served.json()["token_type"] == "DPoP" and served.headers["DPoP-Nonce"]
    # Metadata and CORS tell browser apps about both headers.
    metadata = requests.get(
        f"{nonce_stack.issuer}/.well-known/oauth-authorization-server", timeout=10
    ).json()
    assert metadata["dpop_signing_alg_values_supported"] == ["ES256", "PS256", "RS256"]
    preflight = requests.options(
        token_url(nonce_stack),
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "dpop",
        },
        timeout=10,
    )
    assert "dpop" in preflight.headers["Access-Control-Allow-Headers"].lower()


def redeem(stack: LocalStack, code: Any, proof: str | None) -> requests.Response:
    return requests.post(
        token_url(stack),
        data={"grant_type": "authorization_code", "client_id": SPA, "code": code.code,
              "redirect_uri": SPA_REDIRECT, "code_verifier": code.verifier},
        headers={"DPoP": proof} if proof else {},
        timeout=10,
    )  # fmt: skip


def test_p6_a_code_asked_for_with_dpop_jkt_is_redeemed_only_with_that_key(
    stack: LocalStack,
) -> None:
    key = DpopKey()
    code = get_code(stack, dpop_jkt=key.jkt)
    missing = redeem(stack, code, None)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_dpop_proof"
    other = redeem(stack, code, DpopKey().proof("POST", token_url(stack)))
    assert other.status_code == 400 and other.json()["error"] == "invalid_grant"
    bound = redeem(stack, code, key.proof("POST", token_url(stack)))
    assert bound.status_code == 200, bound.text
    assert claims_of(bound.json()["access_token"])["cnf"] == {"jkt": key.jkt}


def test_p6_a_malformed_dpop_jkt_is_refused_at_the_authorization_endpoint(
    stack: LocalStack,
) -> None:
    from tests.e2e.flows import Browser, authorize_params
    from tests.support import pkce_pair, query_of

    _, challenge = pkce_pair()
    answer = Browser(stack).authorize(**authorize_params(challenge=challenge, dpop_jkt="short"))
    assert answer.status_code == 303
    assert query_of(answer.headers["Location"])["error"] == "invalid_request"


def test_p6_a_dpop_proof_at_par_binds_the_code_to_its_key(stack: LocalStack) -> None:
    from tests.e2e.flows import Browser
    from tests.support import pkce_pair, query_of

    key = DpopKey()
    verifier, challenge = pkce_pair()
    fields = {"client_id": SPA, "redirect_uri": SPA_REDIRECT, "response_type": "code",
              "scope": "openid read:data", "code_challenge": challenge,
              "code_challenge_method": "S256", "state": "s1"}  # fmt: skip
    par_url = f"{stack.issuer}/par"
    mismatched = requests.post(
        par_url, data={**fields, "dpop_jkt": DpopKey().jkt},
        headers={"DPoP": key.proof("POST", par_url)}, timeout=10,
    )  # fmt: skip
    assert mismatched.status_code == 400
    assert mismatched.json()["error"] == "invalid_dpop_proof"
    pushed = requests.post(
        par_url, data=fields, headers={"DPoP": key.proof("POST", par_url)}, timeout=10
    )
    assert pushed.status_code == 201, pushed.text
    browser = Browser(stack)
    final = browser.until_client(
        browser.authorize(client_id=SPA, request_uri=pushed.json()["request_uri"])
    )
    assert final.status_code == 303, final.text
    query = query_of(final.headers["Location"])

    code = SimpleNamespace(code=query["code"], verifier=verifier)
    assert redeem(stack, code, None).json()["error"] == "invalid_dpop_proof"
    bound = redeem(stack, code, key.proof("POST", token_url(stack)))
    assert bound.status_code == 200, bound.text
    assert bound.json()["token_type"] == "DPoP"


def test_p4_a_public_client_refreshing_with_a_proof_binds_its_next_refresh_token(
    stack: LocalStack,
) -> None:
    """RFC 9449 5 (the red team's F3): the code was redeemed without DPoP, so the first refresh
    token is unbound; refreshing it with a proof binds the one that replaces it to that key."""
    code = get_code(stack)
    plain = redeem(stack, code, None)
    assert plain.status_code == 200 and plain.json()["token_type"] == "Bearer"
    key = DpopKey()
    bound = spa_refresh(stack, plain.json()["refresh_token"], key.proof("POST", token_url(stack)))
    assert bound.status_code == 200 and bound.json()["token_type"] == "DPoP"
    successor = bound.json()["refresh_token"]
    missing = spa_refresh(stack, successor, None)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_dpop_proof"
    onward = spa_refresh(stack, successor, key.proof("POST", token_url(stack)))
    assert onward.status_code == 200, onward.text
