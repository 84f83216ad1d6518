"""Every shell block in the README and docs/ marked `sh runnable` runs against the local stack
(its `http://127.0.0.1:8000` replaced by the stack's address) and succeeds."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import LocalStack

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^```sh runnable\n(.*?)^```", re.MULTILINE | re.DOTALL)


def runnable_blocks() -> list[tuple[str, str]]:
    blocks = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text()
        for match in BLOCK.finditer(text):
            line = text[: match.start()].count("\n") + 1
            blocks.append((f"{path.relative_to(ROOT)}:{line}", match.group(1)))
    return blocks


BLOCKS = runnable_blocks()


def test_the_docs_have_runnable_blocks() -> None:
    assert len(BLOCKS) >= 6, [name for name, _ in BLOCKS]


@pytest.mark.parametrize(("where", "script"), BLOCKS, ids=[name for name, _ in BLOCKS])
def test_runnable_doc_block(stack: LocalStack, where: str, script: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_ENDPOINT_URL"] = stack.aws_endpoint
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"  # oauthctl
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script.replace("http://127.0.0.1:8000", stack.issuer)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{where}\n{result.stdout}\n{result.stderr}"
