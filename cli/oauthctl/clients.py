"""oauthctl clients: registered applications (RFC 7591 metadata)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from oauth_core import constants
from oauth_core.admin.registry import InvalidClientMetadata
from oauth_core.models import Client
from oauthctl.admin import Admin
from oauthctl.errors import Invalid, NotFound
from oauthctl.output import JSON, TABLE, add_output_option, emit_list, emit_one
from oauthctl.parsing import command, group

LIST_COLUMNS = ("client_id", "token_endpoint_auth_method", "grant_types", "scope", "disabled")


def view(client: Client) -> dict[str, Any]:
    return client.to_item()


def _metadata(args: argparse.Namespace) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if getattr(args, "from_json", None):
        document = _read_json("--from-json", args.from_json)
        if not isinstance(document, dict):
            raise Invalid(f"--from-json {args.from_json}: must hold a JSON object")
        data.update(document)
    for field, value in (
        ("client_name", args.name),
        ("application_type", args.application_type),
        ("redirect_uris", args.redirect_uri),
        ("grant_types", args.grant_type),
        ("token_endpoint_auth_method", args.auth_method),
        ("scope", args.scope),
        ("default_resource", args.default_resource),
        ("access_token_ttl", args.access_token_ttl),
        ("refresh_token_reuse_grace_seconds", args.refresh_token_reuse_grace),
        ("jwks_uri", args.jwks_uri),
        ("post_logout_redirect_uris", args.post_logout_redirect_uri),
        ("backchannel_logout_uri", args.backchannel_logout_uri),
    ):
        if value is not None:
            data[field] = value
    if args.jwks is not None:
        data["jwks"] = _read_json("--jwks", args.jwks)
    for flag, field in (
        ("first_party", "first_party"),
        ("introspection", "introspection"),
        ("dpop_bound", "dpop_bound_access_tokens"),
        ("require_par", "require_pushed_authorization_requests"),
        ("require_mfa", "require_mfa"),
    ):
        if getattr(args, flag) is not None:
            data[field] = getattr(args, flag)
    return data


def _read_json(option: str, path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise Invalid(f"{option} {path}: {exc}") from exc


def create(admin: Admin, args: argparse.Namespace) -> None:
    metadata = _metadata(args)
    metadata["client_id"] = args.client_id
    registration = _validated(lambda: admin.clients().create(metadata))
    shown = view(registration.client)
    if registration.client_secret:
        shown["client_secret"] = registration.client_secret
        print("Store the client secret now: it is not shown again.", file=sys.stderr)
    emit_one(args, shown)


def list_(admin: Admin, args: argparse.Namespace) -> None:
    emit_list(args, [view(c) for c in admin.clients().list()], LIST_COLUMNS)


def show(admin: Admin, args: argparse.Namespace) -> None:
    emit_one(args, view(found(admin, args.client_id)))


def update(admin: Admin, args: argparse.Namespace) -> None:
    current = found(admin, args.client_id)
    changes = _metadata(args)
    # A client has keys inline or at a URL, never both: giving one replaces the other.
    if args.jwks is not None and args.jwks_uri is None:
        changes["jwks_uri"] = ""
    if args.jwks_uri and args.jwks is None:
        changes["jwks"] = None
    if args.disabled is not None:
        changes["disabled"] = args.disabled
    if args.add_redirect_uri or args.remove_redirect_uri:
        if "redirect_uris" in changes:
            raise Invalid("--redirect-uri replaces the list: do not mix it with --add/--remove")
        uris = list(current.redirect_uris)
        missing = [uri for uri in args.remove_redirect_uri or [] if uri not in uris]
        if missing:
            raise Invalid(f"{args.client_id} has no redirect URI {missing[0]!r}")
        uris = [uri for uri in uris if uri not in (args.remove_redirect_uri or [])]
        uris += [uri for uri in args.add_redirect_uri or [] if uri not in uris]
        changes["redirect_uris"] = uris
    if not changes:
        raise Invalid("nothing to update: give at least one field to change")
    emit_one(args, view(_validated(lambda: admin.clients().update(args.client_id, changes))))


def delete(admin: Admin, args: argparse.Namespace) -> None:
    if not admin.clients().delete(args.client_id):
        raise NotFound(f"no client {args.client_id!r}")
    print(f"deleted {args.client_id}")


def rotate_secret(admin: Admin, args: argparse.Namespace) -> None:
    found(admin, args.client_id)
    secret = _validated(lambda: admin.clients().rotate_secret(args.client_id))
    print(
        "New secret (the previous one keeps working for "
        f"{admin.settings.secret_rotation_grace} s). Store it now: it is not shown again.",
        file=sys.stderr,
    )
    emit_one(args, {"client_id": args.client_id, "client_secret": secret})


def found(admin: Admin, client_id: str) -> Client:
    client = admin.clients().get(client_id)
    if client is None:
        raise NotFound(f"no client {client_id!r} (oauthctl clients list shows them)")
    return client


def _validated(call: Any) -> Any:
    try:
        return call()
    except InvalidClientMetadata as exc:
        raise Invalid(str(exc)) from exc


def _fields(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", help="client_name")
    parser.add_argument(
        "--application-type",
        choices=constants.APPLICATION_TYPES,
        help="native: a loopback redirect URI may use any port (RFC 8252); default web",
    )
    parser.add_argument("--redirect-uri", action="append", help="repeat for several")
    parser.add_argument("--grant-type", action="append", choices=constants.SUPPORTED_GRANT_TYPES)
    parser.add_argument("--auth-method", choices=constants.SUPPORTED_AUTH_METHODS)
    parser.add_argument("--scope", help="space-separated registered scopes (oauthctl scopes list)")
    parser.add_argument(
        "--default-resource",
        metavar="URL",
        help="the registered API its tokens are for when a request names no resource "
        '(RFC 8707); "" on update: none, the APIs of the scopes asked for',
    )
    parser.add_argument("--access-token-ttl", type=int)
    parser.add_argument(
        "--refresh-token-reuse-grace",
        type=int,
        metavar="SECONDS",
        help="0-60: a refresh token presented again this soon after its rotation rotates its "
        "unused successor instead of revoking the grant (default 0: reuse revokes)",
    )
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
        help="a resource server of the built-in API: may introspect any of its access tokens "
        "(another API names its own: oauthctl apis update --introspecting-client)",
    )
    parser.add_argument(
        "--jwks",
        metavar="FILE",
        help="private_key_jwt: a JSON file holding the client's public keys (a JWK Set)",
    )
    parser.add_argument(
        "--jwks-uri", metavar="URL", help="private_key_jwt: where the client publishes its keys"
    )
    parser.add_argument(
        "--dpop-bound",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="issue access tokens only bound to a DPoP key (RFC 9449 dpop_bound_access_tokens)",
    )
    parser.add_argument(
        "--require-par",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="accept authorization requests only pushed to /par first (RFC 9126)",
    )
    parser.add_argument(
        "--require-mfa",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="every sign-in for this client needs a second factor (users without one set it up)",
    )
    parser.add_argument(
        "--post-logout-redirect-uri",
        action="append",
        metavar="URI",
        help="where /logout may return the user (exact match); repeat for several",
    )
    parser.add_argument(
        "--backchannel-logout-uri",
        metavar="URL",
        help="where the server POSTs logout tokens when a user signs out",
    )
    parser.add_argument("--from-json", metavar="FILE", help="RFC 7591 client metadata as JSON")


def register(
    groups: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    clients = group(groups, "clients", "registered clients (applications)")
    made = command(clients, "create", create, "register a client; prints its secret once")
    made.add_argument("client_id")
    _fields(made)
    add_output_option(made, JSON)
    add_output_option(command(clients, "list", list_, "list clients"), TABLE)
    shown = command(clients, "show", show, "show one client")
    shown.add_argument("client_id")
    add_output_option(shown, JSON)
    changed = command(clients, "update", update, "change a client's metadata")
    changed.add_argument("client_id")
    _fields(changed)
    changed.add_argument("--add-redirect-uri", action="append", metavar="URI")
    changed.add_argument("--remove-redirect-uri", action="append", metavar="URI")
    changed.add_argument("--disabled", action=argparse.BooleanOptionalAction, default=None)
    add_output_option(changed, JSON)
    command(clients, "delete", delete, "delete a client and its secret").add_argument("client_id")
    rotated = command(
        clients, "rotate-secret", rotate_secret, "new secret; the old one has a grace period"
    )
    rotated.add_argument("client_id")
    add_output_option(rotated, JSON)
    return clients
