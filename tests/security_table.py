"""`make security`: run only the tests named after the rows of docs/security-requirements.md
and print a table of row, tests and result. Loaded by tests/conftest.py; inert unless
--security is given."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

REQUIREMENTS = Path(__file__).resolve().parents[1] / "docs" / "security-requirements.md"
ROW = re.compile(r"^- \*\*([A-Z]\d+)\*\* (.*)$", flags=re.MULTILINE)
TEST_ROW = re.compile(r"^test_([a-z])(\d+)_")


def requirement_rows(text: str) -> dict[str, str]:
    """Row id -> its statement, in the page's order."""
    return {match.group(1): match.group(2) for match in ROW.finditer(text)}


ROWS = requirement_rows(REQUIREMENTS.read_text())
ROW_IDS = list(ROWS)
# Rows the page marks as planned (with the issue that brings them): listed, not yet proved.
PLANNED = {row for row, statement in ROWS.items() if " Planned: " in statement}
# Rows this project adds to the outside review's list ("Added here: issue N."): the rest must be
# the outside list, in its order.
ADDED_HERE = {row for row, statement in ROWS.items() if " Added here: " in statement}
OUTPUT = Path(__file__).resolve().parents[1] / "test-output" / "security.md"


def row_of(test_name: str) -> str | None:
    match = TEST_ROW.match(test_name)
    return f"{match.group(1).upper()}{match.group(2)}" if match else None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--security", action="store_true", help="run only SECURITY.md row tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--security"):
        return
    selected = [item for item in items if row_of(item.name)]
    config.hook.pytest_deselected(items=[item for item in items if not row_of(item.name)])
    items[:] = selected


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not config.getoption("--security"):
        return
    results: dict[str, dict[str, str]] = defaultdict(dict)
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") not in ("call", "setup") or not hasattr(
                report, "nodeid"
            ):
                continue
            name = report.nodeid.split("::")[-1]
            row = row_of(name)
            if row is None:
                continue
            test = name.split("[")[0]
            previous = results[row].get(test)
            if previous in ("failed", "error"):
                continue
            if outcome in ("failed", "error") or previous is None:
                results[row][test] = outcome
    lines = ["| row | result | tests |", "|---|---|---|"]
    for row in ROW_IDS:
        tests = results.get(row, {})
        if not tests and row in PLANNED:
            verdict = "planned"
        elif not tests:
            verdict = "MISSING"
        elif any(v in ("failed", "error") for v in tests.values()):
            verdict = "FAIL"
        elif all(v == "passed" for v in tests.values()):
            verdict = "pass"
        else:
            verdict = "skipped"
        lines.append(f"| {row} | {verdict} | {', '.join(sorted(tests))} |")
    table = "\n".join(lines)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(table + "\n")
    terminalreporter.write_sep("=", "security requirements (docs/security-requirements.md)")
    terminalreporter.write_line(table)
    missing = [row for row in ROW_IDS if not results.get(row) and row not in PLANNED]
    if missing:
        terminalreporter.write_line(f"rows without a test: {', '.join(missing)}")
