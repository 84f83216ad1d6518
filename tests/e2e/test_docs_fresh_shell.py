"""docs/oauthctl.md as an outside reader meets it: a fresh shell whose PATH does not hold the
.venv. The setup the page gives before its first command, then that command block, run as
written against the local stack (test_docs.py runs every block with the .venv on PATH)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import LocalStack

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "oauthctl.md"
BARE_PATH = "/usr/bin:/bin"


def blocks() -> tuple[str, str]:
    """The page's setup block (the first plain `sh` block) and its first runnable block."""
    text = PAGE.read_text()
    runnable = re.search(r"^```sh runnable\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert runnable, "docs/oauthctl.md has no runnable block"
    setup = re.search(r"^```sh\n(.*?)^```", text[: runnable.start()], re.MULTILINE | re.DOTALL)
    assert setup, "docs/oauthctl.md says nothing runnable about getting oauthctl on PATH"
    return setup.group(1), runnable.group(1)


def fresh_shell(script: str, stack: LocalStack, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": BARE_PATH,
        "HOME": str(home),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "AWS_ENDPOINT_URL": stack.aws_endpoint,
    }
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_page_says_how_before_its_first_command() -> None:
    setup, _ = blocks()
    assert "source .venv/bin/activate" in setup
    before = PAGE.read_text().split("```sh runnable", 1)[0]
    assert "make install-cli" in before and ".venv/bin/oauthctl" in before


def test_a_bare_oauthctl_is_not_found_in_a_fresh_shell(stack: LocalStack, tmp_path: Path) -> None:
    if shutil.which("oauthctl", path=BARE_PATH):
        pytest.skip("oauthctl is installed system-wide here")
    result = fresh_shell("oauthctl --help", stack, tmp_path)
    assert result.returncode == 127, result.stderr  # the reviewer's finding, reproduced


def test_the_setup_then_the_first_block_work_in_a_fresh_shell(
    stack: LocalStack, tmp_path: Path
) -> None:
    if not (ROOT / ".venv" / "bin" / "oauthctl").exists():
        pytest.skip("the tests run from a virtual environment other than the checkout's .venv")
    setup, first = blocks()
    result = fresh_shell(f"{setup}\n{first}", stack, tmp_path)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert '"client_id": "my-service"' in result.stdout
