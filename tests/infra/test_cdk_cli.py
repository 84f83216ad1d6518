"""The real aws-cdk CLI (pinned in package.json) synthesizes offline, and cfn-lint agrees."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def offline_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            # No credentials anywhere: synth must not need them.
            "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "CDK_DISABLE_CLI_TELEMETRY": "1",
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": os.environ[
                "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"
            ],
        }
    )
    return env


def test_cdk_synth_runs_offline_and_cfn_lint_finds_no_errors(tmp_path: Path) -> None:
    out = tmp_path / "cdk.out"
    result = subprocess.run(
        [
            "npx",
            "--no-install",
            "cdk",
            "synth",
            "--quiet",
            "-c",
            "skip_bundling=true",
            "-o",
            str(out),
        ],
        cwd=ROOT,
        env=offline_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    template_path = out / "OAuthServer.template.json"
    template = json.loads(template_path.read_text())
    assert "AWS::ApiGatewayV2::Api" in {r["Type"] for r in template["Resources"].values()}
    lint = subprocess.run(
        ["cfn-lint", "--format", "parseable", str(template_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )
    errors = [line for line in lint.stdout.splitlines() if ":E" in line]
    assert not errors, lint.stdout
