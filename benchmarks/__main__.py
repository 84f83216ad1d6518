"""`make bench`: prints a markdown table and writes bench-results/bench.json."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "OAuthServer")


def authorizer_aws_modules() -> list[str]:
    """The AWS SDK modules an authorizer function has loaded after answering a request, in a
    fresh interpreter (none: it cannot make an AWS call)."""
    script = (
        "import sys, json; sys.path[:0] = ['layers/common/python']\n"
        "from oauth_core.endpoints.authorizer import Authorizer, AuthorizerSettings\n"
        "from oauth_core.tokens.bearer import JwksCache\n"
        "from oauth_core.tokens.revocation_list import RevocationList\n"
        "a = Authorizer.from_settings(AuthorizerSettings('https://auth.example.com', "
        "'https://api.example.com'), JwksCache(lambda u: {'keys': []}), "
        "RevocationList(lambda u: {'revoked': []}, 20))\n"
        "a({'version': '2.0', 'headers': {'authorization': 'Bearer x.y.z'}, "
        "'rawQueryString': ''})\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('boto3', 'botocore', 's3transfer'))))\n"
    )
    result = subprocess.run(  # noqa: S603 - this interpreter, a script of our own
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    modules: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return modules


def api_protection_lines() -> list[str]:
    """Issue 14's rows: the F7 bound observed, and the authorizer's AWS calls."""
    from benchmarks import revocation_bound

    worst, bound = revocation_bound.observed()
    aws = authorizer_aws_modules()
    # Powertools imports the bare botocore package for its user-agent helper (as in the
    # resource function); no client module, so no AWS call.
    clients = [m for m in aws if m.startswith(("boto3", "botocore.client", "botocore.session"))]
    return [
        "### Protecting APIs (issue 14)",
        "",
        "| measure | this run | target | |",
        "|---|---|---|---|",
        f"| F7: longest a revoked token kept working at the resource function (simulated clock, "
        f"swept over revocation times and two containers' phases) | {worst:.1f} s | "
        f"≤ {bound} s (refresh + the issuer's copy) | {verdict(worst <= bound)} |",
        f"| AWS SDK client modules loaded by the authorizer after a request | "
        f"{len(clients)} ({', '.join(clients) or 'none'}) | 0 (no AWS call possible) | "
        f"{verdict(not clients)} |",
    ]


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def warm_target_lines(timings: dict[str, Any]) -> list[str]:
    """Issue 11's warm targets: ratios to floors measured in this same process."""
    floor = timings["floor: PyJWT ES256 sign"]
    decode = timings["floor: PyJWT ES256 decode"]
    authlib = timings["reference: Authlib client_credentials"]
    cc = timings["client_credentials"]
    resource = timings["resource call (verify JWT)"]
    rows = [
        (
            "warm client_credentials CPU, median, × PyJWT signing floor",
            cc.median_us / floor.median_us,
            2.0,
            "4.8×",
        ),
        (
            "warm client_credentials CPU, p99, × floor p99",
            cc.p99_us / floor.p99_us,
            3.0,
            "6.7×",
        ),
        (
            "resource call CPU × PyJWT `decode` of the same token alone",
            resource.median_us / decode.median_us,
            1.25,
            "≈ 1.45×",
        ),
        (
            "authorizer CPU (issue 14) × PyJWT `decode` of the same token alone",
            timings["authorizer (verify JWT, scope)"].median_us
            / timings["floor: PyJWT ES256 decode (authorizer)"].median_us,
            1.5,
            "(new)",
        ),
        (
            "sign-in page GET /login CPU (issue 16) × PyJWT ES256 signing floor",
            timings["sign-in page (GET /login)"].median_us
            / timings["floor: PyJWT ES256 sign (sign-in page)"].median_us,
            2.0,
            "(new)",
        ),
        (
            "sign-in POST CPU (issue 16) × Argon2id verifying the user's hash alone",
            timings["sign-in POST (password, Argon2id)"].median_us
            / timings["floor: Argon2id verify (sign-in)"].median_us,
            1.1,
            "(new)",
        ),
    ]
    lines = [
        "### Warm targets (issue 11; ratios to floors measured in this run, same process)",
        "",
        "| measure | this run | target | | issue's today |",
        "|---|---|---|---|---|",
    ]
    for label, ratio, target, today in rows:
        lines.append(
            f"| {label} | {ratio:.2f}× | ≤ {target:g}× | {verdict(ratio <= target)} | {today} |"
        )
    lines.append(
        f"| peer reference: Authlib's core, client_credentials, × PyJWT signing floor | "
        f"{authlib.median_us / floor.median_us:.2f}× | | | 3.0× |"
    )
    lines.append("")
    lines.append(
        f"client_credentials: {cc.median_us:.0f} µs median, {cc.median_us / authlib.median_us:.2f}× "
        f"the Authlib reference ({authlib.median_us:.0f} µs); PyJWT floors: sign "
        f"{floor.median_us:.0f} µs (p99 {floor.p99_us:.0f}), decode {decode.median_us:.0f} µs."
    )
    return lines


def main() -> int:
    from benchmarks import aws_calls, cold, cold_report, cost, layer, load, warm

    started = time.time()
    print("Running: cold starts (bundles, fresh interpreters)...", file=sys.stderr)
    colds = cold.run()
    print("Running: AWS calls per operation (moto)...", file=sys.stderr)
    calls = aws_calls.count_calls()
    # Last of the in-process runs: it installs the in-memory stand-in into the handler modules.
    print("Running: warm handler CPU...", file=sys.stderr)
    timings = warm.run(int(os.environ.get("BENCH_ITERATIONS", "3000")))
    print("Running: layer bundle (pip, manylinux wheels)...", file=sys.stderr)
    layer_mb = layer.zipped_layer_mb()
    print("Running: load against the local stack (loopback)...", file=sys.stderr)
    loaded = load.run()

    floor = timings["floor: PyJWT ES256 sign"]
    cc = timings["client_credentials"]
    refresh = timings["refresh_token"]
    cc_cost = cost.per_million(
        cost.CostInputs(cpu_us=cc.median_us, log_bytes=cc.log_bytes, audit_log_bytes=cc.audit_bytes)
    )
    refresh_cost = cost.per_million(
        cost.CostInputs(
            cpu_us=refresh.median_us,
            dynamodb_reads=calls["refresh_token"].get("GetItem", 0),
            # old token used, new token written, family live, user state allows (D8)
            transactional_write_items=4,
            aws_round_trips=calls["refresh_token"]["calls"],
            log_bytes=refresh.log_bytes,
            audit_log_bytes=refresh.audit_bytes,
        )
    )
    lines: list[str] = []
    out = lines.append
    out(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    out("")
    lines.extend(cold_report.lines(colds))
    out("")
    out(
        "### Warm handler CPU per operation (process time, in-memory AWS stand-in, Logger and Metrics on)"
    )
    out("")
    out(
        "| operation | median µs | p99 µs | per second per core | × PyJWT signing floor "
        "| absolute target | |"
    )
    out("|---|---|---|---|---|---|---|")
    absolute: dict[str, tuple[str, bool]] = {
        "client_credentials": (
            "≤ 100 median, ≤ 250 p99",
            cc.median_us <= 100 and cc.p99_us <= 250,
        ),
        "resource call (verify JWT)": (
            "≤ 150 median",
            timings["resource call (verify JWT)"].median_us <= 150,
        ),
    }
    for name in ("authorization_code (no openid)", "authorization_code (openid)", "refresh_token"):
        absolute[name] = ("≤ 400 median", timings[name].median_us <= 400)
    for name, timing in timings.items():
        target, ok = absolute.get(name, ("", True))
        out(
            f"| {name} | {timing.median_us:.0f} | {timing.p99_us:.0f} | "
            f"{timing.per_second_per_core:,.0f} | {timing.median_us / floor.median_us:.2f} | "
            f"{target} | {verdict(ok) if target else ''} |"
        )
    out("")
    lines.extend(warm_target_lines(timings))
    out("")
    lines.extend(api_protection_lines())
    out("")
    out("### AWS calls per warm operation (botocore event hooks, moto)")
    out("")
    out("| operation | calls | by API | target | |")
    out("|---|---|---|---|---|")
    call_targets = {
        "client_credentials": ("0", lambda c: c["calls"] == 0),
        # The code or refresh token, and the user's state (what tokens say of them now).
        "authorization_code": (
            "1 transaction + ≤ 2 reads",
            lambda c: c.get("TransactWriteItems") == 1 and c["calls"] <= 3,
        ),
        "refresh_token": (
            "1 transaction + ≤ 2 reads",
            lambda c: c.get("TransactWriteItems") == 1 and c["calls"] <= 3,
        ),
        "authorize (signed in)": ("≤ 2", lambda c: c["calls"] <= 2),
        "authorize (to sign-in)": ("0 (sealed, A14)", lambda c: c["calls"] == 0),
        "resource call": ("0", lambda c: c["calls"] == 0),
    }
    for name, counted in calls.items():
        by_api = ", ".join(f"{api} {n:g}" for api, n in counted.items() if api != "calls")
        target, check = call_targets.get(name, ("", lambda c: True))
        out(
            f"| {name} | {counted['calls']:g} | {by_api} | {target} | {verdict(check(counted)) if target else ''} |"
        )
    out("")
    out("### Size and cost")
    out("")
    out("| measure | value | target | |")
    out("|---|---|---|---|")
    out(f"| layer, zipped | {layer_mb:.1f} MB | ≤ 15 MB | {verdict(layer_mb <= 15)} |")
    for label, modelled in (("client_credentials", cc_cost), ("refresh_token", refresh_cost)):
        target = "≤ $1.50" if label == "client_credentials" else ""
        ok = modelled.total <= 1.50 if target else True
        out(
            f"| cost per million {label} tokens | ${modelled.total:.2f} (API ${modelled.api_usd:.2f}, "
            f"Lambda ${modelled.lambda_usd:.3f} for {modelled.billed_ms} ms billed, DynamoDB "
            f"${modelled.dynamodb_usd:.2f}, logs ${modelled.logs_usd:.2f}) | {target} | "
            f"{verdict(ok) if target else ''} |"
        )
    out(
        f"| Amazon Cognito, machine-to-machine | ${cost.COGNITO_M2M_PER_MILLION:,.0f} per million | | |"
    )
    out("")
    out("### Load run against the local stack (loopback, bounded)")
    out("")
    out(
        f"{loaded.clients} parallel clients, each getting a token and calling /resource: "
        f"{loaded.requests} requests in {loaded.seconds:.1f} s, {loaded.per_second:.0f} requests/s, "
        f"**{loaded.errors} errors**. (Throughput of the one-process local stack on moto, not of "
        f"Lambda: it shows correctness under concurrency.)"
    )
    report = "\n".join(lines)
    print(report)
    results_dir = ROOT / "bench-results"
    results_dir.mkdir(exist_ok=True)
    data: dict[str, Any] = {
        "cold_start": colds.as_json(),
        "warm": {
            k: {
                "median_us": v.median_us,
                "p99_us": v.p99_us,
                "log_bytes": v.log_bytes,
                "audit_bytes": v.audit_bytes,
            }
            for k, v in timings.items()
        },
        "aws_calls": calls,
        "layer_zipped_mb": layer_mb,
        "load": vars(loaded) | {"per_second": loaded.per_second},
        "cost_per_million": {
            "client_credentials": vars(cc_cost) | {"total": cc_cost.total},
            "refresh_token": vars(refresh_cost) | {"total": refresh_cost.total},
        },
        "seconds": time.time() - started,
    }
    (results_dir / "bench.json").write_text(json.dumps(data, indent=2, default=str))
    (results_dir / "bench.md").write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
