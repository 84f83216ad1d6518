"""Every shell block in the README and docs/ marked `sh runnable` runs against the local stack
(its `http://127.0.0.1:8000` replaced by the stack's address) and succeeds."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import LocalStack, local_stack

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
# A page's blocks build on each other (a later one lists what an earlier one made), so each
# page is one test that runs its blocks in order on one stack. (xdist_group would not keep
# parametrized blocks together here: with pytest 9, xdist's group suffix on node ids is lost.)
PAGES: dict[str, list[tuple[str, str]]] = {}
for _where, _script in BLOCKS:
    PAGES.setdefault(_where.rsplit(":", 1)[0], []).append((_where, _script))


@pytest.fixture(scope="module")
def docs_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack of its own: the docs rotate signing keys with --force (twice), which the shared
    stack's other tests must not see (see `stack`)."""
    with local_stack(tmp_path_factory, "local-stack-docs") as running:
        yield running


def test_the_docs_have_runnable_blocks() -> None:
    assert len(BLOCKS) >= 6, [name for name, _ in BLOCKS]


@pytest.mark.parametrize("page", sorted(PAGES))
def test_runnable_doc_blocks(docs_stack: LocalStack, page: str) -> None:
    for where, script in PAGES[page]:
        run_block(docs_stack, where, script)


def run_block(stack: LocalStack, where: str, script: str) -> None:
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
