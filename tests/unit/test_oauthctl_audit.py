"""oauthctl's side of the audit trail: every command is known to change the stack or not, a
change is recorded with its actor and the names (never the values) of its options, and
`audit tail` reads the local stack's file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from oauth_core import audit
from oauth_core.config import Settings
from oauthctl import audit as trail
from oauthctl.admin import Admin
from oauthctl.cli import build_parser, main

LOOPBACK = "http://127.0.0.1:9"  # nothing listens: reading a file needs no AWS call


def commands(parser: argparse.ArgumentParser, prefix: str = "") -> set[str]:
    """Every runnable command of the parser, nested groups included (`users groups add`)."""
    found: set[str] = set()
    if parser._subparsers is None:
        return {prefix.strip()}
    for action in parser._subparsers._group_actions:
        for name, sub in action.choices.items():  # type: ignore[union-attr]
            found |= commands(sub, f"{prefix}{name} ")
    return found


def test_every_command_is_either_a_change_or_a_read() -> None:
    every = commands(build_parser())
    assert set(trail.CHANGES) & trail.READS == set()
    assert every == set(trail.CHANGES) | trail.READS, (
        "a new oauthctl command: say in oauthctl/audit.py whether it changes the stack"
    )


def test_a_change_names_its_command_target_and_option_names_only() -> None:
    args = build_parser().parse_args(
        ["users", "update", "alice", "--claim", "given_name=Alice", "--email-verified"]
    )
    assert trail.command_name(args) == "users update"
    assert trail.option_names(args, "username") == ["claim", "email_verified"]
    nested = build_parser().parse_args(["users", "groups", "add", "alice", "admins"])
    assert trail.command_name(nested) == "users groups add"


@pytest.fixture
def local_admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Admin, Path]:
    path = tmp_path / "audit.jsonl"
    monkeypatch.setattr(trail, "local_file", lambda admin: path)

    def no_sts(admin: Admin) -> str:
        raise AssertionError("the local stack's actor is `local`: no STS call")

    monkeypatch.setattr(trail, "caller_arn", no_sts)
    return Admin(Settings(), None, LOOPBACK), path


def test_a_local_change_is_appended_to_the_local_file_by_actor_local(
    local_admin: tuple[Admin, Path],
) -> None:
    admin, path = local_admin
    args = build_parser().parse_args(
        ["grants", "revoke", "alice", "--client", "web", "--grant", "g-1"]
    )
    trail.record_change(admin, args)
    (record,) = [audit.from_log_line(line) for line in path.read_text().splitlines()]
    assert record is not None
    assert record["event"] == "admin.change"
    assert record["actor"] == "local"
    assert record["username"] == "alice"
    assert record["client_id"] == "web"
    assert record["detail"] == {
        "command": "grants revoke",
        "options": ["client", "grant"],
        "target": "alice",
    }


def test_a_read_records_nothing(local_admin: tuple[Admin, Path]) -> None:
    admin, path = local_admin
    trail.record_change(admin, build_parser().parse_args(["users", "show", "alice"]))
    assert not path.exists()


def test_a_record_that_cannot_be_written_is_a_warning_not_a_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    admin = Admin(Settings(), None, None, stack="Old")  # a stack without the output
    trail.record_change(admin, build_parser().parse_args(["scopes", "delete", "orders"]))
    said = capsys.readouterr().err
    assert "scopes delete was done" in said and "AuditLogGroupName" in said


def lines(*records: dict[str, object]) -> str:
    return "".join(audit.line(r) + "\n" for r in records)


def test_audit_tail_reads_the_local_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text(
        lines(
            audit.record(audit.SIGNIN_FAILURE, client_id="web", reason="unknown_user"),
            audit.record(audit.TOKEN_ISSUED_EVENT, client_id="svc", grant_type="x", scope="s"),
            audit.record(audit.SIGNIN_FAILURE, client_id="web", reason="bad_password"),
        )
        + "not a record\n"
        + '{"audit":{"v":1,"event":"signin.succ'  # a line being written: not read yet
    )
    base = ["--endpoint-url", LOOPBACK, "audit", "tail", "--file", str(path)]
    assert main([*base, "-n", "2", "--output", "json"]) == 0
    tailed = json.loads(capsys.readouterr().out)
    assert [r["event"] for r in tailed] == ["token.issued", "signin.failure"]
    assert main([*base, "--event", "signin.failure", "--output", "json"]) == 0
    reasons = [r["detail"]["reason"] for r in json.loads(capsys.readouterr().out)]
    assert reasons == ["unknown_user", "bad_password"]
    assert main(base) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["TIME", "EVENT", "OUTCOME", "WHO", "SOURCE", "DETAIL"]
    assert len(table) == 4 and "signin.failure" in table[-1]


def test_audit_tail_without_a_file_says_where_to_look(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.jsonl"
    assert main(["--endpoint-url", LOOPBACK, "audit", "tail", "--file", str(missing)]) == 3
    assert "make serve" in capsys.readouterr().err


def test_an_unknown_event_name_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["audit", "tail", "--event", "signin.maybe"])
    assert exited.value.code == 2
