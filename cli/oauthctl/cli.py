"""oauthctl: clients, users and signing keys, for the local stack and a deployed stack alike.

Where: --stack NAME reads a deployed stack's outputs; otherwise the default names (or the same
environment variables the functions read). AWS_ENDPOINT_URL (or --endpoint-url) points at the
local stack's embedded AWS.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from oauth_core import constants
from oauth_core.admin.key_rotation import RotationTooSoon
from oauth_core.admin.registry import InvalidClientMetadata
from oauth_core.admin.users import InvalidUser
from oauth_core.models import Client, User
from oauthctl.admin import Admin


class CommandError(Exception):
    pass


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def _client_view(client: Client) -> dict[str, Any]:
    return client.to_item()


def _user_view(user: User) -> dict[str, Any]:
    view = user.to_item()
    del view["password_hash"]  # never shown
    return view


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise CommandError("the passwords do not match")
    return first


def _client_metadata(args: argparse.Namespace) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if getattr(args, "from_json", None):
        with open(args.from_json, encoding="utf-8") as handle:
            data.update(json.load(handle))
    for field, value in (
        ("client_name", args.name),
        ("application_type", args.application_type),
        ("redirect_uris", args.redirect_uri),
        ("grant_types", args.grant_type),
        ("token_endpoint_auth_method", args.auth_method),
        ("scope", args.scope),
        ("access_token_ttl", args.access_token_ttl),
    ):
        if value is not None:
            data[field] = value
    for flag in ("first_party", "introspection"):
        if getattr(args, flag) is not None:
            data[flag] = getattr(args, flag)
    return data


# --- clients -------------------------------------------------------------------------------


def clients_create(admin: Admin, args: argparse.Namespace) -> None:
    metadata = _client_metadata(args)
    metadata["client_id"] = args.client_id
    registration = admin.clients().create(metadata)
    view = _client_view(registration.client)
    if registration.client_secret:
        view["client_secret"] = registration.client_secret
        print("Store the client secret now: it is not shown again.", file=sys.stderr)
    _print_json(view)


def clients_list(admin: Admin, args: argparse.Namespace) -> None:
    for client in admin.clients().list():
        state = "disabled" if client.disabled else "enabled"
        grants = ",".join(client.grant_types)
        print(f"{client.client_id}\t{client.token_endpoint_auth_method}\t{grants}\t{state}")


def clients_show(admin: Admin, args: argparse.Namespace) -> None:
    client = admin.clients().get(args.client_id)
    if client is None:
        raise CommandError(f"no client {args.client_id!r}")
    _print_json(_client_view(client))


def clients_update(admin: Admin, args: argparse.Namespace) -> None:
    changes = _client_metadata(args)
    if args.disabled is not None:
        changes["disabled"] = args.disabled
    if not changes:
        raise CommandError("nothing to update")
    _print_json(_client_view(admin.clients().update(args.client_id, changes)))


def clients_delete(admin: Admin, args: argparse.Namespace) -> None:
    if not admin.clients().delete(args.client_id):
        raise CommandError(f"no client {args.client_id!r}")
    print(f"deleted {args.client_id}")


def clients_rotate_secret(admin: Admin, args: argparse.Namespace) -> None:
    secret = admin.clients().rotate_secret(args.client_id)
    print(
        "New secret (the previous one keeps working for "
        f"{admin.settings.secret_rotation_grace} s). Store it now: it is not shown again.",
        file=sys.stderr,
    )
    _print_json({"client_id": args.client_id, "client_secret": secret})


# --- users ---------------------------------------------------------------------------------


def users_create(admin: Admin, args: argparse.Namespace) -> None:
    claims: dict[str, Any] = {}
    for claim in args.claim or []:
        name, sep, value = claim.partition("=")
        if not sep:
            raise CommandError(f"--claim takes name=value, got {claim!r}")
        claims[name] = {"true": True, "false": False}.get(value, value)
    user = admin.users().create(args.username, _read_password(args), claims)
    _print_json(_user_view(user))


def users_list(admin: Admin, args: argparse.Namespace) -> None:
    for user in admin.users().list():
        print(f"{user.username}\t{user.sub}\t{'disabled' if user.disabled else 'enabled'}")


def users_show(admin: Admin, args: argparse.Namespace) -> None:
    user = admin.users().get(args.username)
    if user is None:
        raise CommandError(f"no user {args.username!r}")
    _print_json(_user_view(user))


def users_set_password(admin: Admin, args: argparse.Namespace) -> None:
    admin.users().set_password(args.username, _read_password(args))
    print(f"password changed for {args.username}")


def users_disable(admin: Admin, args: argparse.Namespace) -> None:
    admin.users().set_disabled(args.username, True)
    print(f"disabled {args.username}")


def users_enable(admin: Admin, args: argparse.Namespace) -> None:
    admin.users().set_disabled(args.username, False)
    print(f"enabled {args.username}")


def users_delete(admin: Admin, args: argparse.Namespace) -> None:
    if not admin.users().delete(args.username):
        raise CommandError(f"no user {args.username!r}")
    print(f"deleted {args.username}")


# --- keys ----------------------------------------------------------------------------------


def keys_list(admin: Admin, args: argparse.Namespace) -> None:
    for key in admin.key_store().load().keys:
        print(f"{key.kid}\t{key.alg}\t{key.status}\tcreated {key.created_at}")


def keys_rotate(admin: Admin, args: argparse.Namespace) -> None:
    try:
        rotated = admin.rotate_keys(force=args.force)
    except RotationTooSoon as exc:
        raise CommandError(f"{exc}; wait, or pass --force") from exc
    for key in rotated.keys:
        print(f"{key.kid}\t{key.alg}\t{key.status}")


# --- smoke test ----------------------------------------------------------------------------


def smoke(admin: Admin, args: argparse.Namespace) -> None:
    from oauthctl import smoke as smoke_test

    issuer = args.issuer or admin.settings.issuer
    if not issuer:
        raise CommandError("no issuer: pass --stack NAME (its IssuerUrl output) or --issuer URL")
    if not smoke_test.run(admin.clients(), issuer, sys.stdout):
        raise CommandError("the smoke test failed (the lines above say where)")


# --- parser --------------------------------------------------------------------------------


def _add_client_fields(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", help="client_name")
    parser.add_argument(
        "--application-type",
        choices=constants.APPLICATION_TYPES,
        help="native: a loopback redirect URI may use any port (RFC 8252); default web",
    )
    parser.add_argument("--redirect-uri", action="append", help="repeat for several")
    parser.add_argument("--grant-type", action="append", choices=constants.SUPPORTED_GRANT_TYPES)
    parser.add_argument("--auth-method", choices=constants.SUPPORTED_AUTH_METHODS)
    parser.add_argument("--scope", help="space-separated scopes the client may ask for")
    parser.add_argument("--access-token-ttl", type=int)
    parser.add_argument(
        "--first-party",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="skip the consent screen (first-party apps only)",
    )
    parser.add_argument(
        "--introspection",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a resource server of this server's API: may introspect any of its access tokens",
    )
    parser.add_argument("--from-json", metavar="FILE", help="RFC 7591 client metadata as JSON")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oauthctl", description=__doc__)
    parser.add_argument("--stack", help="a deployed stack's name: read its outputs")
    parser.add_argument("--endpoint-url", help="AWS endpoint (default: AWS_ENDPOINT_URL)")
    parser.add_argument("--region")
    groups = parser.add_subparsers(dest="group", required=True)

    def command(
        group: argparse._SubParsersAction[argparse.ArgumentParser],
        name: str,
        run: Callable[[Admin, argparse.Namespace], None],
        help: str,
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(name, help=help)
        sub.set_defaults(run=run)
        return sub

    clients = groups.add_parser("clients", help="registered clients").add_subparsers(
        dest="command", required=True
    )
    create = command(clients, "create", clients_create, "register a client; prints its secret once")
    create.add_argument("client_id")
    _add_client_fields(create)
    command(clients, "list", clients_list, "list clients")
    command(clients, "show", clients_show, "show one client").add_argument("client_id")
    update = command(clients, "update", clients_update, "change a client's metadata")
    update.add_argument("client_id")
    _add_client_fields(update)
    update.add_argument("--disabled", action=argparse.BooleanOptionalAction, default=None)
    command(clients, "delete", clients_delete, "delete a client and its secret").add_argument(
        "client_id"
    )
    command(
        clients,
        "rotate-secret",
        clients_rotate_secret,
        "new secret; the old one has a grace period",
    ).add_argument("client_id")

    users = groups.add_parser("users", help="users who sign in").add_subparsers(
        dest="command", required=True
    )
    ucreate = command(users, "create", users_create, "create a user")
    ucreate.add_argument("username")
    ucreate.add_argument("--claim", action="append", help="profile claim name=value")
    ucreate.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    command(users, "list", users_list, "list users")
    command(users, "show", users_show, "show one user").add_argument("username")
    setpw = command(users, "set-password", users_set_password, "set a user's password")
    setpw.add_argument("username")
    setpw.add_argument("--password-stdin", action="store_true")
    command(users, "disable", users_disable, "disable a user").add_argument("username")
    command(users, "enable", users_enable, "enable a user").add_argument("username")
    command(users, "delete", users_delete, "delete a user").add_argument("username")

    keys = groups.add_parser("keys", help="signing keys").add_subparsers(
        dest="command", required=True
    )
    command(keys, "list", keys_list, "list signing keys and their status")
    rotate = command(keys, "rotate", keys_rotate, "next -> current -> retired; adds a new next key")
    rotate.add_argument(
        "--force", action="store_true", help="rotate even if the last rotation was under 5 min ago"
    )
    check = groups.add_parser(
        "smoke",
        help="after a deploy: discovery, JWKS, a throw-away client's token, the protected API",
    )
    check.add_argument("--issuer", help="the issuer URL (default: the stack's IssuerUrl)")
    check.set_defaults(run=smoke)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        admin = Admin.connect(stack=args.stack, endpoint_url=args.endpoint_url, region=args.region)
        args.run(admin, args)
    except (InvalidClientMetadata, InvalidUser) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # an AWS or network failure: say what, not a stack trace
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
