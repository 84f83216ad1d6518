"""The Logger is loaded on the first line written, with every key appended before then."""

from __future__ import annotations

import io
import json

import pytest

from oauth_core.observability import DeferredLogger


def test_keys_appended_before_the_first_line_are_on_it() -> None:
    log = DeferredLogger("svc-test")
    log.append_keys(correlation_id="c-1", cold_start=True)
    log.append_keys(correlation_id="c-2")
    stream = io.StringIO()
    log.registered_handler.setStream(stream)  # the first use creates Powertools' Logger
    log.append_keys(function_name="token")
    log.info("hello", extra={"client_id": "app"})
    line = json.loads(stream.getvalue())
    assert line["message"] == "hello" and line["service"] == "svc-test"
    assert (line["correlation_id"], line["cold_start"], line["function_name"]) == (
        "c-2",
        True,
        "token",
    )
    assert line["client_id"] == "app"
    # The location is the caller's, not the wrapper's.
    assert line["location"].startswith("test_keys_appended_before_the_first_line_are_on_it:")


@pytest.mark.parametrize(
    ("variable", "value", "enabled"),
    [
        ("LOG_LEVEL", "DEBUG", True),
        ("POWERTOOLS_LOG_LEVEL", "debug", True),
        ("LOG_LEVEL", "INFO", False),
        (None, None, False),
    ],
)
def test_debug_is_enabled_as_the_environment_says(
    monkeypatch: pytest.MonkeyPatch, variable: str | None, value: str | None, enabled: bool
) -> None:
    for name in ("LOG_LEVEL", "POWERTOOLS_LOG_LEVEL", "AWS_LAMBDA_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    if variable and value:
        monkeypatch.setenv(variable, value)
    # A service of its own: Python's logging keeps one logger per name, set up once.
    log = DeferredLogger(f"svc-debug-{variable}-{value}")
    assert log.debug_enabled() is enabled
    log.setLevel("DEBUG")
    assert log.debug_enabled() is True
