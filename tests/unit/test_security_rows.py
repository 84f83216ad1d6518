from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.security_table import ROW_IDS, row_of

SECURITY_MD = Path(__file__).resolve().parents[3] / "shared" / "SECURITY.md"


def test_row_list_matches_security_md() -> None:
    if not SECURITY_MD.exists():
        pytest.skip("../shared/SECURITY.md is not beside this checkout")
    rows = re.findall(r"^- \*\*([A-H]\d+)\*\*", SECURITY_MD.read_text(), flags=re.MULTILINE)
    assert rows == ROW_IDS


def test_row_of_test_names() -> None:
    assert row_of("test_a10_unsafe_redirect_uris_are_refused") == "A10"
    assert row_of("test_h3_no_secret") == "H3"
    assert row_of("test_helper_thing") is None
