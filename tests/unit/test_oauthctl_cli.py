"""oauthctl's own behaviour, without a stack: version, completion, and failures to reach AWS
said in a sentence with the way to point it at a stack."""

from __future__ import annotations

import subprocess
import sys

import pytest

from oauthctl.cli import build_parser, main
from oauthctl.completion import tree


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("oauthctl ")


def test_completion_knows_every_group_command_and_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    for group, commands in tree(build_parser()).items():
        assert group in script
        for command, options in commands.items():
            assert command in script
            assert all(option in script for option in options)


def test_completion_completes_in_bash(tmp_path: object) -> None:
    script = subprocess.run(
        [sys.executable, "-m", "oauthctl.cli", "completion", "bash"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    probe = (
        script
        + "COMP_WORDS=(oauthctl --stack S scopes cr); COMP_CWORD=4; _oauthctl; "
        + 'echo "${COMPREPLY[@]}"\n'
    )
    ran = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True)
    assert ran.stdout.split() == ["create"]


def test_no_region_is_said_with_the_way_to_point_at_a_stack(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    assert main(["clients", "list"]) == 3
    said = capsys.readouterr().err
    assert "no AWS region is set" in said and "--stack NAME" in said
    assert "AWS_ENDPOINT_URL" in said and "Traceback" not in said
