"""Modelled cost per million tokens from the measured figures and AWS's public us-east-1 prices.
The formula is in docs/performance.md; every input is printed with the result."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Public on-demand prices, us-east-1 (USD).
HTTP_API_PER_MILLION = 1.00  # first 300 million requests a month
LAMBDA_REQUESTS_PER_MILLION = 0.20
LAMBDA_ARM_PER_GB_SECOND = 0.0000133334
DYNAMODB_PER_MILLION_WRU = 0.625
DYNAMODB_PER_MILLION_RRU = 0.125
LOGS_PER_GB_INGESTED = 0.50
# The audit log group's class (infra/audit.py): Infrequent Access.
LOGS_INFREQUENT_ACCESS_PER_GB_INGESTED = 0.25
COGNITO_M2M_PER_MILLION = 2250.0

MEMORY_MB = 512
# Lambda gives a function CPU in proportion to memory: one vCPU at 1,769 MB.
CPU_SHARE = MEMORY_MB / 1769
# Per request: one EMF metrics line (measured) and one API Gateway access-log line (its JSON
# format with typical values). Lambda's platform START/END/REPORT lines are off
# (system log level WARN), and the client-credentials path writes no application log line.
TYPICAL_ACCESS_LOG_VALUES = {
    "$context.requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef=",
    "$context.identity.sourceIp": "198.51.100.7",
    "$context.requestTimeEpoch": "1795694400000",
    "$context.routeKey": "ANY /token",
    "$context.status": "200",
    "$context.responseLatency": "12",
    "$context.integrationErrorMessage": "-",
}


def access_log_bytes() -> int:
    import json

    from infra.api import ACCESS_LOG_FORMAT

    line = {k: TYPICAL_ACCESS_LOG_VALUES.get(v, v) for k, v in ACCESS_LOG_FORMAT.items()}
    return len(json.dumps(line)) + 1


DYNAMODB_LATENCY_MS = 6.0  # a typical in-region single-digit-millisecond call


@dataclass(frozen=True)
class CostInputs:
    cpu_us: float
    dynamodb_reads: float = 0  # strongly consistent, items under 4 KB: 1 RRU each
    transactional_write_items: float = 0  # 2 WRU per item under 1 KB
    aws_round_trips: float = 0
    log_bytes: float = 0
    # The audit log's copy of the request's audit records (the forwarder's invocations, one per
    # batch CloudWatch Logs delivers, are not counted).
    audit_log_bytes: float = 0


@dataclass(frozen=True)
class Cost:
    billed_ms: int
    lambda_usd: float
    api_usd: float
    dynamodb_usd: float
    logs_usd: float

    @property
    def total(self) -> float:
        return self.lambda_usd + self.api_usd + self.dynamodb_usd + self.logs_usd


def per_million(inputs: CostInputs) -> Cost:
    wall_ms = inputs.cpu_us / 1000 / CPU_SHARE + inputs.aws_round_trips * DYNAMODB_LATENCY_MS
    billed_ms = max(1, math.ceil(wall_ms))
    gb_seconds = MEMORY_MB / 1024 * billed_ms / 1000
    lambda_usd = LAMBDA_REQUESTS_PER_MILLION + gb_seconds * LAMBDA_ARM_PER_GB_SECOND * 1_000_000
    dynamodb_usd = (
        inputs.dynamodb_reads * DYNAMODB_PER_MILLION_RRU
        + inputs.transactional_write_items * 2 * DYNAMODB_PER_MILLION_WRU
    )
    logs_usd = (inputs.log_bytes + access_log_bytes()) * 1_000_000 / 1e9 * LOGS_PER_GB_INGESTED
    logs_usd += inputs.audit_log_bytes * 1_000_000 / 1e9 * LOGS_INFREQUENT_ACCESS_PER_GB_INGESTED
    return Cost(billed_ms, lambda_usd, HTTP_API_PER_MILLION, dynamodb_usd, logs_usd)
