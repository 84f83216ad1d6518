"""DynamoDB table definitions, read by both the CDK stack and the local stack."""

from __future__ import annotations

from dataclasses import dataclass

from oauth_core import constants


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: str
    projection: str = "ALL"  # or KEYS_ONLY


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    env_var: str  # the variable that carries the table's name (oauth_core.config.Settings)
    partition_key: str
    sort_key: str | None = None
    ttl_attribute: str | None = None
    point_in_time_recovery: bool = True
    indexes: tuple[IndexSpec, ...] = ()


# Clients registered by themselves (RFC 7591) carry `purge_at`: TTL deletes them when unused.
CLIENTS = TableSpec("Clients", constants.ENV_CLIENTS_TABLE, "client_id", ttl_attribute="purge_at")
# A sparse index: only users whose e-mail address is verified carry `email_key` (the address in
# lower case, oauth_core.emails), so "forgot password" finds an account by its address. It
# projects the whole item: one Query answers, whether it finds an account or not (SECURITY R1).
USERS_BY_EMAIL = IndexSpec("by-email", "email_key")
USERS = TableSpec("Users", constants.ENV_USERS_TABLE, "username", indexes=(USERS_BY_EMAIL,))
# A sparse index: only token families and sessions carry `owner_sub`, so disabling a user can
# find and revoke them without a scan.
GRANTS_BY_OWNER = IndexSpec("by-owner", "owner_sub", projection="KEYS_ONLY")
# Sparse too: only token families carry `family_client`, so an operator can list and revoke
# what one client holds.
GRANTS_BY_CLIENT = IndexSpec("by-client", "family_client", projection="KEYS_ONLY")
# Short-lived, self-expiring items (codes, refresh tokens, sessions, counters): TTL deletes them
# (lazily, so every read checks expiry itself), and point-in-time recovery would only restore
# what has expired anyway.
GRANTS = TableSpec(
    "Grants",
    constants.ENV_GRANTS_TABLE,
    "pk",
    ttl_attribute="purge_at",
    point_in_time_recovery=False,
    indexes=(GRANTS_BY_OWNER, GRANTS_BY_CLIENT),
)

# The key prefix of single-use records (GrantStore.use_once: assertion and proof ids).
SINGLE_USE_PREFIX = "once#"

# What operators declare (oauth_core.catalog): one partition, one item per definition, so one
# Query reads the whole catalog.
REGISTRY = TableSpec("Registry", constants.ENV_REGISTRY_TABLE, "section", sort_key="entry")

# Users' second factors, one item per user (by `sub`): long-lived, so recoverable; only the login
# function and operators may read it (docs/architecture.md, "Second factors").
FACTORS = TableSpec("Factors", constants.ENV_FACTORS_TABLE, "sub")

# Users' passkeys, keyed by credential id: a discoverable sign-in names the credential (and a user
# handle), not the user, so it is one strongly consistent read. The account page lists a user's
# by the index. Long-lived: point-in-time recovery, as for users.
PASSKEYS_BY_USER = IndexSpec("by-user", "sub")
PASSKEYS = TableSpec(
    "Passkeys", constants.ENV_PASSKEYS_TABLE, "credential_id", indexes=(PASSKEYS_BY_USER,)
)

ALL_TABLES: tuple[TableSpec, ...] = (CLIENTS, USERS, GRANTS, REGISTRY, FACTORS, PASSKEYS)
