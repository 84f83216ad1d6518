"""What the Makefile's targets run first (scripts/ensure-venv) and `make install-cli`
(scripts/install-cli), each against a virtual environment of its own in a temporary directory.

ensure-venv: one install marker, satisfied by any earlier install of a superset of the extras
(dev includes local and examples); a .venv of an unsupported Python rebuilt, or a clear stop.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENSURE = ROOT / "scripts" / "ensure-venv"
INSTALL_CLI = ROOT / "scripts" / "install-cli"


def run(
    script: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(script), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def fake_python(path: Path, version: str) -> Path:
    """An interpreter that reports `version` (the machine has no unsupported Python)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A .venv of the supported Python running these tests (its python: a link to ours)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    return venv


def ensure(venv: Path, extras: str, **env: str) -> subprocess.CompletedProcess[str]:
    env = {"VENV": str(venv), "ENSURE_VENV_NO_INSTALL": "1", **env}
    return run(ENSURE, *([extras] if extras else []), env=env)


def installs(result: subprocess.CompletedProcess[str]) -> str | None:
    """The extras a run installed, or None when it installed nothing."""
    assert result.returncode == 0, result.stderr
    match = re.search(r"would install \.\[([^\]]*)\]", result.stderr)
    return match.group(1) if match else None


def test_make_test_first_then_make_serve_installs_nothing(venv: Path) -> None:
    assert installs(ensure(venv, "local,dev,infra")) == "dev,examples,infra,local"
    assert (venv / ".installed").read_text().strip() == "dev,examples,infra,local"
    assert installs(ensure(venv, "local")) is None  # make serve
    assert installs(ensure(venv, "local,examples")) is None  # make demo
    assert installs(ensure(venv, "")) is None  # make install-cli
    assert installs(ensure(venv, "local,dev,infra")) is None  # make test again


def test_make_serve_first_then_make_test_installs_the_union_once(venv: Path) -> None:
    assert installs(ensure(venv, "local")) == "local"
    assert installs(ensure(venv, "local,examples")) == "examples,local"
    assert installs(ensure(venv, "local,dev,infra")) == "dev,examples,infra,local"
    assert installs(ensure(venv, "local")) is None


def test_a_changed_pyproject_installs_again_everything_installed_before(venv: Path) -> None:
    assert installs(ensure(venv, "local,dev,infra")) is not None
    marker = venv / ".installed"
    older = (ROOT / "pyproject.toml").stat().st_mtime - 60
    os.utime(marker, (older, older))
    assert installs(ensure(venv, "local")) == "dev,examples,infra,local"
    assert installs(ensure(venv, "local")) is None


def test_the_markers_of_before_count(venv: Path) -> None:
    (venv / ".dev-installed").touch()
    assert installs(ensure(venv, "local,examples")) is None
    assert (venv / ".installed").read_text().strip() == "dev,examples,infra,local"


def test_an_unknown_extra_is_an_error(venv: Path) -> None:
    result = ensure(venv, "no-such-extra")
    assert result.returncode != 0
    assert "no extra 'no-such-extra'" in result.stderr


def test_a_venv_of_an_unsupported_python_stops_clearly_when_no_supported_one_is_named(
    tmp_path: Path,
) -> None:
    venv = tmp_path / "venv"
    fake_python(venv / "bin" / "python", "3.9")
    old = fake_python(tmp_path / "python3.10", "3.10")
    result = ensure(venv, "local", PYTHON=str(old))
    assert result.returncode == 2
    assert "was built by Python 3.9; this project needs Python >=3.11" in result.stderr
    assert f"'{old}' is Python 3.10" in result.stderr
    assert "make PYTHON=python3.11" in result.stderr
    assert (venv / "bin" / "python").read_text().endswith("echo 3.9\n")  # left as it was


def test_a_venv_of_an_unsupported_python_is_rebuilt_with_a_supported_one(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    fake_python(venv / "bin" / "python", "3.9")
    (venv / ".installed").write_text("local\n")
    result = ensure(venv, "local", PYTHON=sys.executable)
    assert result.returncode == 0, result.stderr
    assert "was built by Python 3.9" in result.stderr and "rebuilding" in result.stderr
    assert installs(result) == "local"  # the old marker went with the old .venv
    version = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert version.strip() == str(sys.version_info[:2])


def test_a_venv_whose_python_is_gone_is_rebuilt(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(tmp_path / "uninstalled-python")
    result = ensure(venv, "", PYTHON=sys.executable)
    assert result.returncode == 0, result.stderr
    assert "no longer runs" in result.stderr
    assert (venv / "bin" / "python").exists()


def test_no_venv_and_an_unsupported_python_stops_clearly(tmp_path: Path) -> None:
    result = ensure(tmp_path / "venv", "", PYTHON=str(fake_python(tmp_path / "py", "3.8")))
    assert result.returncode == 2
    assert "needs Python >=3.11" in result.stderr
    assert not (tmp_path / "venv").exists()


def venv_in_checkout() -> str:
    """The tests' virtual environment, relative to the checkout (as VENV is)."""
    relative = os.path.relpath(Path(sys.executable).parent.parent, ROOT)
    if relative.startswith(".."):
        pytest.skip("the tests' virtual environment is not inside the checkout")
    return relative


def test_install_cli_links_oauthctl_into_bindir(tmp_path: Path) -> None:
    bindir = tmp_path / "home" / ".local" / "bin"
    rel = venv_in_checkout()
    result = run(INSTALL_CLI, str(bindir), env={"VENV": rel, "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    link = bindir / "oauthctl"
    assert link.is_symlink()
    assert link.resolve() == (ROOT / rel / "bin" / "oauthctl").resolve()
    assert f"oauthctl: {link} -> " in result.stdout
    assert f'export PATH="{bindir}:$PATH"' in result.stdout  # not on PATH: says how
    # From anywhere, with nothing activated.
    help_text = subprocess.run(
        ["oauthctl", "--help"],
        cwd=tmp_path,
        env={"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert help_text.returncode == 0, help_text.stderr
    assert "clients" in help_text.stdout
    # Again: the same link, and no PATH advice when BINDIR is on PATH.
    again = run(INSTALL_CLI, str(bindir), env={"VENV": rel, "PATH": f"{bindir}:/usr/bin:/bin"})
    assert again.returncode == 0, again.stderr
    assert "not on your PATH" not in again.stdout


def test_install_cli_leaves_a_file_that_is_not_its_link(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "oauthctl").write_text("someone else's\n")
    result = run(INSTALL_CLI, str(bindir), env={"VENV": venv_in_checkout()})
    assert result.returncode == 1
    assert "exists and is not a link" in result.stderr
    assert (bindir / "oauthctl").read_text() == "someone else's\n"


@pytest.mark.parametrize(
    ("target", "extras"),
    [
        ("serve", "local"),
        ("demo", "local,examples"),
        ("install-cli", ""),
        ("lint", "local,dev,infra"),
        ("unit", "local,dev,infra"),
    ],
)
def test_every_target_goes_through_the_one_marker(target: str, extras: str) -> None:
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    calls = [line for line in dry_run.splitlines() if "scripts/ensure-venv" in line]
    assert len(calls) == 1, dry_run
    assert calls[0].split("scripts/ensure-venv")[1].strip() == extras
    assert "pip install" not in dry_run and "-installed" not in dry_run
