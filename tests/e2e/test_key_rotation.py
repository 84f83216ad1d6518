"""A signing-key rotation never breaks a token in flight, across every warm container.

Containers that loaded the key set before the rotation keep signing with the old key for up to
the key cache's lifetime, and new ones sign with the promoted key; every JWKS any container
serves must verify both. The rotation runs on a stack of its own, so that the containers are
started here, in a known order, and so that no other test's rotations count.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
import requests

from local_stack.gateway import CONTAINERS_PER_FUNCTION
from tests.e2e.conftest import LocalStack, local_stack
from tests.e2e.flows import service_token
from tests.e2e.test_security_client_credentials import oauthctl


@pytest.fixture(scope="module")
def rotating_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(tmp_path_factory, "local-stack-rotation") as running:
        yield running


def resource_status(stack: LocalStack, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(f"{stack.issuer}/resource", headers=headers, timeout=10).status_code


def test_rotation_keeps_old_and_new_tokens_valid_in_every_container(
    rotating_stack: LocalStack,
) -> None:
    stack = rotating_stack
    # One warm container per function, holding the key set and the JWKS from before.
    issued_before = service_token(stack)
    assert resource_status(stack, issued_before) == 200

    rotated = oauthctl(stack, "keys", "rotate", "--force")  # the stack made its keys just now
    assert rotated.returncode == 0, rotated.stderr

    # Parallel round trips until containers started after the rotation have signed too: they
    # sign with the promoted key while the first one still signs with the old key, and each
    # resource container verifies with whichever JWKS it fetched.
    width = 3 * CONTAINERS_PER_FUNCTION
    signing_kids: set[str] = set()
    statuses: list[int] = []
    with ThreadPoolExecutor(width) as pool:
        for _ in range(5):
            tokens = list(pool.map(lambda _: service_token(stack), range(width)))
            signing_kids |= {jwt.get_unverified_header(token)["kid"] for token in tokens}
            statuses += pool.map(lambda token: resource_status(stack, token), tokens)
            if len(signing_kids) == 2:
                break
    assert len(signing_kids) == 2, "the old and the promoted key should both have signed"
    assert set(statuses) == {200}
    assert resource_status(stack, issued_before) == 200


def test_a_new_key_is_published_by_warm_containers_long_before_it_signs(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # The published set is re-read every JWKS_CACHE_TTL (1 s here, 30 s by default), the signing
    # set every SECRET_CACHE_TTL (5 min): a warm container publishes a rotation's new next key
    # soon after it exists, and signs with the promoted one only when its signing set renews.
    with local_stack(tmp_path_factory, "local-stack-jwks-ttl", {"JWKS_CACHE_TTL": "1"}) as stack:
        signing_kid = jwt.get_unverified_header(service_token(stack))["kid"]

        def published() -> set[str]:
            jwks = requests.get(f"{stack.issuer}/.well-known/jwks.json", timeout=10)
            return {key["kid"] for key in jwks.json()["keys"]}

        before = published()
        rotated = oauthctl(stack, "keys", "rotate", "--force")
        assert rotated.returncode == 0, rotated.stderr
        time.sleep(1.5)
        added = published() - before
        assert len(added) == 2  # the new next keys, ES256 and RS256
        assert jwt.get_unverified_header(service_token(stack))["kid"] == signing_kid
