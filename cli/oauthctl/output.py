"""What a read prints: a table for people (the default for lists) or JSON for scripts
(`--output json`, the default for one record)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

JSON = "json"
TABLE = "table"


def add_output_option(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--output",
        "-o",
        choices=(JSON, TABLE),
        default=default,
        help=f"{TABLE} for people, {JSON} for scripts (default: {default})",
    )


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(v) for v in value) or "-"
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True)
    return str(value)


def emit_list(
    args: argparse.Namespace,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    out: TextIO | None = None,
) -> None:
    out = out or sys.stdout
    if args.output == JSON:
        print(json.dumps(list(rows), indent=2, sort_keys=True, default=str), file=out)
        return
    table = [[column.upper() for column in columns]]
    table += [[cell(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    for line in table:
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        print("  ".join(cells).rstrip(), file=out)


def emit_one(
    args: argparse.Namespace, record: Mapping[str, Any], out: TextIO | None = None
) -> None:
    out = out or sys.stdout
    if args.output == JSON:
        print(json.dumps(record, indent=2, sort_keys=True, default=str), file=out)
        return
    width = max((len(key) for key in record), default=0)
    for key in sorted(record):
        print(f"{key.ljust(width)}  {cell(record[key])}", file=out)


def iso_time(timestamp: int | None) -> str | None:
    """Seconds since the epoch as an ISO 8601 UTC time (None stays None)."""
    if not timestamp:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
