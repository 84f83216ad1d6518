from __future__ import annotations

import jwt

from oauth_core.endpoints.token import TokenEndpoint
from oauth_core.wiring import Components
from tests.support import ISSUER, SERVICE_ID, SERVICE_SECRET, basic, form_request, respond


def test_issues_rfc9068_access_token(services: Components, service_client: str) -> None:
    endpoint = TokenEndpoint(
        services.grant_types, services.client_auth, services.settings, services.dpop
    )
    response = respond(
        endpoint.handle,
        form_request(
            {"grant_type": "client_credentials"},
            headers={"Authorization": basic(SERVICE_ID, SERVICE_SECRET)},
        ),
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == services.settings.access_token_ttl
    assert "refresh_token" not in body
    key = services.keys.load().current("ES256")
    header = jwt.get_unverified_header(body["access_token"])
    assert header == {"alg": "ES256", "typ": "at+jwt", "kid": key.kid}
    claims = jwt.decode(
        body["access_token"],
        key.private_key.public_key(),
        algorithms=["ES256"],
        audience=f"{ISSUER}/resource",
        issuer=ISSUER,
        options={"verify_exp": False, "verify_iat": False},  # the test clock is in the past
    )
    assert claims["sub"] == claims["client_id"] == SERVICE_ID
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    assert claims["iat"] == services.clock.now()
    # 128 bits or more of entropy in the token id (C1).
    assert len(claims["jti"]) >= 22


def test_unexpected_failure_is_server_error_without_details(services: Components) -> None:
    def explode(_: object) -> object:
        raise RuntimeError("secret internals")

    response = respond(explode, form_request({}))  # type: ignore[arg-type]
    assert response.status_code == 500
    assert response.json() == {
        "error": "server_error",
        "error_description": "an unexpected error occurred",
    }
    assert response.headers["Cache-Control"] == "no-store"
