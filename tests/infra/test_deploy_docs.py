"""docs/deploy.md, checked against the code: every context option with its default, every
stack output, and the steps a first deploy needs."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra.config import StackConfig

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = (ROOT / "docs" / "deploy.md").read_text()


def table_rows(heading: str) -> dict[str, list[str]]:
    """The first column (without backticks) -> the other cells, of the table under a heading."""
    section = DEPLOY.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def documented(default: Any) -> str:
    if default is None:
        return "none"
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, int):
        return str(default)
    return f"`{default}`"


def test_every_context_option_is_documented_with_its_default() -> None:
    rows = table_rows("Configuration (CDK context)")
    defaults = StackConfig().__dict__
    assert set(rows) == set(defaults), "docs/deploy.md's table and StackConfig disagree"
    for key, default in defaults.items():
        assert rows[key][0] == documented(default), key


def test_cdk_json_states_the_same_defaults() -> None:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    defaults = StackConfig().__dict__
    ours = {k: v for k, v in context.items() if not k.startswith("@")}
    assert set(ours) <= set(defaults)
    for key, value in ours.items():
        assert value == defaults[key], key


def test_every_stack_output_is_explained() -> None:
    from tests.infra.conftest import synth

    stack = synth(
        custom_domain="id.example.com",
        certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/abc",
        audit_event_bus=True,
        ses_sender="no-reply@example.com",
    )
    from aws_cdk.assertions import Template

    outputs = set(Template.from_stack(stack).to_json()["Outputs"])
    assert set(table_rows("Outputs")) == outputs


@pytest.mark.parametrize(
    "needed",
    [
        "Node.js",
        "Python 3.13",
        "AWS CLI",
        "npx cdk bootstrap",
        "## Custom domain",
        "## First client and user",
        "## Check the deploy: the smoke test",
        "make smoke STACK=OAuthServer",
        "## Rotation",
        "## Teardown",
        "Client secrets always stay",
    ],
)
def test_the_steps_of_a_first_deploy_are_there(needed: str) -> None:
    assert needed in DEPLOY


def test_every_oauthctl_command_in_the_guide_exists() -> None:
    from oauthctl.cli import build_parser

    groups = subcommands(build_parser())
    used = re.findall(r"oauthctl (?:--stack [^\s`]+ )?([a-z]+)(?: ([a-z][a-z-]*))?", DEPLOY)
    assert used
    for group, command in used:
        assert group in groups, group
        if groups[group]:
            assert command in groups[group], (group, command)


def subcommands(parser: argparse.ArgumentParser) -> dict[str, set[str]]:
    """oauthctl's groups and each group's commands (none for a command of its own: smoke)."""
    found: dict[str, set[str]] = {}
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        for name, sub in action.choices.items():  # type: ignore[union-attr]
            inner = sub._subparsers
            commands = set(inner._group_actions[0].choices) if inner else set()
            found[name] = commands
    return found
