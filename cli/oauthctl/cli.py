"""oauthctl: clients, users, scopes, identity providers and signing keys, and the audit trail,
for the local stack and a deployed stack.

Where: --stack NAME reads a deployed stack's outputs (with your AWS credentials and region);
otherwise AWS_ENDPOINT_URL (or --endpoint-url) points at the local stack's embedded AWS, whose
address `make serve` prints.

Exit status: 0 ok, 1 not found, 2 usage or validation, 3 the stack could not be reached or
did not answer as it should.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import metadata

from oauthctl import (
    access,
    apis,
    audit,
    clients,
    keys,
    passkeys,
    providers,
    registration,
    scopes,
    users,
)
from oauthctl.admin import Admin
from oauthctl.errors import EXIT_OK, CommandError, Invalid, Unreachable
from oauthctl.parsing import command

PACKAGE = "oauth-serverless"
HOW_TO_POINT = (
    "point oauthctl at a stack: --stack NAME for a deployed one (with AWS credentials and a "
    "region), or `export AWS_ENDPOINT_URL=<the local AWS address make serve prints>` for the "
    "local one"
)


def _version() -> str:
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def smoke(admin: Admin, args: argparse.Namespace) -> None:
    from oauthctl import smoke as smoke_test

    issuer = args.issuer or admin.settings.issuer
    if not issuer:
        raise Invalid("no issuer: pass --stack NAME (its IssuerUrl output) or --issuer URL")
    if not smoke_test.run(admin.clients(), issuer, sys.stdout):
        raise Unreachable("the smoke test failed (the lines above say where)")


def completion(admin: Admin | None, args: argparse.Namespace) -> None:
    from oauthctl.completion import script

    print(script(build_parser(), args.shell))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oauthctl", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"oauthctl {_version()}")
    parser.add_argument("--stack", help="a deployed stack's name: read its outputs")
    parser.add_argument("--endpoint-url", help="AWS endpoint (default: AWS_ENDPOINT_URL)")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION / your profile's)")
    groups = parser.add_subparsers(dest="group", required=True, metavar="GROUP")
    access.register_client_views(clients.register(groups))
    user_commands = users.register(groups)
    access.register_user_views(user_commands)
    passkeys.register_user_commands(user_commands)
    scopes.register(groups)
    apis.register(groups)
    providers.register(groups)
    keys.register(groups)
    access.register(groups)
    audit.register(groups)
    registration.register(groups)
    check = command(
        groups, "smoke", smoke, "after a deploy: discovery, JWKS, a throw-away client, the API"
    )
    check.add_argument("--issuer", help="the issuer URL (default: the stack's IssuerUrl)")
    shell = command(groups, "completion", completion, "print a shell completion script")
    shell.add_argument("shell", choices=("bash", "zsh"))
    shell.set_defaults(offline=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "offline", False):
            args.run(None, args)
            return EXIT_OK
        admin = _connect(args)
        args.run(admin, args)
        # After a change succeeded, its record: who changed what (nothing for a read).
        audit.record_change(admin, args)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # AWS or the network: say what and where to look, no traceback
        failure = _unreachable(exc)
        print(f"error: {failure}", file=sys.stderr)
        return failure.exit_code
    return EXIT_OK


def _connect(args: argparse.Namespace) -> Admin:
    return Admin.connect(stack=args.stack, endpoint_url=args.endpoint_url, region=args.region)


def _unreachable(exc: Exception) -> Unreachable:
    """An AWS failure as a sentence: what went wrong, and how to point oauthctl elsewhere."""
    kind = type(exc).__name__
    detail = str(exc) or kind
    if kind == "NoRegionError":
        return Unreachable(f"no AWS region is set; {HOW_TO_POINT}")
    if kind in ("NoCredentialsError", "PartialCredentialsError"):
        return Unreachable(f"no AWS credentials were found; {HOW_TO_POINT}")
    if kind in ("EndpointConnectionError", "ConnectionClosedError", "ConnectTimeoutError"):
        return Unreachable(f"cannot reach AWS ({detail}); {HOW_TO_POINT}")
    if kind == "ClientError" and "does not exist" in detail:
        return Unreachable(f"{detail}; {HOW_TO_POINT}")
    if kind == "StorageError" and "ResourceNotFoundException" in detail:
        return Unreachable(
            f"the stack's tables or secrets were not found ({detail}); {HOW_TO_POINT}"
        )
    return Unreachable(f"{kind}: {detail}")


if __name__ == "__main__":
    sys.exit(main())
