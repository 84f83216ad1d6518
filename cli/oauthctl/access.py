"""oauthctl users sessions|grants|consents, sessions end, grants revoke, consents revoke,
clients grants: who is signed in with which apps, and ending it (at once)."""

from __future__ import annotations

import argparse
from typing import Any

from oauth_core.admin.access import GrantView, session_id
from oauthctl.admin import Admin
from oauthctl.errors import NotFound
from oauthctl.output import TABLE, add_output_option, emit_list, iso_time
from oauthctl.parsing import command, group
from oauthctl.users import found as found_user

GRANT_COLUMNS = ("grant_id", "client_id", "scope", "created", "last_used", "expires", "state")


def grant_row(grant: GrantView) -> dict[str, Any]:
    return {
        "grant_id": grant.grant_id,
        "client_id": grant.client_id,
        "scope": grant.scope,
        "created": iso_time(grant.created_at),
        "last_used": iso_time(grant.last_used_at),
        "expires": iso_time(grant.expires_at),
        "state": grant.state,
    }


def sessions(admin: Admin, args: argparse.Namespace) -> None:
    user = found_user(admin, args.username)
    rows = [
        {
            "session": session_id(s),
            "signed_in": iso_time(s.auth_time),
            "expires": iso_time(s.expires_at),
        }
        for s in admin.access().sessions(user)
    ]
    emit_list(args, rows, ("session", "signed_in", "expires"))


def grants(admin: Admin, args: argparse.Namespace) -> None:
    user = found_user(admin, args.username)
    rows = [grant_row(g) for g in admin.access().grants(user, live_only=not args.all)]
    emit_list(args, rows, GRANT_COLUMNS)


def consents(admin: Admin, args: argparse.Namespace) -> None:
    user = found_user(admin, args.username)
    rows = [
        {"client_id": c.client_id, "scopes": sorted(c.scopes), "expires": iso_time(c.expires_at)}
        for c in admin.access().consents(user)
    ]
    emit_list(args, rows, ("client_id", "scopes", "expires"))


def client_grants(admin: Admin, args: argparse.Namespace) -> None:
    if admin.clients().get(args.client_id) is None:
        raise NotFound(f"no client {args.client_id!r} (oauthctl clients list shows them)")
    rows = [
        {"sub": sub, **grant_row(g)}
        for sub, g in admin.access().client_grants(args.client_id)
        if args.all or g.state == "live"
    ]
    emit_list(args, rows, ("sub", *GRANT_COLUMNS))


def end_sessions(admin: Admin, args: argparse.Namespace) -> None:
    user = found_user(admin, args.username)
    ended = admin.access().end_sessions(user, args.session)
    if args.session and not ended:
        raise NotFound(f"{args.username} has no session {args.session!r}")
    told = ""
    notices = admin.logout_notices() if ended else None
    if notices is not None:
        apps = notices[0].sessions_ended(notices[1], ended)
        told = f"; {apps} app{'s' if apps != 1 else ''} told (back-channel logout)" if apps else ""
    print(f"ended {len(ended)} session{'s' if len(ended) != 1 else ''} of {user.username}{told}")


def revoke_grants(admin: Admin, args: argparse.Namespace) -> None:
    user = found_user(admin, args.username)
    revoked = admin.access().revoke_grants(user, client_id=args.client, grant_id=args.grant)
    if (args.client or args.grant) and not revoked:
        raise NotFound(f"{args.username} has no live grant like that")
    print(f"revoked {revoked} grant{'s' if revoked != 1 else ''} of {user.username}")


def revoke_consent(admin: Admin, args: argparse.Namespace) -> None:
    user = found_user(admin, args.username)
    if not admin.access().withdraw_consent(user, args.client):
        raise NotFound(f"{args.username} has no consent for {args.client!r}")
    print(f"withdrew {user.username}'s consent for {args.client}")


def _listing(parser: argparse.ArgumentParser, subject: str) -> argparse.ArgumentParser:
    parser.add_argument(subject)
    add_output_option(parser, TABLE)
    return parser


def register_user_views(users: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    _listing(command(users, "sessions", sessions, "a user's live sessions"), "username")
    listed = _listing(
        command(users, "grants", grants, "a user's grants: per client, scope, last use, expiry"),
        "username",
    )
    listed.add_argument("--all", action="store_true", help="revoked and expired ones too")
    _listing(command(users, "consents", consents, "the apps a user has allowed"), "username")


def register_client_views(clients: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listed = _listing(
        command(clients, "grants", client_grants, "every user's grant this client holds"),
        "client_id",
    )
    listed.add_argument("--all", action="store_true", help="revoked and expired ones too")


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ending = group(groups, "sessions", "ending sign-ins")
    ended = command(ending, "end", end_sessions, "end a user's sessions (at once)")
    ended.add_argument("username")
    ended.add_argument("--session", help="only the session whose id starts so")
    revoking = group(groups, "grants", "revoking what apps hold")
    revoked = command(
        revoking, "revoke", revoke_grants, "revoke a user's grants: refresh tokens stop at once"
    )
    revoked.add_argument("username")
    revoked.add_argument("--client", help="only this client's grants")
    revoked.add_argument("--grant", help="only this grant")
    withdrawing = group(groups, "consents", "what users have allowed")
    withdrawn = command(
        withdrawing, "revoke", revoke_consent, "withdraw a consent: the app must ask again"
    )
    withdrawn.add_argument("username")
    withdrawn.add_argument("--client", required=True)
