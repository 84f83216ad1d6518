"""docs/security-requirements.md and the tests: every row proved by a test carrying its id."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.security_table import ADDED_HERE, PLANNED, ROW_IDS, ROWS, requirement_rows, row_of

TESTS = Path(__file__).resolve().parents[1]
SECURITY_MD = Path(__file__).resolve().parents[3] / "shared" / "SECURITY.md"
TEST_NAME = re.compile(r"^\s*def (test_[a-z]\d+_\w+)", flags=re.MULTILINE)


def declared_tests() -> set[str]:
    return {
        name for path in TESTS.rglob("test_*.py") for name in TEST_NAME.findall(path.read_text())
    }


def test_every_row_but_a_planned_one_has_a_test_carrying_its_id() -> None:
    proved = {row_of(name) for name in declared_tests()}
    assert [row for row in ROW_IDS if row not in proved and row not in PLANNED] == []
    assert not PLANNED & proved, "a planned row has tests now: drop its 'Planned' note"
    assert proved <= set(ROW_IDS), "a test names a row the page does not have"


def test_every_row_says_what_proves_it_and_the_files_exist() -> None:
    for row, statement in ROWS.items():
        if row in PLANNED:
            continue
        assert " Proved by: " in statement, row
        for path in statement.split(" Proved by: ", 1)[1].rstrip(".").split(", "):
            file = TESTS / path
            assert file.exists(), (row, path)
            assert re.search(rf"def test_{row.lower()}_", file.read_text()), (row, path)


def test_row_list_matches_the_outside_reviews_security_md() -> None:
    if not SECURITY_MD.exists():
        pytest.skip("../shared/SECURITY.md is not beside this checkout")
    outside = list(requirement_rows(SECURITY_MD.read_text()))
    assert [row for row in ROW_IDS if row not in ADDED_HERE] == outside
    assert not ADDED_HERE & set(outside), "a row the review now has is no longer added here"


def test_row_of_test_names() -> None:
    assert row_of("test_a10_unsafe_redirect_uris_are_refused") == "A10"
    assert row_of("test_h3_no_secret") == "H3"
    assert row_of("test_o4_permissions") == "O4"
    assert row_of("test_helper_thing") is None
