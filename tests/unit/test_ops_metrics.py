"""SECURITY O2: every metric is published with exactly the dimensions oauth_core.metrics declares
for it, whatever else the same invocation counts; a count() the catalogue does not declare fails.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from oauth_core import constants, observability
from oauth_core.metrics import METRICS, SERVICE_DIMENSION, UndeclaredMetric, dimensions_of
from oauth_core.observability import count

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    *sorted((ROOT / "layers" / "common" / "python" / "oauth_core").rglob("*.py")),
    *sorted((ROOT / "functions").rglob("*.py")),
]


def is_count(func: ast.expr) -> bool:
    """`count(...)`, as the code base imports it, or `observability.count(...)`."""
    if isinstance(func, ast.Name):
        return func.id == "count"
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "count"
        and isinstance(func.value, ast.Name)
        and func.value.id == "observability"
    )


def count_calls() -> list[tuple[str, int, ast.Call]]:
    """Every call of count() in the server's code (the layer and the handlers)."""
    calls = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and is_count(node.func):
                calls.append((str(path.relative_to(ROOT)), node.lineno, node))
    return calls


def emf_records(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if '"_aws"' in line]


def published(record: dict[str, Any]) -> tuple[str, set[str]]:
    """(metric name, dimension names) of a one-metric EMF record."""
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    (metric,) = directive["Metrics"]
    (dimension_set,) = directive["Dimensions"]
    assert directive["Namespace"] == constants.METRICS_NAMESPACE
    return metric["Name"], set(dimension_set)


@pytest.fixture
def metrics_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(observability, "_METRICS_ON", True)


def test_o2_every_count_call_in_the_code_base_matches_the_catalogue() -> None:
    calls = count_calls()
    assert len(calls) >= len(METRICS), "the scan found too few count() calls: is it broken?"
    counted = set()
    for where, line, call in calls:
        site = f"{where}:{line}"
        assert len(call.args) == 1, site
        assert isinstance(call.args[0], ast.Constant), f"{site}: the metric name must be literal"
        name = call.args[0].value
        assert name in METRICS, f"{site}: {name!r} is not declared in oauth_core.metrics"
        assert all(k.arg is not None for k in call.keywords), f"{site}: no **dimensions"
        # `_extra`: more properties for the record (a token's audit record), no dimension.
        given = {k.arg for k in call.keywords} - {"_extra"}
        assert given == METRICS[name], f"{site}: {name} takes {sorted(METRICS[name])}"
        counted.add(name)
    # A declared metric nobody counts would be a dashboard or alarm on nothing.
    assert counted == set(METRICS)


@pytest.mark.parametrize(
    ("name", "dimensions"),
    [
        ("RefreshTokenReuses", {}),  # not declared
        ("RefreshTokenReuse", {"error": "invalid_grant"}),  # a dimension too many
        ("OAuthError", {}),  # a dimension missing
        ("OAuthError", {"code": "invalid_grant"}),  # the wrong dimension
        ("OAuthError", {"error": ""}),  # a value Powertools would silently drop
    ],
)
def test_o2_count_refuses_what_the_catalogue_does_not_declare(
    name: str, dimensions: dict[str, str], metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(UndeclaredMetric):
        count(name, **dimensions)
    assert emf_records(capsys.readouterr().out) == []


def test_o2_count_refuses_undeclared_metrics_with_metrics_disabled_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(observability, "_METRICS_ON", False)
    with pytest.raises(UndeclaredMetric):
        count("NotAMetric")


def test_o2_each_count_is_published_with_exactly_its_own_dimensions(
    metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """What broke the reuse alarm: in one invocation, RefreshTokenReuse and an OAuthError with
    its `error`. Each record carries only its own metric and its own dimensions."""
    count("RefreshTokenReuse")
    count("OAuthError", error="invalid_grant")
    count("TokenRevoked", token_type="refresh_token")
    count("CodeReplay")
    records = emf_records(capsys.readouterr().out)
    assert [published(r) for r in records] == [
        ("RefreshTokenReuse", {SERVICE_DIMENSION}),
        ("OAuthError", {SERVICE_DIMENSION, "error"}),
        ("TokenRevoked", {SERVICE_DIMENSION, "token_type"}),
        ("CodeReplay", {SERVICE_DIMENSION}),
    ]
    assert records[1]["error"] == "invalid_grant"
    assert all(r[SERVICE_DIMENSION] == constants.SERVICE_NAME for r in records)


def test_o2_dimensions_of_adds_the_service_to_the_declared_ones() -> None:
    assert dimensions_of("TokenIssued", grant_type="client_credentials") == {
        SERVICE_DIMENSION: constants.SERVICE_NAME,
        "grant_type": "client_credentials",
    }
    assert dimensions_of("RefreshTokenReuse") == {SERVICE_DIMENSION: constants.SERVICE_NAME}
