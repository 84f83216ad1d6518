"""Starting the whole local stack in one process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from local_stack import (
    AUDIT_FILE_PARAMETER,
    DEFAULT_AUDIT_FILE,
    EMAIL_SENDER_PARAMETER,
    ISSUER_PARAMETER,
    LOCAL_EMAIL_SENDER,
)
from local_stack.aws import MotoServer, create_resources, use_local_aws
from local_stack.gateway import LocalGateway
from local_stack.seed import CatalogAdmins, Seed, SeedResult, apply_seed, read_seed
from oauth_core import audit, constants
from oauth_core.clock import SystemClock
from oauth_core.config import Settings
from oauth_core.wiring import aws_components


@dataclass
class RunningStack:
    moto: MotoServer
    gateway: LocalGateway
    issuer: str
    seed: Seed
    seeded: SeedResult
    audit_file: Path

    def stop(self) -> None:
        self.gateway.shutdown()
        self.moto.stop()


def start(host: str = "127.0.0.1", port: int = 8000, seed_path: Path | None = None) -> RunningStack:
    seed = read_seed(seed_path)  # refuse a bad seed before starting anything
    moto = MotoServer(host).start()
    use_local_aws(moto.endpoint_url)
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", constants.SERVICE_NAME)
    # Metrics go to CloudWatch as EMF lines on stdout; locally they would only be noise.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    audit_file = use_audit_file()
    gateway = LocalGateway(host, port)
    os.environ[constants.ENV_ISSUER] = gateway.url
    os.environ.setdefault(constants.ENV_EMAIL_SENDER, LOCAL_EMAIL_SENDER)
    settings = Settings.from_env()
    clock = SystemClock()
    create_resources(settings, clock.now())
    import boto3

    ssm = boto3.client("ssm")
    ssm.put_parameter(
        Name=AUDIT_FILE_PARAMETER, Value=str(audit_file), Type="String", Overwrite=True
    )
    ssm.put_parameter(Name=ISSUER_PARAMETER, Value=gateway.url, Type="String", Overwrite=True)
    if settings.email_sender:
        ssm.put_parameter(
            Name=EMAIL_SENDER_PARAMETER, Value=settings.email_sender, Type="String", Overwrite=True
        )
    services = aws_components(settings, cached=False)
    admins = CatalogAdmins(services.scope_admin, services.api_admin, services.attribute_admin)
    seeded = apply_seed(seed, services.registry, services.user_directory, admins)
    return RunningStack(moto, gateway, gateway.url, seed, seeded, audit_file)


def use_audit_file() -> Path:
    """The file the functions append their audit records to (the deployed ones print them for
    the audit log group): OAUTH_AUDIT_FILE, else the repository's .local/audit.jsonl."""
    path = Path(os.environ.get(audit.ENV_AUDIT_FILE) or DEFAULT_AUDIT_FILE).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    os.environ[audit.ENV_AUDIT_FILE] = str(path)
    audit.sink.reset()
    return path
