"""docs/operate.md, "Audit trail", and oauth_core.audit: the page documents every event with its
outcome and exactly its detail fields, no event that does not exist, every top-level field, and
queries that name only real fields and events."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oauth_core import audit

OPERATE = Path(__file__).resolve().parents[2] / "docs" / "operate.md"
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
CODE = re.compile(r"`([^`]+)`")
# A field as Logs Insights names it (`audit.detail.reason`), not a file (`.local/audit.jsonl`).
FIELD_REFERENCE = re.compile(r"(?<![\w/-])audit\.([a-z_]+(?:\.[a-z_]+)*)")
QUOTED_EVENT = re.compile(r'"([a-z_]+\.[a-z_]+)"')


def section() -> str:
    text = OPERATE.read_text()
    start = text.index("\n## Audit trail\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def table(text: str, first_header: str) -> list[list[str]]:
    """The rows of the Markdown table whose first column is `first_header`, as cells."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        cells = _cells(line)
        if cells and cells[0] == first_header:
            rows = []
            for row in lines[index + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append(_cells(row))
            return rows
    raise AssertionError(f"no table headed {first_header!r} in the Audit trail section")


def _cells(line: str) -> list[str]:
    if not line.startswith("|"):
        return []
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def documented_events() -> dict[str, tuple[str, frozenset[str]]]:
    """event -> (outcome, detail fields), as the events table says."""
    found: dict[str, tuple[str, frozenset[str]]] = {}
    for cells in table(section(), "event"):
        assert len(cells) == 4, cells
        (event,) = CODE.findall(cells[0])
        assert event not in found, f"{event} is documented twice"
        found[event] = (cells[1].strip("`"), frozenset(CODE.findall(cells[2])))
    return found


def code_blocks(info: str | None = None) -> list[str]:
    return [body for kind, body in FENCE.findall(section()) if info is None or kind.strip() == info]


def detail_fields() -> frozenset[str]:
    return frozenset().union(*(event.detail for event in audit.EVENTS.values()))


def test_every_event_is_documented_and_no_other() -> None:
    documented = set(documented_events())
    assert documented - set(audit.EVENTS) == set(), "documented, but no such event"
    assert set(audit.EVENTS) - documented == set(), "an event the page does not document"


@pytest.mark.parametrize("event", sorted(audit.EVENTS))
def test_each_event_has_its_outcome_and_exactly_its_detail_fields(event: str) -> None:
    documented = documented_events()
    assert event in documented, f"{event} has no row in the events table"
    outcome, detail = documented[event]
    assert outcome == audit.EVENTS[event].outcome
    assert detail == audit.EVENTS[event].detail


def test_every_top_level_field_is_documented_in_order() -> None:
    fields = [CODE.findall(cells[0])[0] for cells in table(section(), "field")]
    assert fields == list(audit.FIELDS)
    assert f"`v` | the schema's version: {audit.SCHEMA_VERSION} |" in section()


def test_the_queries_name_only_real_fields_and_events() -> None:
    queries = code_blocks("text")
    assert len(queries) >= 4
    named = set()
    for block in code_blocks():  # the shell examples' queries too
        named |= set(FIELD_REFERENCE.findall(block))
    assert named, "no audit.* field is named in the section's code"
    for name in sorted(named):
        top, _, rest = name.partition(".")
        if top == "detail":
            assert rest in detail_fields(), f"audit.{name}: no event has that detail field"
        else:
            assert top in audit.FIELDS and not rest, f"audit.{name}: not a record's field"
    for query in queries:
        for event in QUOTED_EVENT.findall(query):
            assert event in audit.EVENTS, f"a query names {event!r}, which is no event"


def test_the_page_names_where_records_go() -> None:
    text = section()
    for name in (audit.OUTPUT_AUDIT_LOG_GROUP, audit.OUTPUT_AUDIT_EVENT_BUS):
        assert f"`{name}`" in text
    assert audit.AUDIT_EVENT_SOURCE in text
    assert "audit_event_bus=true" in text
    assert ".local/audit.jsonl" in text
