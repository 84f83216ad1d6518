"""Building the command tree: a group (`clients`) holds commands (`create`), each a function
`run(admin, args)`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from oauthctl.admin import Admin

Run = Callable[["Admin", argparse.Namespace], None]


def group(
    groups: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help: str
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    return groups.add_parser(name, help=help, description=help).add_subparsers(
        dest="command", required=True, metavar="COMMAND"
    )


def command(
    parent: argparse._SubParsersAction[argparse.ArgumentParser], name: str, run: Run, help: str
) -> argparse.ArgumentParser:
    sub: argparse.ArgumentParser = parent.add_parser(name, help=help, description=help)
    # Its full name (`users groups add`), as the audit record of a change names it: argparse
    # gives the innermost command's defaults.
    sub.set_defaults(run=run, command_name=sub.prog.split(" ", 1)[-1])
    return sub
