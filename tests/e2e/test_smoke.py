"""`oauthctl smoke`, the post-deploy check, against the running local stack: it passes on a
healthy stack, says which step failed otherwise, and never leaves its client behind."""

from __future__ import annotations

import io

from oauth_core.wiring import memory_components
from oauthctl import smoke
from tests.e2e.conftest import LocalStack
from tests.e2e.test_security_client_credentials import oauthctl


def test_the_smoke_test_passes_against_a_healthy_stack_and_cleans_up(stack: LocalStack) -> None:
    ran = oauthctl(stack, "smoke", "--issuer", stack.issuer)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == f"Smoke test of {stack.issuer}"
    for step in ("discovery", "JWKS", "register", "token", "protected API", "delete"):
        assert any(line.strip().startswith("ok") and step in line for line in lines), step
    assert lines[-1] == "passed: all 6 steps"
    listed = oauthctl(stack, "clients", "list")
    assert smoke.CLIENT_PREFIX not in listed.stdout


def test_a_failing_step_is_named_and_the_client_is_still_deleted(stack: LocalStack) -> None:
    # The client is registered where the stack cannot see it (an in-memory store), so the
    # stack refuses its token: the token step fails, the rest is not run, and the client is
    # deleted all the same.
    registry = memory_components().registry
    out = io.StringIO()
    assert smoke.run(registry, stack.issuer, out) is False
    report = out.getvalue().splitlines()
    assert any(line.strip().startswith("FAIL") and "token" in line for line in report), report
    assert any(line.strip().startswith("ok") and "delete" in line for line in report), report
    assert report[-1] == "FAILED: 4 of 6 steps passed, 1 not run"
    assert registry.list() == []


def test_an_issuer_that_is_neither_https_nor_loopback_is_refused_before_anything_is_sent(
    stack: LocalStack,
) -> None:
    ran = oauthctl(stack, "smoke", "--issuer", "http://auth.example.com")
    assert ran.returncode == 3
    assert "neither https nor a loopback address" in ran.stdout
    assert "the smoke test failed" in ran.stderr
