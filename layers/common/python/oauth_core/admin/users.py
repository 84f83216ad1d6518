"""Managing users: validation, Argon2id hashes, stable `sub`. Used by oauthctl and the seed."""

from __future__ import annotations

import builtins
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from oauth_core import constants
from oauth_core.catalog import BUILTIN_CATALOG, Catalog
from oauth_core.clock import Clock
from oauth_core.errors import ConditionFailed
from oauth_core.models import USERNAME_PATTERN, SubjectState, User, canonical_username
from oauth_core.ports import CatalogSource, GrantStore, UserStore
from oauth_core.rules.claims import PROFILE_CLAIM_NAMES, profile_of
from oauth_core.rules.passwords import MAX_PASSWORD_BYTES, hash_password

MIN_PASSWORD_LENGTH = constants.MIN_PASSWORD_LENGTH
PROFILE_CLAIMS = frozenset(PROFILE_CLAIM_NAMES)
GROUP_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}\Z")
MAX_GROUPS = 100
# `users list --filter`: NAME = VALUE (equal) or NAME ^= VALUE (starts with), VALUE maybe quoted.
_FILTER = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_:.-]*)\s*(\^=|=)\s*"?([^"]*)"?\s*\Z')


def _email_verified_after(
    before: Mapping[str, Any], after: dict[str, Any], given: Mapping[str, Any]
) -> dict[str, Any]:
    """A new address is not verified until its owner follows the link mailed to it (SECURITY
    R5), unless this very change says it is (an operator who checked it); no address, no
    verification."""
    if "email" not in after:
        if "email" in before:  # the address removed: nothing left that is verified
            after.pop("email_verified", None)
    elif "email_verified" not in given and _address(after["email"]) != _address(
        before.get("email")
    ):
        after["email_verified"] = False
    return after


def _address(value: Any) -> str:
    return value.strip().lower() if isinstance(value, str) else ""


class InvalidUser(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check_password(password: Any) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidUser("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise InvalidUser("password", f"must be at most {MAX_PASSWORD_BYTES} bytes")
    return password


def check_claims(claims: Mapping[str, Any]) -> dict[str, Any]:
    for name, value in claims.items():
        if name not in PROFILE_CLAIMS:
            raise InvalidUser(name, "is not an OpenID Connect profile claim")
        if not isinstance(value, str | bool | int) or (isinstance(value, str) and len(value) > 512):
            raise InvalidUser(name, "must be a string (at most 512 characters), boolean or integer")
        if name in _BOOLEAN_CLAIMS and not isinstance(value, bool):
            raise InvalidUser(name, "must be true or false")
    return dict(claims)


_BOOLEAN_CLAIMS = frozenset({"email_verified", "phone_number_verified"})


def check_group(name: Any) -> str:
    if not isinstance(name, str) or not GROUP_PATTERN.match(name):
        raise InvalidUser("group", "1-64 characters of [A-Za-z0-9._:@-], starting alphanumeric")
    return name


@dataclass(frozen=True)
class UserFilter:
    """`name = value` or `name ^= value` over username, sub, disabled, group or any claim."""

    name: str
    value: str
    prefix: bool

    @classmethod
    def parse(cls, text: str) -> UserFilter:
        match = _FILTER.match(text)
        if not match:
            raise InvalidUser("filter", 'NAME = VALUE or NAME ^= VALUE, e.g. email ^= "ann@"')
        name, operator, value = match.groups()
        return cls(name, value, operator == "^=")

    def matches(self, user: User) -> bool:
        if self.name == "group":
            return any(self._equal(group) for group in user.groups)
        fields: dict[str, Any] = {
            "username": user.username,
            "sub": user.sub,
            "disabled": str(user.disabled).lower(),
        }
        value = fields.get(self.name, user.claims.get(self.name, user.attributes.get(self.name)))
        if value is None:
            return False
        return self._equal(str(value).lower() if isinstance(value, bool) else str(value))

    def _equal(self, found: str) -> bool:
        return found.startswith(self.value) if self.prefix else found == self.value


class UserDirectory:
    def __init__(
        self,
        users: UserStore,
        clock: Clock,
        grants: GrantStore | None = None,
        catalog: CatalogSource | None = None,
    ):
        self._users = users
        self._clock = clock
        self._grants = grants
        self._catalog = catalog

    def _declared(self) -> Catalog:
        return self._catalog.catalog() if self._catalog else BUILTIN_CATALOG

    def create(
        self,
        username: Any,
        password: Any,
        claims: Mapping[str, Any] | None = None,
        *,
        replace_existing: bool = False,
    ) -> User:
        if not isinstance(username, str) or not USERNAME_PATTERN.match(username):
            raise InvalidUser("username", "must be 1-128 characters of [A-Za-z0-9._@+-]")
        username = canonical_username(username)
        existing = self._users.get(username) if replace_existing else None
        user = User(
            username=username,
            sub=existing.sub if existing else str(uuid.uuid4()),
            password_hash=hash_password(check_password(password)),
            claims=check_claims(claims or {}),
            created_at=self._clock.now(),
        )
        try:
            self._users.put(user, must_not_exist=not replace_existing)
        except ConditionFailed as exc:
            raise InvalidUser("username", "is already taken") from exc
        if existing is not None:
            self._end_grants(existing.sub)  # replaced, password and all
        self._publish(user)
        return user

    def create_signed_up(self, username: str, password_hash: str, email: str) -> User:
        """An account a self sign-up made, once its address was confirmed by the link mailed to
        it (oauth_core.admin.account_emails): the password was hashed when it was chosen."""
        if not USERNAME_PATTERN.match(username):
            raise InvalidUser("username", "must be 1-128 characters of [A-Za-z0-9._@+-]")
        user = User(
            username=canonical_username(username),
            sub=str(uuid.uuid4()),
            password_hash=password_hash,
            claims=check_claims({"email": email, "email_verified": True}),
            created_at=self._clock.now(),
        )
        try:
            self._users.put(user, must_not_exist=True)
        except ConditionFailed as exc:
            raise InvalidUser("username", "is already taken") from exc
        self._publish(user)
        return user

    def get(self, username: str) -> User | None:
        """The user, by any case of the name. A record kept under its exact name by a version
        before usernames were case-insensitive is found too, so it can still be managed."""
        canonical = canonical_username(username)
        user = self._users.get(canonical)
        if user is None and username != canonical:
            user = self._users.get(username)
        return user

    def list(self) -> list[User]:
        return self._users.list()

    def search(
        self, user_filter: UserFilter | None = None, limit: int = 50, after: str | None = None
    ) -> tuple[builtins.list[User], str | None]:
        """Up to `limit` users (by username) after `after` that match; and where the next page
        starts, or None at the end."""
        found: builtins.list[User] = []
        start = after
        while len(found) < limit:
            page, start = self._users.page(max(limit, 100), start)
            for index, user in enumerate(page):
                if user_filter is None or user_filter.matches(user):
                    found.append(user)
                    if len(found) == limit:
                        more = index + 1 < len(page) or start is not None
                        return found, user.username if more else None
            if start is None:
                return found, None
        return found, found[-1].username if found else None

    def update(
        self,
        username: str,
        claims: Mapping[str, Any] | None = None,
        unset: builtins.list[str] | None = None,
    ) -> User:
        """Set and remove standard claims; the user's next tokens carry the change."""
        current = self._require(username)
        merged = {**current.claims, **check_claims(claims or {})}
        for name in unset or []:
            if name not in PROFILE_CLAIMS:
                raise InvalidUser(name, "is not an OpenID Connect profile claim")
            merged.pop(name, None)
        merged = _email_verified_after(current.claims, merged, claims or {})
        user = replace(current, claims=merged)
        self._users.put(user)
        self._publish(user)
        return user

    def add_group(self, username: str, group: str) -> User:
        current = self._require(username)
        if check_group(group) in current.groups:
            return current
        if len(current.groups) >= MAX_GROUPS:
            raise InvalidUser("group", f"a user is in at most {MAX_GROUPS} groups")
        user = replace(current, groups=tuple(sorted({*current.groups, group})))
        self._users.put(user)
        self._publish(user)
        return user

    def remove_group(self, username: str, group: str) -> User:
        """The next token of the user's grants no longer says they are in `group`."""
        current = self._require(username)
        if group not in current.groups:
            raise InvalidUser("group", f"{current.username} is not in {group!r}")
        user = replace(current, groups=tuple(g for g in current.groups if g != group))
        self._users.put(user)
        self._publish(user)
        return user

    def set_password(self, username: str, password: str, *, temporary: bool = False) -> User:
        """A new password ends every session, code and grant of the old one (D8). A temporary
        one must be replaced at the next sign-in, before it opens anything."""
        user = replace(
            self._require(username),
            password_hash=hash_password(check_password(password)),
            password_change_required=temporary,
        )
        self._users.put(user)
        self._end_grants(user.sub)
        return user

    def set_disabled(self, username: str, disabled: bool) -> User:
        """Disabling ends every session, code and grant at once (D7, D8); enabling again
        revives none of them."""
        user = replace(self._require(username), disabled=disabled)
        self._users.put(user)
        if disabled:
            self._end_grants(user.sub, disabled=True)
        else:
            self._set_state(user.sub, disabled=False)
        return user

    def delete(self, username: str) -> bool:
        user = self.get(username)
        if user is None:
            return False
        self._end_grants(user.sub, disabled=True)
        return self._users.delete(user.username)

    def set_attributes(
        self,
        username: str,
        values: Mapping[str, Any] | None = None,
        unset: builtins.list[str] | None = None,
    ) -> User:
        """Set and remove declared attributes, each checked against its declared type."""
        current = self._require(username)
        declared = self._declared().attributes
        merged = dict(current.attributes)
        for name, value in (values or {}).items():
            definition = declared.get(name)
            if definition is None:
                raise InvalidUser(name, "is not a declared attribute (oauthctl attributes create)")
            if not definition.accepts(value):
                raise InvalidUser(name, f"must be a {definition.type}")
            merged[name] = value
        for name in unset or []:
            merged.pop(name, None)
        user = replace(current, attributes=merged)
        self._users.put(user)
        self._publish(user)
        return user

    def _publish(self, user: User) -> None:
        """Record what tokens say of the user now, where grants read it (their state)."""
        self._set_state(user.sub, profile=profile_of(user, self._declared()))

    def _set_state(self, sub: str, **changes: Any) -> None:
        if self._grants is None:
            return
        state = self._grants.get_subject_state(sub) or SubjectState(sub)
        self._grants.put_subject_state(replace(state, **changes))

    def _end_grants(self, sub: str, *, disabled: bool | None = None) -> None:
        """Void what the user's sign-ins so far hold, and remove what can be found of it.

        The state is the rule (every code redemption and refresh checks it in its transaction);
        revoking families and deleting sessions through the owner index, which DynamoDB keeps
        only eventually consistent, tidies up and makes introspection answer at once."""
        if self._grants is None:
            return
        changes: dict[str, Any] = {"not_before_ms": self._clock.now_ms()}
        if disabled is not None:
            changes["disabled"] = disabled
        self._set_state(sub, **changes)
        self._grants.revoke_families_of(sub)

    def _require(self, username: str) -> User:
        user = self.get(username)
        if user is None:
            raise InvalidUser("username", f"no user {username!r}")
        return user
