"""Stack configuration from CDK context (`cdk.json`, or `-c key=value`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


def _bool(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class StackConfig:
    stack_name: str = "OAuthServer"
    stage: str = "prod"
    custom_domain: str | None = None
    certificate_arn: str | None = None
    access_token_ttl: int = 600
    refresh_token_idle_ttl: int = 14 * 24 * 3600
    refresh_token_absolute_ttl: int = 90 * 24 * 3600
    architecture: str = "arm64"
    memory_mb: int = 512
    resource_memory_mb: int = 256
    log_retention_days: int = 30
    removal_policy: str = "retain"
    deletion_protection: bool = True
    key_rotation_days: int = 30
    # Guessing limits (oauth_core.rules.throttle): failures per client or user and source, per
    # source, and how long a full bucket takes to drain.
    max_failed_attempts: int = 10
    max_failed_attempts_per_source: int = 100
    failed_attempts_window: int = 300
    throttle_rate: int = 200
    throttle_burst: int = 400
    alarm_email: str | None = None
    skip_bundling: bool = False
    # SnapStart for the functions behind the API (docs/performance.md: what it changes, costs).
    snap_start: bool = False

    @classmethod
    def from_context(cls, get: Any) -> StackConfig:
        """`get` is `node.try_get_context`."""
        defaults = cls()
        values: dict[str, Any] = {}
        for name, default in defaults.__dict__.items():
            raw = get(name)
            if raw is None:
                continue
            if isinstance(default, bool):
                values[name] = _bool(raw)
            elif isinstance(default, int):
                values[name] = int(raw)
            else:
                values[name] = str(raw)
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        if self.architecture not in ("arm64", "x86_64"):
            raise ValueError("architecture must be arm64 or x86_64")
        if self.removal_policy not in ("retain", "destroy"):
            raise ValueError("removal_policy must be retain or destroy")
        if self.log_retention_days not in _RETENTION:
            raise ValueError(f"log_retention_days must be one of {sorted(_RETENTION)}")
        if bool(self.custom_domain) != bool(self.certificate_arn):
            raise ValueError("custom_domain and certificate_arn go together")

    @property
    def lambda_architecture(self) -> lambda_.Architecture:
        return (
            lambda_.Architecture.ARM_64
            if self.architecture == "arm64"
            else lambda_.Architecture.X86_64
        )

    @property
    def pip_platforms(self) -> tuple[str, ...]:
        machine = "aarch64" if self.architecture == "arm64" else "x86_64"
        return (f"manylinux2014_{machine}", f"manylinux_2_28_{machine}")

    @property
    def retention(self) -> logs.RetentionDays:
        return _RETENTION[self.log_retention_days]

    @property
    def removal(self) -> RemovalPolicy:
        return RemovalPolicy.RETAIN if self.removal_policy == "retain" else RemovalPolicy.DESTROY
