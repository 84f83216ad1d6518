"""oauthctl apis and oauthctl attributes: the protected APIs (which claim carries a user's
groups in their tokens) and custom user attributes (typed; optionally carried in a claim)."""

from __future__ import annotations

import argparse
from typing import Any

from oauth_core.admin.catalog import InvalidScopeDefinition
from oauth_core.catalog import ATTRIBUTE_TYPES, ApiDefinition, AttributeDefinition
from oauth_core.constants import SIGNING_ALGORITHMS
from oauthctl.admin import Admin
from oauthctl.errors import Invalid, NotFound
from oauthctl.output import JSON, TABLE, add_output_option, emit_list, emit_one
from oauthctl.parsing import command, group


def _validated(call: Any) -> Any:
    try:
        return call()
    except InvalidScopeDefinition as exc:
        raise Invalid(str(exc)) from exc
    except LookupError as exc:
        raise NotFound(str(exc.args[0]) if exc.args else str(exc)) from exc


def api_view(api: ApiDefinition) -> dict[str, Any]:
    return api.to_item()


def attribute_view(attribute: AttributeDefinition) -> dict[str, Any]:
    return {**attribute.to_item(), "claim": attribute.claim}


def apis_list(admin: Admin, args: argparse.Namespace) -> None:
    rows = [api_view(a) for a in admin.apis().list()]
    emit_list(
        args, rows, ("name", "groups_claim", "access_token_ttl", "signing_alg", "description")
    )


def apis_show(admin: Admin, args: argparse.Namespace) -> None:
    api = admin.apis().get(args.name)
    if api is None:
        raise NotFound(f"no API {args.name!r} (oauthctl apis list shows them)")
    emit_one(args, api_view(api))


def apis_create(admin: Admin, args: argparse.Namespace) -> None:
    made = _validated(
        lambda: admin.apis().create(
            args.name,
            groups_claim=args.groups_claim,
            description=args.description or "",
            access_token_ttl=args.access_token_ttl,
            signing_alg=args.signing_alg,
            introspecting_clients=args.introspecting_client or (),
        )
    )
    emit_one(args, api_view(made))


def apis_update(admin: Admin, args: argparse.Namespace) -> None:
    if args.introspecting_client and args.no_introspecting_clients:
        raise Invalid("give --introspecting-client or --no-introspecting-clients, not both")
    clients = [] if args.no_introspecting_clients else args.introspecting_client
    changes = (
        args.groups_claim,
        args.description,
        args.access_token_ttl,
        args.signing_alg,
        clients,
    )
    if all(change is None for change in changes):
        raise Invalid(
            "nothing to update: give --groups-claim, --description, --access-token-ttl, "
            "--signing-alg, --introspecting-client or --no-introspecting-clients"
        )
    updated = _validated(
        lambda: admin.apis().update(
            args.name,
            groups_claim=args.groups_claim,
            description=args.description,
            access_token_ttl=args.access_token_ttl,
            signing_alg=args.signing_alg,
            introspecting_clients=clients,
        )
    )
    emit_one(args, api_view(updated))


def apis_delete(admin: Admin, args: argparse.Namespace) -> None:
    _validated(lambda: admin.apis().delete(args.name))
    print(f"deleted {args.name}")


def attributes_list(admin: Admin, args: argparse.Namespace) -> None:
    rows = [attribute_view(a) for a in admin.attributes().list()]
    emit_list(args, rows, ("name", "type", "claim", "description"))


def attributes_create(admin: Admin, args: argparse.Namespace) -> None:
    made = _validated(
        lambda: admin.attributes().create(
            args.name, args.type, claim=args.claim, description=args.description or ""
        )
    )
    emit_one(args, attribute_view(made))


def attributes_delete(admin: Admin, args: argparse.Namespace) -> None:
    _validated(lambda: admin.attributes().delete(args.name))
    print(f"deleted {args.name}")


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    apis = group(groups, "apis", "protected APIs: the claim their tokens carry groups in")
    add_output_option(command(apis, "list", apis_list, "list APIs (default is built in)"), TABLE)
    shown = command(apis, "show", apis_show, "show one API")
    shown.add_argument("name")
    add_output_option(shown, JSON)
    made = command(apis, "create", apis_create, "register an API by its identifier (https URL)")
    made.add_argument("name", metavar="IDENTIFIER")
    changed = command(apis, "update", apis_update, "change an API (default: the built-in one)")
    changed.add_argument("name", metavar="IDENTIFIER")
    for parser in (made, changed):
        parser.add_argument("--groups-claim", help="the claim for a user's groups (default groups)")
        parser.add_argument("--description")
        parser.add_argument(
            "--access-token-ttl",
            type=int,
            help="its tokens' lifetime in seconds, 60 to 86400 (default: the client's or stack's)",
        )
        parser.add_argument(
            "--signing-alg",
            choices=SIGNING_ALGORITHMS,
            help="the algorithm its tokens are signed with (default: the stack's, ES256)",
        )
        parser.add_argument(
            "--introspecting-client",
            action="append",
            metavar="CLIENT_ID",
            help="a confidential client that may introspect this API's tokens (repeat for "
            "several; on update, replaces the list)",
        )
        add_output_option(parser, JSON)
    changed.add_argument(
        "--no-introspecting-clients",
        action="store_true",
        help="no client may introspect this API's tokens (but each client its own)",
    )
    command(apis, "delete", apis_delete, "delete an API no scope belongs to").add_argument("name")

    attributes = group(groups, "attributes", "custom user attributes")
    add_output_option(command(attributes, "list", attributes_list, "list attributes"), TABLE)
    declared = command(attributes, "create", attributes_create, "declare an attribute")
    declared.add_argument("name")
    declared.add_argument("--type", choices=ATTRIBUTE_TYPES, default="string")
    declared.add_argument("--claim", help="carry it in tokens under this claim")
    declared.add_argument("--description")
    add_output_option(declared, JSON)
    command(attributes, "delete", attributes_delete, "delete a declaration").add_argument("name")
