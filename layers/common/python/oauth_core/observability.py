"""Powertools Logger and Metrics, shared by every function. Nothing secret is ever logged."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from oauth_core.constants import METRICS_NAMESPACE, SERVICE_NAME

logger = Logger(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
# Powertools keeps dimensions until a flush, and a disabled Metrics never flushes.
_METRICS_ON = os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() not in ("1", "true")


def correlate(event: dict[str, Any]) -> None:
    """API Gateway's request id as the correlation id: a dictionary lookup, where Powertools'
    correlation_id_path would run a JMESPath query on every request."""
    logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))


def count(name: str, **dimensions: str) -> None:
    """Count one event. One request records one outcome, so its dimensions are its own."""
    if not _METRICS_ON:
        return
    for key, value in dimensions.items():
        metrics.add_dimension(name=key, value=value)
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
