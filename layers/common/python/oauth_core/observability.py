"""Logs (Powertools Logger) and metrics (CloudWatch EMF records), shared by every function.
Nothing secret is ever logged.

Each count is an EMF record of its own, published under exactly the dimensions
oauth_core.metrics declares for it (one record for a whole invocation would publish every metric
under the union of their dimensions, where no alarm looks). The record is the document
Powertools' Metrics would print, built once per metric and dimension values and written with
the time filled in: counting is on the hot path of every token.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

from aws_lambda_powertools import Logger

from oauth_core.constants import METRICS_NAMESPACE, SERVICE_NAME
from oauth_core.metrics import dimensions_of

logger = Logger(service=SERVICE_NAME)
# The local stack turns metrics off: they would only be noise on its terminal.
_METRICS_ON = os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() not in ("1", "true")
# Dimension values come from the code (grant types, error codes), so the distinct records are
# few; the bound only keeps a bug from growing the cache.
_MAX_RECORDS = 1000
_TIME_SLOT = '"Timestamp":0,'

_records: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[str, str]] = {}
_lock = threading.Lock()


def emf_record(name: str, dimensions: dict[str, str]) -> tuple[str, str]:
    """An EMF document counting one `name` under `dimensions`, split where its time goes."""
    document = {
        "_aws": {
            "Timestamp": 0,
            "CloudWatchMetrics": [
                {
                    "Namespace": METRICS_NAMESPACE,
                    "Dimensions": [list(dimensions)],
                    "Metrics": [{"Name": name, "Unit": "Count"}],
                }
            ],
        },
        **dimensions,
        name: [1.0],
    }
    before, after = json.dumps(document, separators=(",", ":")).split(_TIME_SLOT, 1)
    return before + '"Timestamp":', "," + after + "\n"


def count(name: str, **dimensions: str) -> None:
    """Count one event (an undeclared name or dimension raises UndeclaredMetric, metrics on or
    off)."""
    key = (name, tuple(dimensions.items()))
    record = _records.get(key)
    if record is None:
        record = emf_record(name, dimensions_of(name, **dimensions))
        with _lock:
            if len(_records) < _MAX_RECORDS:
                _records[key] = record
    if _METRICS_ON:
        sys.stdout.write(f"{record[0]}{time.time_ns() // 1_000_000}{record[1]}")
