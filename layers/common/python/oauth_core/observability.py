"""Powertools Logger and Metrics, shared by every function. Nothing secret is ever logged."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from oauth_core.constants import METRICS_NAMESPACE, SERVICE_NAME
from oauth_core.metrics import dimensions_of

logger = Logger(service=SERVICE_NAME)
# single_metric prints its record even when Powertools metrics are disabled: the switch is here.
_METRICS_ON = os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() not in ("1", "true")


def correlate(event: dict[str, Any]) -> None:
    """API Gateway's request id as the correlation id: a dictionary lookup, where Powertools'
    correlation_id_path would run a JMESPath query on every request."""
    logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))


def count(name: str, **dimensions: str) -> None:
    """Count one event, published under exactly the dimensions oauth_core.metrics declares for
    it (an undeclared name or dimension raises UndeclaredMetric, metrics on or off).

    Each count is its own EMF record: the shared Metrics object flushes all of an invocation's
    metrics in one record under the union of their dimensions, which would publish, say,
    RefreshTokenReuse under the `error` of the OAuthError counted beside it, where no alarm on
    RefreshTokenReuse looks."""
    published = dimensions_of(name, **dimensions)
    if not _METRICS_ON:
        return
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=1,
        namespace=METRICS_NAMESPACE,
        default_dimensions=published,
    ):
        pass
