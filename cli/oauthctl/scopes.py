"""oauthctl scopes: the scopes clients may be given, and what the consent page says of each."""

from __future__ import annotations

import argparse
from typing import Any

from oauth_core.admin.catalog import InvalidScopeDefinition, ScopeInUse
from oauth_core.catalog import ScopeDefinition
from oauthctl.admin import Admin
from oauthctl.errors import Invalid, NotFound
from oauthctl.output import JSON, TABLE, add_output_option, emit_list, emit_one
from oauthctl.parsing import command, group

LIST_COLUMNS = ("name", "consent", "audience", "builtin", "description")


def view(scope: ScopeDefinition) -> dict[str, Any]:
    return {**scope.to_item(), "audience": scope.audience, "builtin": scope.builtin}


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for field, value in (
        ("description", args.description),
        ("description_key", args.description_key),
        ("consent", args.consent),
        ("audience", args.audience),
    ):
        if value is not None:
            changes[field] = value
    return changes


def _validated(call: Any) -> Any:
    try:
        return call()
    except (InvalidScopeDefinition, ScopeInUse) as exc:
        raise Invalid(str(exc)) from exc
    except LookupError as exc:
        raise NotFound(str(exc.args[0]) if exc.args else str(exc)) from exc


def create(admin: Admin, args: argparse.Namespace) -> None:
    data = {"name": args.name, **_changes(args)}
    emit_one(args, view(_validated(lambda: admin.scopes().create(data))))


def list_(admin: Admin, args: argparse.Namespace) -> None:
    emit_list(args, [view(s) for s in admin.scopes().list()], LIST_COLUMNS)


def show(admin: Admin, args: argparse.Namespace) -> None:
    scope = admin.scopes().get(args.name)
    if scope is None:
        raise NotFound(f"no scope {args.name!r} (oauthctl scopes list shows them)")
    emit_one(args, view(scope))


def update(admin: Admin, args: argparse.Namespace) -> None:
    changes = _changes(args)
    if not changes:
        raise Invalid("nothing to update: give at least one field to change")
    emit_one(args, view(_validated(lambda: admin.scopes().update(args.name, changes))))


def delete(admin: Admin, args: argparse.Namespace) -> None:
    _validated(lambda: admin.scopes().delete(args.name))
    print(f"deleted {args.name}")


def _fields(parser: argparse.ArgumentParser, *, creating: bool) -> None:
    parser.add_argument(
        "--description",
        required=creating,
        help="what the consent page asks a user to allow, e.g. 'See your orders'",
    )
    parser.add_argument(
        "--description-key", help="translation key of the description (default scope.<name>)"
    )
    parser.add_argument(
        "--consent",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="ask users on the consent page (default yes); --no-consent grants it unasked",
    )
    parser.add_argument(
        "--audience", help="the API it belongs to (an https URL; default: the built-in API)"
    )


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    scopes = group(groups, "scopes", "scopes: what clients may ask for, and what users are told")
    made = command(scopes, "create", create, "register a scope")
    made.add_argument("name")
    _fields(made, creating=True)
    add_output_option(made, JSON)
    add_output_option(command(scopes, "list", list_, "list built-in and registered scopes"), TABLE)
    shown = command(scopes, "show", show, "show one scope")
    shown.add_argument("name")
    add_output_option(shown, JSON)
    changed = command(scopes, "update", update, "change a registered scope")
    changed.add_argument("name")
    _fields(changed, creating=False)
    add_output_option(changed, JSON)
    command(scopes, "delete", delete, "delete a scope no client is given").add_argument("name")
