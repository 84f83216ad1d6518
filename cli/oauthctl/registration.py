"""oauthctl registration token: an initial access token for dynamic client registration, for a
stack that registers only with one (`-c client_registration=token`, RFC 7591 3). Printed once;
the stack keeps only its hash, with its expiry and how many registrations it still allows."""

from __future__ import annotations

import argparse
import secrets

from oauth_core.constants import OPAQUE_TOKEN_BYTES
from oauth_core.rules.hashing import token_hash
from oauthctl.admin import Admin
from oauthctl.errors import Invalid
from oauthctl.output import add_output_option, emit_one, iso_time
from oauthctl.parsing import command, group

MAX_LIFETIME = 90 * 86400


def create_token(admin: Admin, args: argparse.Namespace) -> None:
    if not 60 <= args.expires_in <= MAX_LIFETIME:
        raise Invalid(f"--expires-in: seconds from 60 to {MAX_LIFETIME}")
    if not 1 <= args.uses <= 10_000:
        raise Invalid("--uses: from 1 to 10000")
    token = secrets.token_urlsafe(OPAQUE_TOKEN_BYTES)
    expires_at = admin.now() + args.expires_in
    admin.grant_store().put_initial_access_token(token_hash(token), expires_at, args.uses)
    emit_one(
        args,
        {"initial_access_token": token, "expires_at": iso_time(expires_at), "uses": args.uses},
    )


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    registration = group(groups, "registration", "dynamic client registration (RFC 7591)")
    made = command(
        registration,
        "token",
        create_token,
        "an initial access token for registering clients (printed once)",
    )
    made.add_argument(
        "--expires-in", type=int, default=7 * 86400, help="seconds it is good for (default 7 days)"
    )
    made.add_argument(
        "--uses", type=int, default=1, help="how many registrations it allows (default 1)"
    )
    add_output_option(made, "json")
