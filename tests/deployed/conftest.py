"""One deployment per test process, shared by every test of the suite: its tests run in one
xdist group ("deployed"), so in one worker, whatever order they are collected in."""

from __future__ import annotations

import os
from collections.abc import Iterator

# Before jsii starts (infra's imports start it): its end-of-life banner, as the Makefile.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20,22")

import pytest

from tests.deployed import artifacts as built
from tests.deployed import report
from tests.deployed.artifacts import Artifacts
from tests.deployed.deployment import Deployment
from tests.deployed.flows import World


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Artifacts:
    return built.build(built.shared_root(tmp_path_factory))


@pytest.fixture(scope="session")
def deployment(
    artifacts: Artifacts, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    deployment = Deployment.start(artifacts, tmp_path_factory.mktemp("deployment"))
    try:
        yield deployment
        report.write(deployment)
    finally:
        deployment.stop()


@pytest.fixture(scope="session")
def world(deployment: Deployment) -> World:
    return World.set_up(deployment)
