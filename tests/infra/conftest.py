"""One synthesized template per session: synthesizing the CDK app takes seconds."""

from __future__ import annotations

import os
from typing import Any

# Before jsii starts: its end-of-life banner, silenced per Node major version (as the Makefile).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20,22")

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra.config import StackConfig
from infra.nag import ACKNOWLEDGED, Acknowledgment, add_checks
from infra.stack import OAuthServerStack


def synth(
    acknowledged: tuple[Acknowledgment, ...] = ACKNOWLEDGED, **config: Any
) -> OAuthServerStack:
    app = cdk.App()
    stack = OAuthServerStack(
        app, "OAuthServer", StackConfig(skip_bundling=True, **config), acknowledged=acknowledged
    )
    add_checks(app)
    app.synth()
    return stack


@pytest.fixture(scope="session")
def stack() -> OAuthServerStack:
    return synth()


@pytest.fixture(scope="session")
def template(stack: OAuthServerStack) -> Template:
    return Template.from_stack(stack)


@pytest.fixture(scope="session")
def resources(template: Template) -> dict[str, dict[str, Any]]:
    return dict(template.to_json()["Resources"])
