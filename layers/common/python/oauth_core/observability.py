"""Logs (Powertools Logger) and metrics (CloudWatch EMF records), shared by every function.
Nothing secret is ever logged.

The Logger is imported when the first line is written: importing Powertools costs a cold start
tens of milliseconds (its package loads Metrics, Tracer and jmespath too), and a request that
logs nothing, such as every client-credentials token and every accepted resource call, should
not pay it. Until then the keys to log with are kept here.

Each count is an EMF record of its own, published under exactly the dimensions
oauth_core.metrics declares for it (one record for a whole invocation would publish every metric
under the union of their dimensions, where no alarm looks). The record is the document
Powertools' Metrics would print, built once per metric and dimension values and written with
the time filled in: counting is on the hot path of every token. A record may carry more
top-level properties (EMF ignores them): a token's audit record rides in its TokenIssued record
(oauth_core.audit), so issuing a token still writes one line.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from oauth_core.constants import METRICS_NAMESPACE, SERVICE_NAME
from oauth_core.metrics import dimensions_of

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

_DEBUG = 10  # logging.DEBUG, without importing logging for it
# Lambda's advanced logging controls, then Powertools' own, then the generic one.
_LEVEL_VARIABLES = ("AWS_LAMBDA_LOG_LEVEL", "POWERTOOLS_LOG_LEVEL", "LOG_LEVEL")


class DeferredLogger:
    """Powertools' Logger for `service`, created on first use; keys appended before then are
    applied when it is."""

    def __init__(self, service: str):
        self._service = service
        self._keys: dict[str, Any] = {}
        self._logger: Logger | None = None

    @property
    def powertools(self) -> Logger:
        if self._logger is None:
            from aws_lambda_powertools import Logger

            created = Logger(service=self._service)
            created.append_keys(**self._keys)
            self._logger = created
        return self._logger

    def append_keys(self, **fields: Any) -> None:
        if self._logger is None:
            self._keys.update(fields)
        else:
            self._logger.append_keys(**fields)

    def debug_enabled(self) -> bool:
        """Whether debug lines are written. Unless a level variable Powertools reads asks for
        debug (or Lambda's trace), that is known without loading Powertools to ask."""
        if self._logger is None:
            asked = {os.environ.get(name, "").strip().upper() for name in _LEVEL_VARIABLES}
            if not asked & {"DEBUG", "TRACE"}:
                return False
        return bool(self.powertools.log_level <= _DEBUG)

    def debug(self, message: str, **kwargs: Any) -> None:
        self.powertools.debug(message, stacklevel=3, **kwargs)

    def info(self, message: str, **kwargs: Any) -> None:
        self.powertools.info(message, stacklevel=3, **kwargs)

    def warning(self, message: str, **kwargs: Any) -> None:
        self.powertools.warning(message, stacklevel=3, **kwargs)

    def exception(self, message: str, **kwargs: Any) -> None:
        self.powertools.exception(message, stacklevel=3, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # Anything else (handlers, formatter, level) is the Logger's own.
        return getattr(self.powertools, name)


logger = DeferredLogger(SERVICE_NAME)
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
    # The closing brace is written with the record: properties may go before it.
    return before + '"Timestamp":', "," + after[:-1]


def metrics_on() -> bool:
    """Whether metric records are written (the local stack turns them off)."""
    return _METRICS_ON


def count(name: str, _extra: str = "", **dimensions: str) -> None:
    """Count one event (an undeclared name or dimension raises UndeclaredMetric, metrics on or
    off). `_extra`: more top-level properties for the record, `,"key":value` JSON text."""
    key = (name, tuple(dimensions.items()))
    record = _records.get(key)
    if record is None:
        record = emf_record(name, dimensions_of(name, **dimensions))
        with _lock:
            if len(_records) < _MAX_RECORDS:
                _records[key] = record
    if _METRICS_ON:
        sys.stdout.write(f"{record[0]}{time.time_ns() // 1_000_000}{record[1]}{_extra}}}\n")
