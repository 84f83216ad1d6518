#!/usr/bin/env python3
"""The CDK app: `npx cdk synth` / `npx cdk deploy`. Environment-agnostic: no lookups, so synth
needs no AWS credentials. Configuration comes from context (cdk.json or -c key=value)."""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "layers" / "common" / "python"))

from infra.config import ConfigError, StackConfig  # noqa: E402
from infra.nag import add_checks  # noqa: E402
from infra.stack import OAuthServerStack  # noqa: E402


def build_app(app: cdk.App | None = None) -> tuple[cdk.App, OAuthServerStack]:
    app = app or cdk.App()
    config = StackConfig.from_context(app.node.try_get_context)
    stack = OAuthServerStack(app, config.stack_name, config)
    add_checks(app)
    return app, stack


if __name__ == "__main__":
    try:
        built, _ = build_app()
    except ConfigError as exc:  # a bad -c value: say which, without a traceback
        sys.exit(f"error: bad context value: {exc}")
    built.synth()
