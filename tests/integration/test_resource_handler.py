from __future__ import annotations

import sys

import resource_handler
import token_handler
from tests.integration.conftest import body_of, invoke
from tests.support import load_event


def access_token() -> str:
    return str(
        body_of(invoke(token_handler, load_event("token_client_credentials")))["access_token"]
    )


def with_token(name: str, token: str) -> dict[str, object]:
    return load_event(name, headers={"authorization": f"Bearer {token}"})


def test_read_with_token(resource_via_token_handler: None) -> None:
    result = invoke(resource_handler, with_token("resource_get", access_token()))
    assert result["statusCode"] == 200
    assert body_of(result) == {
        "action": "read",
        "sub": "svc",
        "client_id": "svc",
        "scope": "read:data",
    }


def test_write_needs_write_scope(resource_via_token_handler: None) -> None:
    result = invoke(resource_handler, with_token("resource_post", access_token()))
    assert result["statusCode"] == 403
    assert 'scope="write:data"' in result["headers"]["WWW-Authenticate"]


def test_sample_event_placeholder_token_is_refused(resource_via_token_handler: None) -> None:
    result = invoke(resource_handler, load_event("resource_get"))
    assert result["statusCode"] == 401


def test_resource_function_imports_no_aws_sdk() -> None:
    import subprocess

    code = (
        "import sys; sys.path.insert(0, 'functions/resource'); import resource_handler; "
        "print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('boto3', 'botocore', 's3transfer')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = eval(out.stdout)
    # Powertools imports the bare `botocore` package for its user-agent helper; nothing else.
    assert not [m for m in loaded if m.startswith("boto3") or m.startswith("botocore.")], loaded
