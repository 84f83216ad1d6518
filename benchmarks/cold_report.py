"""The cold-start rows of `make bench`: every function, both bundles, the floors, and the
issue-11 targets with met or missed (judged on the bundle as deployed: with bytecode)."""

# The multiplication sign is the content of a report table.
# ruff: noqa: RUF001

from __future__ import annotations

from collections.abc import Callable

from benchmarks.cold import (
    BOTO3_SOURCE_ONLY,
    BYTECODE,
    ISOLATED,
    PYJWT,
    PYJWT_AND_TLS,
    RUNS,
    SOURCE_ONLY,
    ColdReport,
    ColdStart,
)

RSS_LIMIT_MB = 100
# Issue 11's targets and its outside measurement ("today", Python 3.13, no bytecode).
TOKEN_OVER_AWS_FLOOR = 1.25
RESOURCE_OVER_BOTO3 = 0.45
TOKEN_IMPORT_OVER_BOTO3 = 0.8


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def lines(report: ColdReport) -> list[str]:
    boto3 = report.floors["import boto3"]
    unbuilt = report.floors[BOTO3_SOURCE_ONLY]
    out = [
        "### Cold start (fresh isolated interpreter: import the handler, serve the first request)",
        "",
        f"{report.interpreter_note}, `{' '.join(ISOLATED)}`, seeing only the function's code "
        f"asset and the layer as `infra.bundling` bundles them for {report.architecture}, and "
        f"boto3 {report.boto3_version} as the runtime's; AWS is moto on loopback. Median of "
        f"{RUNS} runs each; floors measured in the same run by the same interpreter.",
        "",
        "| function | bundle | import ms | first request ms | total ms | AWS floor ms "
        "| total × AWS floor | total × `import boto3` | import × `import boto3` "
        "| peak RSS MB | target | |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in report.starts[BYTECODE]:
        floor = report.aws_floors[name]
        for bundle in (SOURCE_ONLY, BYTECODE):
            s = report.starts[bundle][name]
            out.append(
                f"| {name} | {bundle} | {s.import_ms:.0f} | {s.first_request_ms:.0f} | "
                f"{s.total_ms:.0f} | {floor:.0f} | {s.total_ms / floor:.2f} | "
                f"{s.total_ms / boto3:.2f} | {s.import_ms / boto3:.2f} | {s.rss_mb:.0f} | "
                f"≤ {RSS_LIMIT_MB} | {verdict(s.rss_mb <= RSS_LIMIT_MB)} |"
            )
    out += [
        f"| floor: `import boto3` | | {boto3:.0f} | | {boto3:.0f} | | | 1.00 | 1.00 | | | |",
        f"| floor: nothing | | {report.floors['nothing']:.2f} | | | | | | | | | |",
        f"| for comparison only: {BOTO3_SOURCE_ONLY} | | {unbuilt:.0f} | | {unbuilt:.0f} | | | "
        f"{unbuilt / boto3:.2f} | {unbuilt / boto3:.2f} | | | |",
        *(
            f"| floor of the resource function: {label} | | {report.floors[label]:.0f} | | "
            f"{report.floors[label]:.0f} | | | {report.floors[label] / boto3:.2f} | | | | |"
            for label in (PYJWT, PYJWT_AND_TLS)
        ),
        "",
        "Each AWS floor imports boto3, creates the clients the function created and makes the "
        "calls its cold start made, recorded in the function's own runs above:",
        "",
        "| function | AWS floor ms | × `import boto3` | what the function asked of AWS |",
        "|---|---|---|---|",
    ]
    for name, work in report.aws_work.items():
        floor = report.aws_floors[name]
        out.append(f"| {name} | {floor:.0f} | {floor / boto3:.2f} | {work.summary()} |")
    out += [
        "",
        "With SnapStart (`-c snap_start=true`), a restored container runs its after-restore "
        "hooks and serves its first request; measured the same way (Lambda's own restore time, "
        "which depends on the snapshot's size, is not in it and cannot be measured here):",
        "",
        "| function | cold start ms (bytecode) | restored: hooks + first request ms "
        "| AWS calls in it |",
        "|---|---|---|---|",
    ]
    for name, ms in report.restored.items():
        start = report.starts[BYTECODE][name]
        work = report.aws_work[name]
        out.append(f"| {name} | {start.total_ms:.0f} | {ms:.0f} | {len(work.calls)} calls |")
    out += ["", *target_lines(report)]
    return out


def target_lines(report: ColdReport) -> list[str]:
    boto3 = report.floors["import boto3"]
    token_floor = report.aws_floors["token"]
    Measure = Callable[[dict[str, ColdStart]], float]
    rows: tuple[tuple[str, Measure, float, str], ...] = (
        (
            "token function cold start (import + first request) × its AWS floor",
            lambda starts: starts["token"].total_ms / token_floor,
            TOKEN_OVER_AWS_FLOOR,
            "≈ 2.4× (≈ 1.6× with `.pyc`)",
        ),
        (
            "resource function cold start × `import boto3`",
            lambda starts: starts["resource"].total_ms / boto3,
            RESOURCE_OVER_BOTO3,
            "0.66-0.74×",
        ),
        (
            "token function import alone × `import boto3`",
            lambda starts: starts["token"].import_ms / boto3,
            TOKEN_IMPORT_OVER_BOTO3,
            "2.35×",
        ),
    )
    out = [
        "### Cold-start targets (issue 11; judged on the bundle as deployed, with bytecode)",
        "",
        "| measure | source only (bundled as before) | bytecode (as deployed) | target | "
        "| issue's today |",
        "|---|---|---|---|---|---|",
    ]
    for label, measure, limit, today in rows:
        before = measure(report.starts[SOURCE_ONLY])
        after = measure(report.starts[BYTECODE])
        out.append(
            f"| {label} | {before:.2f}× | {after:.2f}× | ≤ {limit}× | {verdict(after <= limit)} "
            f"| {today} |"
        )
    return out
