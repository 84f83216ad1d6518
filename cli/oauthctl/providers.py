"""oauthctl providers: other OpenID Connect providers users may sign in with (federation,
docs/federation.md), and the identities of theirs linked to users here.

A provider's client secret is read from stdin (or typed at a terminal), kept in Secrets
Manager under the stack's provider-secret prefix, and never printed."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from oauth_core import audit
from oauth_core.admin.catalog import InvalidScopeDefinition
from oauth_core.admin.providers import LinkRefused
from oauth_core.catalog import ProviderDefinition
from oauth_core.http.outbound import SafeFetcher
from oauth_core.tokens import upstream
from oauthctl.admin import Admin
from oauthctl.errors import Invalid, NotFound, Unreachable
from oauthctl.output import JSON, TABLE, add_output_option, emit_list, emit_one, iso_time
from oauthctl.parsing import command, group

LIST_COLUMNS = ("name", "display_name", "issuer", "client_id", "jit_create", "domains")


def view(provider: ProviderDefinition, *, has_secret: bool | None = None) -> dict[str, Any]:
    shown = {
        **provider.to_item(),
        "issuer": provider.issuer,
        "claim_mapping": dict(provider.claim_mapping),
        "allowed_email_domains": list(provider.allowed_email_domains),
        "domains": list(provider.allowed_email_domains),
        "callback": "<issuer of this stack>/login/federated/callback",
    }
    if has_secret is not None:
        shown["client_secret_set"] = has_secret  # whether one is set: the secret is never shown
    return shown


def _validated(call: Any) -> Any:
    try:
        return call()
    except InvalidScopeDefinition as exc:
        raise Invalid(str(exc)) from exc
    except LookupError as exc:
        raise NotFound(str(exc.args[0]) if exc.args else str(exc)) from exc


def read_secret(args: argparse.Namespace, *, required: bool) -> str | None:
    """From stdin with --client-secret-stdin, else typed at a terminal (when one is needed)."""
    if args.client_secret_stdin:
        secret = sys.stdin.readline().rstrip("\n")
        if not secret:
            raise Invalid("a client secret is needed: --client-secret-stdin read an empty line")
        return secret
    if not required:
        return None
    if not sys.stdin.isatty():
        raise Invalid(
            "the provider's client secret is needed: type it at a terminal, or pipe it with "
            "--client-secret-stdin"
        )
    return getpass.getpass("Client secret at the provider: ")


def _mapping(pairs: list[str] | None) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs or []:
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours or not theirs:
            raise Invalid(f"--claim-mapping takes OURS=THEIRS (name=displayName), got {pair!r}")
        mapping[ours.strip()] = theirs.strip()
    return mapping


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for field, value in (
        ("display_name", args.display_name),
        ("discovery_url", args.discovery_url),
        ("client_id", args.client_id),
        ("scope", args.scope),
        ("jit_create", args.jit_create),
    ):
        if value is not None:
            changes[field] = value
    if args.claim_mapping:
        changes["claim_mapping"] = _mapping(args.claim_mapping)
    if args.allowed_email_domain:
        changes["allowed_email_domains"] = args.allowed_email_domain
    return changes


def check_discovery(admin: Admin, provider: ProviderDefinition) -> None:
    """Read the provider's discovery document as the login function will (the outbound rules:
    https, public addresses, loopback only for the local stack) and say what is wrong with it."""
    fetcher = SafeFetcher(
        allow_loopback=admin.is_local,
        timeout=upstream.TIMEOUT_SECONDS,
        max_bytes=upstream.MAX_DOCUMENT_BYTES,
        content_types=upstream.CONTENT_TYPES,
    )
    try:
        document = fetcher.fetch_json(provider.discovery_url)
    except Exception as exc:
        raise Unreachable(
            f"the discovery document could not be read ({exc}); check the URL, or give "
            "--skip-discovery-check if this machine cannot reach the provider"
        ) from exc
    try:
        upstream.metadata_from(document, provider.issuer)
    except upstream.UpstreamRefused as exc:
        raise Invalid(f"the provider cannot be used: {exc.detail} ({exc.reason})") from exc


def create(admin: Admin, args: argparse.Namespace) -> None:
    data = {"name": args.name, **_changes(args)}
    for option, field in (("--discovery-url", "discovery_url"), ("--client-id", "client_id")):
        if field not in data:
            raise Invalid(f"{option} is required")
    secret = read_secret(args, required=True)
    assert secret is not None
    providers = admin.providers()
    if not args.skip_discovery_check:
        from oauth_core.admin.providers import check_provider

        check_discovery(admin, _validated(lambda: check_provider(data, now=0)))
    made = _validated(lambda: providers.create(data, secret))
    print(
        f"Register this redirect URI at the provider: {_issuer(admin)}/login/federated/callback",
        file=sys.stderr,
    )
    emit_one(args, view(made, has_secret=True))


def _issuer(admin: Admin) -> str:
    issuer = admin.settings.issuer or (admin._local_issuer() if admin.is_local else None)
    return issuer or "<this stack's issuer>"


def list_(admin: Admin, args: argparse.Namespace) -> None:
    emit_list(args, [view(p) for p in admin.providers().list()], LIST_COLUMNS)


def found(admin: Admin, name: str) -> ProviderDefinition:
    provider = admin.providers().get(name)
    if provider is None:
        raise NotFound(f"no provider {name!r} (oauthctl providers list shows them)")
    return provider


def show(admin: Admin, args: argparse.Namespace) -> None:
    provider = found(admin, args.name)
    emit_one(args, view(provider, has_secret=admin.providers().has_secret(provider.name)))


def update(admin: Admin, args: argparse.Namespace) -> None:
    changes = _changes(args)
    if args.no_claim_mapping:
        changes["claim_mapping"] = {}
    if args.no_allowed_email_domains:
        changes["allowed_email_domains"] = []
    secret = read_secret(args, required=False)
    if not changes and secret is None:
        raise Invalid("nothing to update: give at least one option to change")
    current = found(admin, args.name)
    if "discovery_url" in changes and not args.skip_discovery_check:
        from oauth_core.admin.providers import check_provider

        merged = {**current.to_item(), **changes}
        merged.pop("created_at", None)
        check_discovery(admin, _validated(lambda: check_provider(merged, now=0)))
    updated = _validated(lambda: admin.providers().update(args.name, changes, secret))
    emit_one(args, view(updated, has_secret=admin.providers().has_secret(args.name)))


def delete(admin: Admin, args: argparse.Namespace) -> None:
    _validated(lambda: admin.providers().delete(args.name))
    print(f"deleted {args.name} and its client secret")


def _user(admin: Admin, username: str) -> Any:
    user = admin.users().get(username)
    if user is None:
        raise NotFound(f"no user {username!r} (oauthctl users list shows them)")
    return user


def link(admin: Admin, args: argparse.Namespace) -> None:
    provider = found(admin, args.name)
    user = _user(admin, args.username)
    try:
        made = admin.identity_links().link(provider, provider.issuer, args.subject, user)
    except LinkRefused as exc:
        raise Invalid(
            f"{provider.name}'s identity {args.subject!r} is linked to another user already: "
            "unlink it there first"
        ) from exc
    _record(admin, audit.FEDERATION_LINKED, user, provider.name)
    print(f"linked {provider.name} {made.subject} to {user.username}")


def unlink(admin: Admin, args: argparse.Namespace) -> None:
    provider = found(admin, args.name)
    user = _user(admin, args.username)
    links = admin.identity_links()
    if not links.unlink(user, provider.issuer, args.subject, by_operator=True):
        raise NotFound(f"{user.username} has no link to {provider.name} {args.subject!r}")
    _record(admin, audit.FEDERATION_UNLINKED, user, provider.name)
    print(f"unlinked {provider.name} {args.subject} from {user.username}")


def _record(admin: Admin, event: str, user: Any, provider: str) -> None:
    """The link's own audit record (beside the admin.change of the command)."""
    from oauthctl.audit import LOCAL_ACTOR, caller_arn, writer

    try:
        actor = LOCAL_ACTOR if admin.is_local else caller_arn(admin)
        record = audit.record(
            event,
            actor=actor,
            sub=user.sub,
            username=user.username,
            provider=provider,
            by="operator",
        )
        writer(admin)([record])
    except Exception as exc:  # the link is made; say its record is not
        print(f"warning: the audit record could not be written ({exc})", file=sys.stderr)


def links(admin: Admin, args: argparse.Namespace) -> None:
    user = _user(admin, args.username)
    rows = [
        {
            "provider": link.provider,
            "issuer": link.issuer,
            "subject": link.subject,
            "linked": iso_time(link.created_at),
            "created_account": link.created_account,
        }
        for link in admin.identity_links().links_of(user)
    ]
    emit_list(args, rows, ("provider", "subject", "linked", "created_account", "issuer"))


def _add_fields(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--display-name", help='shown on the button: "Sign in with NAME"')
    parser.add_argument(
        "--discovery-url", help="the provider's <issuer>/.well-known/openid-configuration"
    )
    parser.add_argument("--client-id", help="this server's client id at the provider")
    parser.add_argument(
        "--client-secret-stdin",
        action="store_true",
        help="read the client secret from stdin (else it is asked for at a terminal)",
    )
    parser.add_argument(
        "--scope", help='what to ask the provider for (default "openid email profile")'
    )
    parser.add_argument(
        "--claim-mapping",
        action="append",
        metavar="OURS=THEIRS",
        help="a profile claim of ours from a claim of the provider's (repeat; default: the "
        "standard claims by name)",
    )
    parser.add_argument(
        "--allowed-email-domain",
        action="append",
        metavar="DOMAIN",
        help="only users whose verified e-mail is in this domain (repeat for several)",
    )
    parser.add_argument(
        "--jit-create",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="make an account for an identity no account is linked to (default: no)",
    )
    parser.add_argument(
        "--skip-discovery-check",
        action="store_true",
        help="do not read the discovery document from this machine first",
    )
    add_output_option(parser, JSON)


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    providers = group(groups, "providers", "other OpenID Connect providers users may sign in with")
    add_output_option(command(providers, "list", list_, "list providers"), TABLE)
    shown = command(providers, "show", show, "show one provider (never its secret)")
    shown.add_argument("name")
    add_output_option(shown, JSON)
    made = command(providers, "create", create, "declare a provider")
    made.add_argument("name", help="lower-case letters, digits and '-' (e.g. company-sso)")
    _add_fields(made)
    changed = command(providers, "update", update, "change a provider (or its client secret)")
    changed.add_argument("name")
    _add_fields(changed)
    changed.add_argument("--no-claim-mapping", action="store_true", help="back to the default")
    changed.add_argument(
        "--no-allowed-email-domains", action="store_true", help="any domain (or none) may sign in"
    )
    command(providers, "delete", delete, "delete a provider and its secret").add_argument("name")
    linked = command(providers, "link", link, "link a provider's identity (its sub) to a user")
    unlinked = command(providers, "unlink", unlink, "remove a link")
    for parser in (linked, unlinked):
        parser.add_argument("name", help="the provider")
        parser.add_argument("username")
        parser.add_argument("--subject", required=True, help="the user's sub at the provider")
    listed = command(providers, "links", links, "the provider identities linked to a user")
    listed.add_argument("username")
    add_output_option(listed, TABLE)
