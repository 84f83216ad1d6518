"""oauthctl audit tail: the audit trail (docs/operate.md, "Audit trail"); and the audit record of
every change oauthctl makes (`record_change`, called by main() after a command succeeded).

Where the trail is: for a deployed stack (--stack), the audit log group its AuditLogGroupName
output names; for the local stack, the file its functions append to (OAUTH_AUDIT_FILE, else the
repository's .local/audit.jsonl; `make serve` prints it, and names it in its embedded AWS for
oauthctl to find). oauthctl writes its own records
there too: PutLogEvents to the stream `oauthctl` of the audit log group (and, with the stack's
bus, PutEvents), or a line appended to the local file. The actor is the caller's ARN (STS
GetCallerIdentity, asked only when a command changed something), or `local`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from oauth_core import audit
from oauthctl.admin import Admin
from oauthctl.errors import Invalid, Unreachable
from oauthctl.output import JSON, TABLE, add_output_option, cell, emit_list
from oauthctl.parsing import command, group

# The stream of the audit log group oauthctl writes its records to.
CLI_STREAM = "oauthctl"
LOCAL_ACTOR = "local"

# Every command that changes the stack, and the argument that names what it changed (None: the
# command names no one thing). A command not here must be in READS: a test holds both lists to
# the parser, so a new command cannot go unrecorded by oversight.
CHANGES: dict[str, str | None] = {
    "clients create": "client_id",
    "clients update": "client_id",
    "clients delete": "client_id",
    "clients rotate-secret": "client_id",
    "users create": "username",
    "users update": "username",
    "users groups add": "username",
    "users groups remove": "username",
    "users set-password": "username",
    "users disable": "username",
    "users enable": "username",
    "users delete": "username",
    "users mfa reset": "username",
    # It writes a link (hashed) to the grants table and mails it.
    "users send-verification": "username",
    "users passkeys remove": "username",
    "scopes create": "name",
    "scopes update": "name",
    "scopes delete": "name",
    "apis create": "name",
    "apis update": "name",
    "apis delete": "name",
    "attributes create": "name",
    "attributes delete": "name",
    "providers create": "name",
    "providers update": "name",
    "providers delete": "name",
    "providers link": "username",
    "providers unlink": "username",
    "keys rotate": None,
    "sessions end": "username",
    "grants revoke": "username",
    "consents revoke": "username",
    # It registers a throw-away client (with a secret) and deletes it.
    "smoke": None,
    "registration token": None,
}
READS = frozenset(
    {
        "clients list",
        "clients show",
        "clients grants",
        "users list",
        "users show",
        "users sessions",
        "users grants",
        "users consents",
        "users passkeys list",
        "scopes list",
        "scopes show",
        "apis list",
        "apis show",
        "attributes list",
        "providers list",
        "providers show",
        "providers links",
        "keys list",
        "completion",
        "audit tail",
    }
)
# Arguments that are not options of the change: where oauthctl points, how it prints.
_NOT_OPTIONS = frozenset(
    {"group", "command", "membership", "mfa_action", "passkeys_action", "command_name", "run"}
    | {"offline", "output"}
    | {"stack"}
    | {"endpoint_url", "region"}
)


def command_name(args: argparse.Namespace) -> str:
    return str(getattr(args, "command_name", ""))


def option_names(args: argparse.Namespace, target: str | None) -> list[str]:
    given = []
    for name, value in vars(args).items():
        if name in _NOT_OPTIONS or name == target or callable(value):
            continue
        if value is None or value is False or value == []:
            continue
        given.append(name)
    return sorted(given)


# --- recording a change ---


def record_change(admin: Admin, args: argparse.Namespace) -> None:
    """The audit record of a command that succeeded, if it changed something. A record that
    cannot be written is said on stderr: the change itself is made."""
    name = command_name(args)
    if name not in CHANGES:
        return
    target_arg = CHANGES[name]
    target = getattr(args, target_arg) if target_arg else None
    # The client or user changed, in the fields every record names them by (options are
    # recorded by name only: a value could be a claim, a description, or worse).
    named: dict[str, Any] = {}
    if target_arg == "client_id":
        named["client_id"] = target
    elif target_arg == "username":
        named["username"] = target
        client = getattr(args, "client", None)  # grants revoke, consents revoke --client
        if isinstance(client, str):
            named["client_id"] = client
    try:
        write = writer(admin)
        actor = LOCAL_ACTOR if admin.is_local else caller_arn(admin)
        record = audit.record(
            audit.ADMIN_CHANGE,
            actor=actor,
            command=name,
            target=target if target is not None else _default_target(name),
            options=option_names(args, target_arg) or None,
            **named,
        )
        write([record])
    except Exception as exc:  # AWS or a file: the change is made; say the record is not
        print(
            f"warning: {name} was done, but its audit record could not be written "
            f"({type(exc).__name__}: {exc})",
            file=sys.stderr,
        )


def _default_target(name: str) -> str | None:
    return {"keys rotate": "signing keys"}.get(name)


def caller_arn(admin: Admin) -> str:
    return str(admin.client("sts").get_caller_identity()["Arn"])


def local_file(admin: Admin) -> Path:
    """The audit file of the local stack oauthctl is pointed at: the one it names in its
    embedded AWS, else OAUTH_AUDIT_FILE, else the repository's .local/audit.jsonl."""
    from local_stack import AUDIT_FILE_PARAMETER, DEFAULT_AUDIT_FILE

    ssm = admin.client("ssm")
    try:
        return Path(ssm.get_parameter(Name=AUDIT_FILE_PARAMETER)["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return Path(os.environ.get(audit.ENV_AUDIT_FILE) or DEFAULT_AUDIT_FILE)


def writer(admin: Admin) -> Callable[[list[dict[str, Any]]], None]:
    """Where this stack's records go; Unreachable if it has no audit log."""
    group_name = admin.outputs.get(audit.OUTPUT_AUDIT_LOG_GROUP)
    if group_name is not None:
        return lambda records: _put(admin, group_name, records)
    if admin.is_local and not admin.stack:
        return lambda records: _append(local_file(admin), records)
    raise Unreachable(
        f"the stack has no {audit.OUTPUT_AUDIT_LOG_GROUP} output (deployed before the audit "
        "trail: deploy it again)"
    )


def _append(path: Path, records: list[dict[str, Any]]) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write("".join(audit.line(r) + "\n" for r in records))


def _put(admin: Admin, group_name: str, records: list[dict[str, Any]]) -> None:
    logs = admin.client("logs")
    events = [{"timestamp": int(time.time() * 1000), "message": audit.line(r)} for r in records]
    try:
        logs.put_log_events(logGroupName=group_name, logStreamName=CLI_STREAM, logEvents=events)
    except logs.exceptions.ResourceNotFoundException:
        # Another oauthctl may have made it meanwhile.
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_stream(logGroupName=group_name, logStreamName=CLI_STREAM)
        logs.put_log_events(logGroupName=group_name, logStreamName=CLI_STREAM, logEvents=events)
    bus = admin.outputs.get(audit.OUTPUT_AUDIT_EVENT_BUS)
    if bus:
        from oauth_core.storage.audit_bus import EventBridgeAuditBus

        EventBridgeAuditBus(bus, events=admin.client("events")).publish(records)


# --- reading the trail ---

TAIL_COLUMNS = ("time", "event", "outcome", "who", "source", "detail")
_SINCE = re.compile(r"^(\d+)([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(text: str) -> int:
    match = _SINCE.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r}: a number and s, m, h or d (e.g. 30m, 7d)")
    return int(match.group(1)) * _UNIT[match.group(2)]


def row(record: dict[str, Any]) -> dict[str, Any]:
    """A record as a table row: who is the actor, user or client, whichever it names."""
    who = [str(record[key]) for key in ("actor", "username", "sub", "client_id") if record.get(key)]
    return {
        "time": record.get("time"),
        "event": record.get("event"),
        "outcome": record.get("outcome"),
        "who": " ".join(who) or None,
        "source": record.get("source"),
        "detail": record.get("detail"),
    }


def tail(admin: Admin, args: argparse.Namespace) -> None:
    if args.count < 1:
        raise Invalid("-n: at least 1")
    reader = _reader(admin, args)
    found = [r for r in reader.read() if _wanted(r, args.event)][-args.count :]
    if not args.follow:
        if args.output == JSON:
            emit_list(args, found, TAIL_COLUMNS)
        else:
            emit_list(args, [row(r) for r in found], TAIL_COLUMNS)
        return
    # Following: one record a line (JSON Lines with --output json), until interrupted.
    for record in found:
        _print_one(args, record)
    try:
        while True:
            time.sleep(args.interval)
            for record in reader.read():
                if _wanted(record, args.event):
                    _print_one(args, record)
    except KeyboardInterrupt:
        return


def _wanted(record: dict[str, Any], event: str | None) -> bool:
    return event is None or record.get("event") == event


def _print_one(args: argparse.Namespace, record: dict[str, Any]) -> None:
    if args.output == JSON:
        print(json.dumps(record), flush=True)
        return
    cells = row(record)
    print("  ".join(cell(cells[column]) for column in TAIL_COLUMNS), flush=True)


class _FileReader:
    """The local stack's audit file: each read returns the records added since the last."""

    def __init__(self, path: Path):
        if not path.exists():
            raise Unreachable(
                f"no audit file at {path}: start the local stack (make serve), or set "
                f"{audit.ENV_AUDIT_FILE} to the file its banner names"
            )
        self._path = path
        self._offset = 0

    def read(self) -> list[dict[str, Any]]:
        with self._path.open("rb") as source:
            source.seek(self._offset)
            data = source.read()
        complete = data[: data.rfind(b"\n") + 1]  # a line being written waits for the next read
        self._offset += len(complete)
        lines = complete.decode("utf-8", errors="replace").splitlines()
        return [r for r in (audit.from_log_line(line) for line in lines) if r is not None]


class _LogGroupReader:
    """The deployed stack's audit log group (FilterLogEvents), from `since` ago on; each read
    returns the records not returned before."""

    def __init__(self, admin: Admin, group_name: str, since: int, event: str | None):
        self._logs = admin.client("logs")
        self._group = group_name
        self._start = int((time.time() - since) * 1000)
        self._seen: set[str] = set()
        self._pattern = f'{{ $.audit.event = "{event}" }}' if event else "{ $.audit.v >= 1 }"

    def _events(self) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "logGroupName": self._group,
            "startTime": self._start,
            "filterPattern": self._pattern,
        }
        while True:
            page = self._logs.filter_log_events(**kwargs)
            yield from page.get("events", [])
            token = page.get("nextToken")
            if not token:
                return
            kwargs["nextToken"] = token

    def read(self) -> list[dict[str, Any]]:
        found = []
        for event in sorted(self._events(), key=lambda e: (e["timestamp"], e["eventId"])):
            if event["eventId"] in self._seen:
                continue
            self._seen.add(event["eventId"])
            # Keep looking from the newest seen (events of one millisecond may arrive late).
            self._start = max(self._start, int(event["timestamp"]))
            record = audit.from_log_line(event["message"], event["timestamp"])
            if record is not None:
                found.append(record)
        return found


def _reader(admin: Admin, args: argparse.Namespace) -> _FileReader | _LogGroupReader:
    group_name = admin.outputs.get(audit.OUTPUT_AUDIT_LOG_GROUP)
    if group_name:
        return _LogGroupReader(admin, group_name, args.since, args.event)
    if admin.is_local and not admin.stack:
        return _FileReader(Path(args.file) if args.file else local_file(admin))
    raise Unreachable(
        f"no audit log: pass --stack NAME (a stack with the {audit.OUTPUT_AUDIT_LOG_GROUP} "
        "output), or point oauthctl at the local stack"
    )


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    trail = group(groups, "audit", "the audit trail: security events and oauthctl's changes")
    tailed = command(trail, "tail", tail, "the latest audit records, oldest first")
    tailed.add_argument(
        "-n", dest="count", type=int, default=20, help="how many records (default 20)"
    )
    tailed.add_argument(
        "--follow", "-f", action="store_true", help="keep printing records as they come"
    )
    tailed.add_argument(
        "--event", choices=sorted(audit.EVENTS), help="only this event (e.g. signin.failure)"
    )
    tailed.add_argument(
        "--since",
        type=_seconds,
        default=_seconds("24h"),
        help="a deployed stack: look back this far (30m, 12h, 7d; default 24h)",
    )
    tailed.add_argument(
        "--file",
        help="the local stack: its audit file (default: the one the stack names)",
    )
    tailed.add_argument("--interval", type=float, default=2.0, help=argparse.SUPPRESS)
    add_output_option(tailed, TABLE)
