"""Starting the whole local stack in one process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from local_stack.aws import MotoServer, create_resources, use_local_aws
from local_stack.gateway import LocalGateway
from local_stack.seed import Seed, SeedResult, apply_seed, read_seed
from oauth_core import constants
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
    gateway = LocalGateway(host, port)
    os.environ[constants.ENV_ISSUER] = gateway.url
    settings = Settings.from_env()
    clock = SystemClock()
    create_resources(settings, clock.now())
    services = aws_components(settings, cached=False)
    seeded = apply_seed(seed, services.registry, services.user_directory)
    return RunningStack(moto, gateway, gateway.url, seed, seeded)
