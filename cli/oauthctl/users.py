"""oauthctl users: people who sign in."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from oauth_core.admin.users import InvalidUser, UserFilter
from oauth_core.models import User
from oauthctl.admin import Admin
from oauthctl.errors import Invalid, NotFound
from oauthctl.output import JSON, TABLE, add_output_option, emit_list, emit_one
from oauthctl.parsing import command, group

LIST_COLUMNS = ("username", "sub", "groups", "disabled")


def view(user: User, mfa: bool | None = None) -> dict[str, Any]:
    shown = user.to_item()
    del shown["password_hash"]  # never shown
    if mfa is not None:
        shown["mfa"] = mfa  # whether a second factor is set up (never the factor itself)
    return shown


def read_password(args: argparse.Namespace) -> str:
    """From stdin with --password-stdin, else typed twice at a terminal."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise Invalid("a password is needed: --password-stdin read an empty line")
        return password
    if not sys.stdin.isatty():
        raise Invalid(
            "a password is needed: type it at a terminal, or pipe it with --password-stdin"
        )
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise Invalid("the passwords do not match")
    return first


def claims_of(pairs: list[str] | None) -> dict[str, Any]:
    claims: dict[str, Any] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise Invalid(f"--claim takes name=value, got {pair!r}")
        claims[name] = {"true": True, "false": False}.get(value, value)
    return claims


def _validated(call: Any) -> Any:
    try:
        return call()
    except InvalidUser as exc:
        raise Invalid(str(exc)) from exc
    except LookupError as exc:
        raise NotFound(str(exc.args[0]) if exc.args else str(exc)) from exc


def create(admin: Admin, args: argparse.Namespace) -> None:
    claims = claims_of(args.claim)
    password = read_password(args)
    emit_one(args, view(_validated(lambda: admin.users().create(args.username, password, claims))))


def list_(admin: Admin, args: argparse.Namespace) -> None:
    user_filter = _validated(lambda: UserFilter.parse(args.filter)) if args.filter else None
    users, next_token = admin.users().search(user_filter, args.limit, args.next_token)
    emit_list(args, [view(u) for u in users], LIST_COLUMNS)
    if next_token:
        print(f"more: --next-token {next_token}", file=sys.stderr)


def update(admin: Admin, args: argparse.Namespace) -> None:
    claims = claims_of(args.claim)
    if args.email_verified is not None:
        claims["email_verified"] = args.email_verified
    attributes = {k: _typed(v) for k, v in claims_of(args.attribute).items()}
    if not (claims or args.unset_claim or attributes or args.unset_attribute):
        raise Invalid(
            "nothing to update: give --claim, --unset-claim, --attribute, --unset-attribute "
            "or --email-verified"
        )
    directory = admin.users()
    user = found(admin, args.username)
    before = user
    if claims or args.unset_claim:
        user = _validated(lambda: directory.update(args.username, claims, args.unset_claim))
    if attributes or args.unset_attribute:
        user = _validated(
            lambda: directory.set_attributes(args.username, attributes, args.unset_attribute)
        )
    emit_one(args, view(user))
    # A new address is unverified until its owner follows the link mailed to it (SECURITY R5).
    if user.claims.get("email") != before.claims.get("email") and (
        user.claims.get("email_verified") is False
    ):
        _send_verification(admin, user)


def send_verification(admin: Admin, args: argparse.Namespace) -> None:
    user = found(admin, args.username)
    if not user.claims.get("email"):
        raise Invalid(f"{user.username} has no email claim to confirm")
    if user.claims.get("email_verified") is True:
        raise Invalid(f"{user.username}'s address is confirmed already")
    if not _send_verification(admin, user):
        raise Invalid("no link was sent (see above)")


def _send_verification(admin: Admin, user: User) -> bool:
    """Mail the user a link to confirm their address, as the account page does; what happened
    goes to stderr (stdout may carry the user as JSON)."""
    emails = admin.account_emails()
    if emails is None:
        print(
            "note: email_verified is false; this stack sends no e-mail (deploy it with "
            "-c ses_sender=...), so no link was sent",
            file=sys.stderr,
        )
        return False
    account_emails, issuer = emails
    if account_emails.send_verification(user, issuer):
        print(f"a link to confirm the address was sent to {user.claims['email']}", file=sys.stderr)
        return True
    print(
        "note: no link was sent: one was asked for this address lately, or SES refused it",
        file=sys.stderr,
    )
    return False


def _typed(value: Any) -> Any:
    """An attribute given on the command line: true/false and numbers as such."""
    if isinstance(value, bool):
        return value
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def add_to_group(admin: Admin, args: argparse.Namespace) -> None:
    found(admin, args.username)
    user = _validated(lambda: admin.users().add_group(args.username, args.group))
    print(f"{user.username} is in {', '.join(user.groups)}")


def remove_from_group(admin: Admin, args: argparse.Namespace) -> None:
    found(admin, args.username)
    user = _validated(lambda: admin.users().remove_group(args.username, args.group))
    print(f"{user.username} left {args.group}")


def show(admin: Admin, args: argparse.Namespace) -> None:
    user = found(admin, args.username)
    factors = admin.factors().get(user.sub)
    emit_one(args, view(user, mfa=factors is not None and factors.enrolled))


def mfa_reset(admin: Admin, args: argparse.Namespace) -> None:
    """Remove a user's second factors (a lost phone and lost recovery codes): their next sign-in
    is with the password alone, or sets up a new app where a second factor is required."""
    user = found(admin, args.username)
    removed = admin.factors().delete(user.sub)  # recorded as admin.change, `users mfa reset`
    print(
        f"two-step verification reset for {user.username}"
        if removed
        else f"{user.username} had no second factor"
    )


def _mfa_usage(admin: Admin, args: argparse.Namespace) -> None:
    raise Invalid("users mfa reset USERNAME")


def set_password(admin: Admin, args: argparse.Namespace) -> None:
    found(admin, args.username)
    password = read_password(args)
    temporary = args.temporary
    _validated(lambda: admin.users().set_password(args.username, password, temporary=temporary))
    then = " (temporary: a new one is chosen at the next sign-in)" if temporary else ""
    print(f"password changed for {args.username}{then}")


def disable(admin: Admin, args: argparse.Namespace) -> None:
    found(admin, args.username)
    _validated(lambda: admin.users().set_disabled(args.username, True))
    print(f"disabled {args.username}")


def enable(admin: Admin, args: argparse.Namespace) -> None:
    found(admin, args.username)
    _validated(lambda: admin.users().set_disabled(args.username, False))
    print(f"enabled {args.username}")


def delete(admin: Admin, args: argparse.Namespace) -> None:
    user = admin.users().get(args.username)
    if user is None or not admin.users().delete(args.username):
        raise NotFound(f"no user {args.username!r}")
    admin.factors().delete(user.sub)  # their second factors go with them
    passkeys = admin.passkeys()  # and their passkeys (by the owner index: see docs/oauthctl.md)
    for passkey in passkeys.of_user(user.sub):
        passkeys.remove(passkey.credential_id, user.sub)
    print(f"deleted {args.username}")


def _groups_usage(admin: Admin, args: argparse.Namespace) -> None:
    raise Invalid("users groups add|remove USERNAME GROUP")


def found(admin: Admin, username: str) -> User:
    user = admin.users().get(username)
    if user is None:
        raise NotFound(f"no user {username!r} (oauthctl users list shows them)")
    return user


def register(
    groups: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    users = group(groups, "users", "users who sign in")
    made = command(users, "create", create, "create a user")
    made.add_argument("username")
    made.add_argument("--claim", action="append", help="profile claim name=value (repeat)")
    made.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add_output_option(made, JSON)
    listed = command(users, "list", list_, "list users, a page at a time")
    listed.add_argument(
        "--filter",
        help="NAME = VALUE or NAME ^= VALUE (starts with) over username, sub, disabled, group "
        "or a claim, e.g. --filter 'email ^= \"ann@\"'",
    )
    listed.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    listed.add_argument("--next-token", help="where the previous page said to go on")
    add_output_option(listed, TABLE)
    changed = command(users, "update", update, "change a user's claims and attributes")
    changed.add_argument("username")
    changed.add_argument("--claim", action="append", help="set claim name=value (repeat)")
    changed.add_argument("--unset-claim", action="append", metavar="NAME", help="remove a claim")
    changed.add_argument("--email-verified", action=argparse.BooleanOptionalAction, default=None)
    changed.add_argument(
        "--attribute", action="append", help="set a declared attribute name=value (repeat)"
    )
    changed.add_argument("--unset-attribute", action="append", metavar="NAME")
    add_output_option(changed, JSON)
    memberships = command(
        users, "groups", _groups_usage, "a user's groups: add or remove"
    ).add_subparsers(dest="membership", required=True, metavar="ACTION")
    for action, run, help_text in (
        ("add", add_to_group, "put a user in a group (their next token says so)"),
        ("remove", remove_from_group, "take a user out of a group (gone from their next token)"),
    ):
        membership = command(memberships, action, run, help_text)
        membership.add_argument("username")
        membership.add_argument("group")
    factor_commands = command(
        users, "mfa", _mfa_usage, "a user's second factors: reset"
    ).add_subparsers(dest="mfa_action", required=True, metavar="ACTION")
    command(
        factor_commands,
        "reset",
        mfa_reset,
        "remove a user's authenticator app and recovery codes (a lost phone)",
    ).add_argument("username")
    shown = command(users, "show", show, "show one user (and whether a second factor is on)")
    shown.add_argument("username")
    add_output_option(shown, JSON)
    password = command(users, "set-password", set_password, "set a user's password")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true")
    password.add_argument(
        "--temporary",
        action="store_true",
        help="the user must choose a new password at their next sign-in",
    )
    command(
        users,
        "send-verification",
        send_verification,
        "mail a user a link to confirm their e-mail address",
    ).add_argument("username")
    command(users, "disable", disable, "disable a user").add_argument("username")
    command(users, "enable", enable, "enable a user").add_argument("username")
    command(users, "delete", delete, "delete a user").add_argument("username")
    return users
