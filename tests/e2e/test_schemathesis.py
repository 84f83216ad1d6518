"""The OpenAPI description (docs/openapi.yaml) against the running local stack: generated
requests (fixed seed, bounded examples) find no 5xx, every /token, /revoke and /introspect
answer carries the token headers and an RFC 6749 error code, and responses match the spec."""

from __future__ import annotations

import json
import os
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.conftest import LocalStack

ROOT = Path(__file__).resolve().parents[2]
# One file per pytest-xdist worker (each sees only the operations it ran).
OUTPUT = ROOT / "test-output" / f"schemathesis-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.json"
schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.yaml")
TOKEN_PATHS = ("/token", "/revoke", "/introspect", "/par")
RFC6749_ERRORS = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "server_error",
    "temporarily_unavailable",
}
# RFC 9126 2.3: /par also answers with the authorization endpoint's codes.
PUSHED_REQUEST_ERRORS = RFC6749_ERRORS | {"unsupported_response_type", "invalid_target"}
COUNTS: dict[str, int] = {}


@schema.parametrize()
@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_and_never_answers_5xx(case: schemathesis.Case, stack: LocalStack) -> None:
    response = case.call(base_url=stack.issuer, allow_redirects=False, timeout=10)
    label = f"{case.method} {case.path}"
    COUNTS[label] = COUNTS.get(label, 0) + 1
    _record()
    assert response.status_code < 500, (label, response.status_code, response.text[:300])
    if case.path in TOKEN_PATHS:
        # schemathesis keeps headers as lower-case names with lists of values
        assert response.headers.get("cache-control") == ["no-store"], label
        assert response.headers.get("pragma") == ["no-cache"], label
        if response.status_code >= 400:
            allowed = PUSHED_REQUEST_ERRORS if case.path == "/par" else RFC6749_ERRORS
            assert response.json()["error"] in allowed, response.text
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


def _record() -> None:
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(
        json.dumps({"requests": sum(COUNTS.values()), "by_operation": COUNTS}, indent=2)
    )
