"""test-output/deployed-suite.md: which Python ran the functions, each function's cold starts and
the AWS requests it made, and what its role allows that nothing used."""

from __future__ import annotations

import importlib.metadata
from collections import defaultdict
from pathlib import Path

from tests.deployed.deployment import Deployment

OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "deployed-suite.md"


def write(deployment: Deployment, path: Path = OUTPUT) -> None:
    artifacts = deployment.artifacts
    lines = [
        "# Deployed artifacts",
        "",
        f"- functions ran under {artifacts.python_note}, isolated (`-I -S -B`)",
        f"- layer bundled for this machine ({artifacts.host_architecture}); deployed: arm64",
        f"- boto3 {importlib.metadata.version('boto3')} as the runtime's",
        "",
        "| function | invocations | cold starts: init + first invocation (ms) |",
        "|---|---|---|",
    ]
    for function in deployment.stack.functions.values():
        record = deployment.records.get(function.logical_id)
        if record is None:
            lines.append(f"| {function.name} | 0 | |")
            continue
        starts = ", ".join(f"{init:.0f} + {first:.0f}" for init, first in record.cold_starts)
        lines.append(f"| {function.name} | {record.invocations} | {starts} |")
    lines += ["", "## AWS requests (action on resource), by function", ""]
    for function in deployment.stack.functions.values():
        record = deployment.records.get(function.logical_id)
        used: dict[str, set[str]] = defaultdict(set)
        for request in record.requests if record else ():
            used[deployment.stack.label_of(request.resource)].add(request.action)
        shown = "; ".join(f"{', '.join(sorted(a))} on {r}" for r, a in sorted(used.items()))
        lines.append(f"- {function.name}: {shown or 'none'}")
    unused = deployment.unused_grants()
    lines += ["", "## Allowed, used by nothing", ""]
    lines += [f"- {name}: {action} on {resource}" for name, action, resource in unused] or [
        "- none"
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
