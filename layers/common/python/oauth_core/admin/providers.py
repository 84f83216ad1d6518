"""Upstream identity providers (federation, docs/federation.md): declaring them (oauthctl
providers), and the identity links that say which user an identity of theirs signs in as.

A provider is a definition in the registry (oauth_core.catalog.ProviderDefinition); its client
secret is a secret of its own in Secrets Manager, never in the registry item (SECURITY U5).

An identity is linked by the provider's `iss` and `sub` only (SECURITY U4): never by an e-mail
address. An identity no account is linked to gets a new account when the provider allows it
(just in time: a username of its own, the mapped claims, `email_verified` only if the provider
said true) and is refused otherwise; an existing account is linked to an identity only by its
user, signed in, from the account page, or by an operator.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from oauth_core.admin.catalog import InvalidDefinition
from oauth_core.admin.users import InvalidUser, UserDirectory
from oauth_core.catalog import CLAIM_NAME_PATTERN, DISCOVERY_SUFFIX, ProviderDefinition
from oauth_core.clock import Clock
from oauth_core.errors import ConditionFailed
from oauth_core.models import IdentityLink, User
from oauth_core.ports import CatalogStore, IdentityLinkStore, ProviderSecretStore, UserStore
from oauth_core.rules import upstream_claims

PROVIDER_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\Z")
DOMAIN_PATTERN = re.compile(r"^(?=.{1,253}\Z)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\Z")
CLIENT_ID_CHARACTERS = re.compile(r"^[\x21-\x7e]{1,255}\Z")
SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+\Z")
MAX_DISPLAY_NAME = 64
MAX_MAPPINGS = 20
MAX_DOMAINS = 20
MAX_SECRET_LENGTH = 1024
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
FIELDS = frozenset(
    {
        "name",
        "display_name",
        "discovery_url",
        "client_id",
        "scope",
        "claim_mapping",
        "allowed_email_domains",
        "jit_create",
    }
)


def _discovery_url(value: Any) -> str:
    """`<issuer>/.well-known/openid-configuration`: https, or http on a loopback host (a
    provider on the same machine as a local stack; a deployed stack never fetches loopback)."""
    parts = urlsplit(value) if isinstance(value, str) else None
    rule = (
        f"an https URL ending in {DISCOVERY_SUFFIX} (http only on a loopback host, for a local "
        "stack), without query, fragment or user information"
    )
    if parts is None or not parts.hostname or parts.query or parts.fragment or "@" in parts.netloc:
        raise InvalidDefinition("discovery_url", rule)
    if not parts.path.endswith(DISCOVERY_SUFFIX) or len(value) > 2048:
        raise InvalidDefinition("discovery_url", rule)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        raise InvalidDefinition("discovery_url", rule)
    return str(value)


def _scope(value: Any) -> str:
    names = value.split() if isinstance(value, str) else []
    if "openid" not in names or len(value) > 512 or not all(SCOPE_TOKEN.match(n) for n in names):
        raise InvalidDefinition("scope", "space-separated scopes that include openid")
    return " ".join(dict.fromkeys(names))


def _mapping(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping) or len(value) > MAX_MAPPINGS:
        raise InvalidDefinition("claim_mapping", f"at most {MAX_MAPPINGS} pairs OURS=THEIRS")
    pairs = []
    for ours, theirs in value.items():
        if ours not in upstream_claims.MAPPABLE_CLAIMS:
            raise InvalidDefinition(
                "claim_mapping",
                f"{ours!r} is not a profile claim a mapping may set (email_verified and "
                "phone_number_verified follow the provider's own)",
            )
        if not isinstance(theirs, str) or not CLAIM_NAME_PATTERN.match(theirs):
            raise InvalidDefinition("claim_mapping", f"{theirs!r} is not a claim name")
        pairs.append((str(ours), theirs))
    return tuple(sorted(pairs))


def _domains(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or len(value) > MAX_DOMAINS:
        raise InvalidDefinition("allowed_email_domains", f"at most {MAX_DOMAINS} domains")
    domains = tuple(dict.fromkeys(str(d).strip().lower() for d in value))
    for domain in domains:
        if not DOMAIN_PATTERN.match(domain):
            raise InvalidDefinition("allowed_email_domains", f"{domain!r} is not a domain name")
    return domains


def check_provider(data: Mapping[str, Any], *, now: int) -> ProviderDefinition:
    unknown = set(data) - FIELDS
    if unknown:
        raise InvalidDefinition(sorted(unknown)[0], "is not a provider field")
    name = data.get("name")
    if not isinstance(name, str) or not PROVIDER_NAME_PATTERN.match(name):
        raise InvalidDefinition("name", "1 to 63 lower-case letters, digits and '-'")
    display = data.get("display_name") or name
    if (
        not isinstance(display, str)
        or len(display) > MAX_DISPLAY_NAME
        or not display.strip()
        or not display.isprintable()
    ):
        raise InvalidDefinition(
            "display_name", f"one line of at most {MAX_DISPLAY_NAME} characters"
        )
    client_id = data.get("client_id")
    if not isinstance(client_id, str) or not CLIENT_ID_CHARACTERS.match(client_id):
        raise InvalidDefinition("client_id", "the client id the provider gave: visible ASCII")
    jit = data.get("jit_create", False)
    if not isinstance(jit, bool):
        raise InvalidDefinition("jit_create", "true or false")
    return ProviderDefinition(
        name=name,
        display_name=display.strip(),
        discovery_url=_discovery_url(data.get("discovery_url")),
        client_id=client_id,
        scope=_scope(data.get("scope") or "openid email profile"),
        claim_mapping=_mapping(data.get("claim_mapping") or {}),
        allowed_email_domains=_domains(data.get("allowed_email_domains") or []),
        jit_create=jit,
        created_at=now,
    )


def _secret(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_SECRET_LENGTH:
        raise InvalidDefinition("client_secret", "the client secret the provider gave")
    if not value.isprintable():
        raise InvalidDefinition("client_secret", "one line without control characters")
    return value


class ProviderAdmin:
    """Declaring providers: the definition in the registry, the secret in the secret store."""

    def __init__(self, store: CatalogStore, secrets: ProviderSecretStore, clock: Clock):
        self._store = store
        self._secrets = secrets
        self._clock = clock

    def list(self) -> list[ProviderDefinition]:
        return self._store.list(ProviderDefinition)

    def get(self, name: str) -> ProviderDefinition | None:
        return self._store.get(ProviderDefinition, name)

    def has_secret(self, name: str) -> bool:
        return self._secrets.client_secret(name) is not None

    def create(self, data: Mapping[str, Any], client_secret: str) -> ProviderDefinition:
        provider = check_provider(data, now=self._clock.now())
        secret = _secret(client_secret)
        if any(p.issuer == provider.issuer for p in self.list()):
            raise InvalidDefinition("discovery_url", "another provider has this issuer")
        try:
            self._store.put(provider, must_not_exist=True)
        except ConditionFailed:
            raise InvalidDefinition("name", f"{provider.name} is already declared") from None
        self._secrets.set_client_secret(provider.name, secret)
        return provider

    def update(
        self, name: str, changes: Mapping[str, Any], client_secret: str | None = None
    ) -> ProviderDefinition:
        current = self.get(name)
        if current is None:
            raise LookupError(f"no provider {name!r}")
        merged = {**current.to_item(), **changes, "name": name}
        merged.pop("created_at", None)
        updated = replace(check_provider(merged, now=current.created_at))
        if any(p.issuer == updated.issuer and p.name != name for p in self.list()):
            raise InvalidDefinition("discovery_url", "another provider has this issuer")
        secret = _secret(client_secret) if client_secret is not None else None
        self._store.put(updated)
        if secret is not None:
            self._secrets.set_client_secret(name, secret)
        return updated

    def delete(self, name: str) -> None:
        """The definition and its secret. Links to its identities stay: declared again with
        the same issuer, the provider signs the same users in."""
        if not self._store.delete(ProviderDefinition, name):
            raise LookupError(f"no provider {name!r}")
        self._secrets.delete_client_secret(name)


# --- identity links ---------------------------------------------------------------------------


class LinkRefused(Exception):
    """Why an identity cannot sign in or be linked: `reason` is a fixed word (audit, metric)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


NOT_LINKED = "not_linked"
LINKED_ELSEWHERE = "linked_to_another_user"
USER_DISABLED = "user_disabled"
NOT_YOURS = "link_not_removable"


@dataclass(frozen=True)
class Account:
    user: User
    created: bool  # made just now (just in time)


class IdentityLinks:
    """Which user an upstream identity is, linking and unlinking."""

    def __init__(
        self, links: IdentityLinkStore, users: UserStore, directory: UserDirectory, clock: Clock
    ):
        self._links = links
        self._users = users
        self._directory = directory
        self._clock = clock

    def _linked_user(self, link: IdentityLink | None) -> User | None:
        """The user a link names, if that very user (same `sub`) still exists."""
        if link is None:
            return None
        user = self._users.get(link.username)
        return user if user is not None and user.sub == link.user_sub else None

    def account_for(
        self,
        provider: ProviderDefinition,
        issuer: str,
        subject: str,
        upstream: Mapping[str, Any],
    ) -> Account:
        """The account an identity signs in as: the linked one, else (just in time, if the
        provider allows) a new one, linked; else LinkRefused. Never found by e-mail."""
        link = self._links.get(issuer, subject)
        user = self._linked_user(link)
        if user is not None:
            if user.disabled:
                raise LinkRefused(USER_DISABLED)
            return Account(user, created=False)
        if not provider.jit_create:
            raise LinkRefused(NOT_LINKED)
        made = self._create(provider, issuer, subject, upstream)
        stale = link.user_sub if link is not None else None  # a link to a user deleted since
        linked = IdentityLink(
            issuer, subject, provider.name, made.username, made.sub, self._clock.now(), True
        )
        if not self._links.put(linked, replacing=stale):
            # Another sign-in of the same identity linked it a moment ago: use that account.
            self._directory.delete(made.username)
            user = self._linked_user(self._links.get(issuer, subject))
            if user is None or user.disabled:
                raise LinkRefused(NOT_LINKED)
            return Account(user, created=False)
        return Account(made, created=True)

    def _create(
        self,
        provider: ProviderDefinition,
        issuer: str,
        subject: str,
        upstream: Mapping[str, Any],
    ) -> User:
        claims = upstream_claims.mapped_claims(provider, upstream)
        # A password nobody knows: the account signs in through the provider (or after an
        # operator or a recovery sets one).
        unusable = secrets.token_urlsafe(32)
        for username in upstream_claims.username_candidates(provider, issuer, subject, upstream):
            try:
                return self._directory.create(username, unusable, claims)
            except InvalidUser as exc:
                if exc.field != "username":
                    raise
        raise LinkRefused("no_username")

    def link(
        self, provider: ProviderDefinition, issuer: str, subject: str, user: User
    ) -> IdentityLink:
        """Link an identity to `user` (who asked for it signed in, or an operator); refused
        with LINKED_ELSEWHERE if it is another user's already. Linking it again is no change."""
        current = self._links.get(issuer, subject)
        if current is not None and self._linked_user(current) is not None:
            if current.user_sub != user.sub:
                raise LinkRefused(LINKED_ELSEWHERE)
            return current
        link = IdentityLink(
            issuer, subject, provider.name, user.username, user.sub, self._clock.now()
        )
        stale = current.user_sub if current is not None else None
        if not self._links.put(link, replacing=stale):
            raise LinkRefused(LINKED_ELSEWHERE)
        return link

    def links_of(self, user: User) -> list[IdentityLink]:
        return self._links.links_of(user.sub)

    def unlink(self, user: User, issuer: str, subject: str, *, by_operator: bool = False) -> bool:
        """Remove one of `user`'s links; a link that made the account is the operator's to
        remove (the user knows no password of it), else LinkRefused(NOT_YOURS)."""
        link = self._links.get(issuer, subject)
        if link is None or link.user_sub != user.sub:
            return False
        if link.created_account and not by_operator:
            raise LinkRefused(NOT_YOURS)
        return self._links.delete(issuer, subject)
