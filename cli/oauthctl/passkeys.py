"""oauthctl users passkeys list|remove: a user's passkeys (WebAuthn credentials), and taking one
away, as when its authenticator is lost. Only public keys are kept: nothing secret is shown."""

from __future__ import annotations

import argparse
from typing import Any

from oauth_core.models import Passkey
from oauth_core.rules.passkeys import MAX_CREDENTIAL_ID_LENGTH
from oauthctl.admin import Admin
from oauthctl.errors import Invalid, NotFound
from oauthctl.output import TABLE, add_output_option, emit_list, iso_time
from oauthctl.parsing import command
from oauthctl.users import found as found_user

COLUMNS = ("credential_id", "name", "created", "last_used", "synced", "suspended")


def row(passkey: Passkey) -> dict[str, Any]:
    """What an operator sees of a passkey (not its public key nor its user handle)."""
    return {
        "credential_id": passkey.credential_id,
        "name": passkey.name,
        "created": iso_time(passkey.created_at),
        "last_used": iso_time(passkey.last_used_at),
        "synced": passkey.backup_eligible,
        "suspended": iso_time(passkey.suspended_at),
        "transports": list(passkey.transports),
        "aaguid": passkey.aaguid or None,
    }


def list_(admin: Admin, args: argparse.Namespace) -> None:
    user = found_user(admin, args.username)
    emit_list(args, [row(p) for p in admin.passkeys().of_user(user.sub)], COLUMNS)


def remove(admin: Admin, args: argparse.Namespace) -> None:
    user = found_user(admin, args.username)
    credential_id = args.credential_id
    if not 0 < len(credential_id) <= MAX_CREDENTIAL_ID_LENGTH:
        raise Invalid("CREDENTIAL_ID: the credential_id `users passkeys list` shows")
    # Only the user's own: the owner is the delete's condition.
    if not admin.passkeys().remove(credential_id, user.sub):
        raise NotFound(
            f"{user.username} has no passkey {credential_id!r} "
            f"(oauthctl users passkeys list {user.username} shows them)"
        )
    print(f"removed passkey {credential_id} of {user.username}: it no longer signs them in")


def _usage(admin: Admin, args: argparse.Namespace) -> None:
    raise Invalid("users passkeys list USERNAME | users passkeys remove USERNAME CREDENTIAL_ID")


def register_user_commands(users: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = command(
        users, "passkeys", _usage, "a user's passkeys: list, or remove one (a lost device)"
    ).add_subparsers(dest="passkeys_action", required=True, metavar="ACTION")
    listed = command(actions, "list", list_, "a user's passkeys: name, added, last used")
    listed.add_argument("username")
    add_output_option(listed, TABLE)
    removed = command(
        actions, "remove", remove, "remove one of a user's passkeys: it signs them in no more"
    )
    removed.add_argument("username")
    removed.add_argument("credential_id", help="as `users passkeys list` shows it")
