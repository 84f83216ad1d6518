"""SECURITY O2 through the real code paths: a code replay and a refresh-token reuse, each counted
in the same invocation as the OAuthError it is answered with, are published with exactly the
dimensions of the alarms on them in the synthesized template."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import token_handler
from benchmarks.standin import code_exchange_event, form_event
from oauth_core import observability
from oauth_core.config import Settings
from oauth_core.wiring import aws_components
from tests.integration.conftest import body_of, invoke

# One worker synthesizes the template once for the module.
pytestmark = pytest.mark.xdist_group("ops-metrics-template")


@pytest.fixture(scope="module")
def alarmed() -> dict[str, dict[str, str]]:
    """Metric name -> the dimensions its alarm watches, read from the synthesized template."""
    from aws_cdk.assertions import Template

    from tests.infra.conftest import synth
    from tests.infra.test_ops import project_alarms

    return project_alarms(dict(Template.from_stack(synth()).to_json()["Resources"]))


@pytest.fixture(autouse=True)
def metrics_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(observability, "_METRICS_ON", True)


def replay_a_code() -> dict[str, Any]:
    """Redeem a code, then present it again: the invocation under test is the second."""
    event = code_exchange_event(aws_components(cached=False), "openid read:data")
    assert invoke(token_handler, event)["statusCode"] == 200
    return event


def reuse_a_refresh_token() -> dict[str, Any]:
    """Rotate a refresh token, then present the used one again (the invocation under test)."""
    tokens = body_of(
        invoke(token_handler, code_exchange_event(aws_components(cached=False), "openid read:data"))
    )
    event = form_event(
        {
            "grant_type": "refresh_token",
            "client_id": "app",
            "refresh_token": tokens["refresh_token"],
        }
    )
    assert invoke(token_handler, event)["statusCode"] == 200
    return event


# Each alarmed metric, and how the server comes to count it.
SCENARIOS: dict[str, Callable[[], dict[str, Any]]] = {
    "CodeReplay": replay_a_code,
    "RefreshTokenReuse": reuse_a_refresh_token,
}


def emf_records(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if '"_aws"' in line]


def metrics_of(record: dict[str, Any]) -> list[str]:
    return [m["Name"] for d in record["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]


def dimension_sets(record: dict[str, Any]) -> list[set[str]]:
    return [set(names) for d in record["_aws"]["CloudWatchMetrics"] for names in d["Dimensions"]]


def test_o2_every_alarmed_metric_has_a_scenario(alarmed: dict[str, dict[str, str]]) -> None:
    assert {"CodeReplay", "RefreshTokenReuse"} <= set(alarmed)
    assert set(alarmed) <= set(SCENARIOS), "an alarmed metric this test cannot make the code emit"


@pytest.mark.parametrize("metric", sorted(SCENARIOS))
def test_o2_alarmed_metric_is_published_with_exactly_its_alarms_dimensions(
    metric: str,
    alarmed: dict[str, dict[str, str]],
    aws: Settings,
    app_client: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = SCENARIOS[metric]()
    capsys.readouterr()
    answer = invoke(token_handler, event)
    assert answer["statusCode"] == 400
    assert body_of(answer)["error"] == "invalid_grant"
    records = emf_records(capsys.readouterr().out)
    # The same invocation counted the refusal too: what used to lend the metric its `error`.
    assert any(
        metrics_of(r) == ["OAuthError"] and r.get("error") == "invalid_grant" for r in records
    ), records
    published = [r for r in records if metric in metrics_of(r)]
    assert len(published) == 1, records
    (record,) = published
    alarm = alarmed[metric]
    assert metrics_of(record) == [metric]
    assert dimension_sets(record) == [set(alarm)]
    assert {name: record[name] for name in alarm} == alarm
