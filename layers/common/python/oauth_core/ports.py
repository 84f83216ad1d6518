"""Storage ports: the small interfaces oauth_core talks to. Adapters live in oauth_core.storage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVar

from oauth_core.models import (
    AuthorizationCode,
    Client,
    Consent,
    IdentityLink,
    LogoutNotice,
    Passkey,
    PushedRequest,
    RefreshToken,
    SecondFactors,
    Session,
    SubjectState,
    TokenFamily,
    User,
)

if TYPE_CHECKING:  # types only: the resource function loads no key or bucket code
    from oauth_core.catalog import Catalog, Definition
    from oauth_core.emails import EmailLink
    from oauth_core.keys import KeySet
    from oauth_core.rate_limit import Limit


D = TypeVar("D", bound="Definition")  # one kind of catalog definition


class ClientStore(Protocol):
    def get(self, client_id: str) -> Client | None: ...

    def put(
        self, client: Client, *, must_not_exist: bool = False, replacing: str | None = None
    ) -> None:
        """Write a client; with must_not_exist, raise ConditionFailed if the id is taken; with
        `replacing`, if the stored client is not that registration (deleted meanwhile)."""
        ...

    def delete(self, client_id: str) -> bool: ...

    def list(self) -> list[Client]: ...


class ClientSecretStore(Protocol):
    def valid_secrets(
        self, client_id: str, registration_id: str = "", *, fresh: bool = False
    ) -> list[str]:
        """The secrets that authenticate this registration of `client_id` now: current, plus
        previous within grace; a secret set for another registration of the id never does.

        `fresh` asks a caching store to re-read (it may decline if it read very recently).
        """
        ...

    def set_secret(self, client_id: str, secret: str, registration_id: str = "") -> None:
        """Create the client's secret, or rotate to a new one (the old one becomes previous)."""
        ...

    def delete_secret(self, client_id: str) -> None: ...


class CatalogStore(Protocol):
    """Declared scopes, APIs and user attributes (oauth_core.catalog), by kind and name."""

    def get(self, kind: type[D], name: str) -> D | None: ...

    def put(self, definition: Definition, *, must_not_exist: bool = False) -> None:
        """Write a definition; with must_not_exist, raise ConditionFailed if the name is taken."""
        ...

    def delete(self, kind: type[Definition], name: str) -> bool: ...

    def list(self, kind: type[D]) -> list[D]: ...


class CatalogSource(Protocol):
    def catalog(self) -> Catalog:
        """Everything declared now, built in and registered (a cache may be a little behind)."""
        ...


class KeyStore(Protocol):
    def load(self) -> KeySet: ...

    def save(self, keys: KeySet) -> None: ...


class UserStore(Protocol):
    def get(self, username: str) -> User | None: ...

    def put(self, user: User, *, must_not_exist: bool = False) -> None: ...

    def delete(self, username: str) -> bool: ...

    def page(self, limit: int, after: str | None = None) -> tuple[list[User], str | None]:
        """Up to `limit` users in username order after `after`; and the username to continue
        after, or None at the end."""
        ...

    def list(self) -> list[User]: ...


class GrantStore(Protocol):
    """Short-lived grant state. The methods that say 'atomically' are single transactions."""

    def consume_request(self, request_id: str, expires_at: int) -> bool:
        """Mark an authorization request completed; False if it already was (single use)."""
        ...

    def use_once(self, key: str, expires_at: int) -> bool:
        """Record `key` (a hash: an assertion's or a proof's jti, a pushed request) as used until
        `expires_at`; False if it already was. One conditional write, so a value replayed to
        another container is refused there too."""
        ...

    def put_pushed_request(self, pushed: PushedRequest) -> None:
        """Keep a pushed authorization request (RFC 9126) until it expires."""
        ...

    def take_pushed_request(
        self, request_hash: str, client_id: str, now: int
    ) -> PushedRequest | None:
        """The pushed request, if it exists, is unexpired and was pushed by `client_id`,
        removed in the same atomic step (single use: of two containers taking it at once, one
        gets it); else None, and nothing changes."""
        ...

    def put_session(self, session: Session) -> None: ...

    def get_session(self, session_hash: str) -> Session | None: ...

    def delete_session(self, session_hash: str) -> None: ...

    def get_consent(self, sub: str, client: Client) -> frozenset[str]:
        """The scopes `sub` allowed this registration of the client (none for an earlier
        registration of the same client_id, D8)."""
        ...

    def put_consent(
        self, sub: str, client: Client, scopes: frozenset[str], expires_at: int
    ) -> None: ...

    def put_code(self, code: AuthorizationCode, retain_until: int) -> None: ...

    def put_code_recording_client(
        self, code: AuthorizationCode, retain_until: int, session_hash: str, client_entry: str
    ) -> None:
        """put_code, and in the same write the client added to the session's `signed_into`
        (for back-channel logout); a session that ended meanwhile gets the code alone."""
        ...

    def get_code(self, code_hash: str) -> AuthorizationCode | None: ...

    def redeem_code(
        self,
        code_hash: str,
        request_id: str,
        now: int,
        family: TokenFamily,
        refresh: RefreshToken | None,
    ) -> None:
        """Atomically: mark the code consumed (it must be unconsumed and unexpired), require the
        user's state to allow the sign-in (SubjectState.allows), create the family and its first
        refresh token. Raises ConditionFailed if any condition lost."""
        ...

    def get_refresh(self, token_hash: str) -> RefreshToken | None: ...

    def rotate_refresh(
        self, old: RefreshToken, request_id: str, now: int, new: RefreshToken
    ) -> None:
        """Atomically: mark `old` used (it must be unused and within its idle lifetime), write
        `new`, and require the family to be live and the user's state to allow the sign-in.
        Raises ConditionFailed otherwise."""
        ...

    def get_family(self, family_id: str) -> TokenFamily | None: ...

    def revoke_family(self, family_id: str) -> None: ...

    def revoke_families_of(self, sub: str) -> int:
        """Revoke every family of a user and end their sessions (a disabled user)."""
        ...

    def sessions_of(self, sub: str) -> list[Session]:
        """The user's live sessions (by the owner index: a session made a moment ago may be
        missing)."""
        ...

    def families_of(self, sub: str) -> list[TokenFamily]:
        """The user's grants, revoked and expired ones included."""
        ...

    def consents_of(self, sub: str) -> list[Consent]: ...

    def families_of_client(self, client_id: str) -> list[TokenFamily]:
        """Every grant a client holds, of any user."""
        ...

    def delete_consent(self, sub: str, client_id: str) -> bool: ...

    def get_subject_state(self, sub: str) -> SubjectState | None: ...

    def put_subject_state(self, state: SubjectState) -> None: ...

    def revoke_access_token(self, jti: str, expires_at: int, *, publish: bool = True) -> None:
        """Revoke an access token at the issuer; with `publish`, for APIs too (SECURITY F7)."""
        ...

    def is_access_token_revoked(self, jti: str) -> bool: ...

    def put_initial_access_token(self, token_hash: str, expires_at: int, uses: int) -> None:
        """An initial access token for client registration (RFC 7591 3), kept hashed."""
        ...

    def spend_initial_access_token(self, token_hash: str, now: int) -> bool:
        """Take one use of an initial access token, if it is known, unexpired and not used up
        (one atomic step: parallel registrations cannot spend a use twice)."""
        ...

    def recent_revocations(self, now: int) -> frozenset[str]:
        """The revocation ids still in force (oauth_core.revocation): every revoked
        access token and grant whose tokens may not all have expired yet."""
        ...


class FactorStore(Protocol):
    """Users' second factors, by `sub` (oauth_core.endpoints.second_factor). Every method that
    spends something is one conditional write: two containers cannot both spend it."""

    def get(self, sub: str) -> SecondFactors | None: ...

    def enrol(self, factors: SecondFactors) -> bool:
        """Store a new TOTP secret and recovery codes; False if the user already has one."""
        ...

    def use_step(self, sub: str, secret: str, step: int) -> bool:
        """Take the TOTP code of time step `step`: True if no code of that step or a later one
        was taken before (and the secret is still the one checked), else False."""
        ...

    def use_recovery_code(self, sub: str, code_hash: str) -> bool:
        """Spend one recovery code; False if it is not (or no longer) one of the user's."""
        ...

    def replace_recovery_codes(self, sub: str, code_hashes: frozenset[str]) -> bool:
        """New recovery codes for an enrolled user (the old ones end); False if not enrolled."""
        ...

    def delete(self, sub: str) -> bool:
        """Remove every second factor of the user; whether there was any."""
        ...


class LogoutDispatch(Protocol):
    def send(self, notices: list[LogoutNotice]) -> None:
        """Hand ended sessions to the logout notifier, without waiting for it (one call)."""
        ...


class RateLimiter(Protocol):
    """Failure buckets (oauth_core.rate_limit): each key holds the time, in milliseconds, at
    which its bucket will be empty again. Both methods are single atomic steps, so attempts
    made at the same moment each count."""

    def take(self, key: str, now_ms: int, limit: Limit) -> tuple[bool, int]:
        """Put one failure into the key's bucket unless it is full: whether it went in, and
        the bucket's empty-at time after."""
        ...

    def give_back(self, key: str, now_ms: int, limit: Limit) -> None:
        """Take one failure out again (an attempt counted in advance that succeeded)."""
        ...


class ProviderSecretStore(Protocol):
    """The client secret this server holds at each upstream provider (one secret each, under a
    prefix only the login function and oauthctl read)."""

    def client_secret(self, provider: str, *, fresh: bool = False) -> str | None:
        """The secret, or None when none is set; `fresh` asks a cache to read it again."""
        ...

    def set_client_secret(self, provider: str, secret: str) -> None: ...

    def delete_client_secret(self, provider: str) -> None: ...


class IdentityLinkStore(Protocol):
    """Upstream identities (issuer and subject) linked to users: one read finds the link."""

    def get(self, issuer: str, subject: str) -> IdentityLink | None: ...

    def put(self, link: IdentityLink, *, replacing: str | None = None) -> bool:
        """Write a link if none exists for its identity (or, with `replacing`, if the one that
        exists names that user_sub: a link to a user deleted since); False if another did."""
        ...

    def delete(self, issuer: str, subject: str) -> bool: ...

    def links_of(self, user_sub: str) -> list[IdentityLink]:
        """A user's links (by an index that may lag a link made a moment ago)."""


class PasskeyStore(Protocol):
    """Users' passkeys (oauth_core.rules.passkeys), by credential id."""

    def get(self, credential_id: str) -> Passkey | None: ...

    def of_user(self, sub: str) -> list[Passkey]:
        """The user's passkeys, oldest first (by an index: one added a moment ago may be
        missing)."""
        ...

    def add(self, passkey: Passkey) -> bool:
        """Keep a new passkey; False if its credential id is already kept (of anyone)."""
        ...

    def record_use(
        self, credential_id: str, old_count: int, new_count: int, backed_up: bool, now: int
    ) -> bool:
        """One conditional write: the new signature counter, backup state and last use, if the
        stored counter is still `old_count` and the passkey is not suspended; else False."""
        ...

    def suspend(self, credential_id: str, now: int) -> None:
        """Refuse the passkey from now on (its counter went backwards)."""
        ...

    def remove(self, credential_id: str, sub: str) -> bool:
        """Delete the passkey if it is `sub`'s; whether it was."""


class Mailer(Protocol):
    def send(self, to: str, subject: str, text: str, html: str) -> None:
        """Send one message, plain text with an HTML alternative, from the stack's sender.
        Raises StorageError if it could not be handed over."""
        ...


class EmailLinkStore(Protocol):
    """Links mailed to users (oauth_core.emails), kept by the hash of their token."""

    def put_email_link(self, link: EmailLink) -> None: ...

    def get_email_link(self, link_hash: str, now: int) -> EmailLink | None:
        """The link, if it exists and has not expired (nothing is used up)."""
        ...

    def take_email_link(self, link_hash: str, purpose: str, now: int) -> EmailLink | None:
        """The link, if it exists, is for `purpose` and has not expired, removed in the same
        atomic step (single use: of two requests taking it at once, one gets it); else None."""
        ...


class UserEmailIndex(Protocol):
    def users_with_email(self, email: str) -> list[User]:
        """The users whose verified address is `email` (normalized), at most ten, found in one
        read (the index may lag a change by a moment)."""
        ...
