from __future__ import annotations

import base64

import pytest

from oauth_core import constants
from oauth_core.admin.registry import ClientRegistry
from oauth_core.clock import FixedClock
from oauth_core.errors import InvalidClient, InvalidRequest
from oauth_core.rules.client_auth import presented_credentials
from oauth_core.wiring import Components
from tests.support import SERVICE_ID, SERVICE_SECRET, basic


def test_basic_decoding_form_url_decodes_both_parts() -> None:
    header = basic("id:with+plus", "se:cr%et+ü")
    presented = presented_credentials(header, {})
    assert presented.method == constants.AUTH_METHOD_BASIC
    assert (presented.client_id, presented.client_secret) == ("id:with+plus", "se:cr%et+ü")


def test_basic_plus_means_space() -> None:
    raw = base64.b64encode(b"client:a+b").decode()
    assert presented_credentials(f"Basic {raw}", {}).client_secret == "a b"


@pytest.mark.parametrize(
    "value", ["Basic", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode()]
)
def test_malformed_basic_is_invalid_client_with_challenge(value: str) -> None:
    with pytest.raises(InvalidClient) as caught:
        presented_credentials(value, {})
    assert caught.value.headers["WWW-Authenticate"].startswith("Basic ")


def test_basic_and_post_together_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest):
        presented_credentials(basic("a", "b"), {"client_secret": "b"})


def test_basic_with_a_different_body_client_id_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest):
        presented_credentials(basic("a", "b"), {"client_id": "other"})


def test_authenticates_current_and_previous_secret_during_grace(
    services: Components, service_client: str, registry: ClientRegistry, clock: FixedClock
) -> None:
    authenticate = services.authenticator.authenticate
    assert authenticate(basic(SERVICE_ID, SERVICE_SECRET), {}).client_id == SERVICE_ID
    new_secret = registry.rotate_secret(SERVICE_ID)
    assert authenticate(basic(SERVICE_ID, new_secret), {}).client_id == SERVICE_ID
    assert authenticate(basic(SERVICE_ID, SERVICE_SECRET), {}).client_id == SERVICE_ID
    clock.advance(services.settings.secret_rotation_grace)
    with pytest.raises(InvalidClient):
        authenticate(basic(SERVICE_ID, SERVICE_SECRET), {})
    assert authenticate(basic(SERVICE_ID, new_secret), {}).client_id == SERVICE_ID


def test_method_must_match_the_registration(services: Components, service_client: str) -> None:
    with pytest.raises(InvalidClient):
        services.authenticator.authenticate(
            None, {"client_id": SERVICE_ID, "client_secret": SERVICE_SECRET}
        )
    with pytest.raises(InvalidClient):
        services.authenticator.authenticate(None, {"client_id": SERVICE_ID})


def test_disabled_client_cannot_authenticate(
    services: Components, service_client: str, registry: ClientRegistry
) -> None:
    registry.update(SERVICE_ID, {"disabled": True})
    with pytest.raises(InvalidClient):
        services.authenticator.authenticate(basic(SERVICE_ID, SERVICE_SECRET), {})


def test_confidential_client_without_stored_secret_never_authenticates(
    services: Components, service_client: str
) -> None:
    services.secrets.delete_secret(SERVICE_ID)
    with pytest.raises(InvalidClient):
        services.authenticator.authenticate(basic(SERVICE_ID, "x" * 43), {})
