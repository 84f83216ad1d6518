"""Domain records: clients in RFC 7591 client-metadata terms, and users."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from oauth_core import constants

# What identifiers may look like. A presented value that does not match cannot exist, so it
# never reaches DynamoDB (which refuses some keys with a ValidationException).
CLIENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9._~-]{1,128}\Z")
# A client that names itself by its metadata document's URL (oauth_core.admin.client_documents).
DOCUMENT_CLIENT_ID = re.compile(
    r"^(https://|http://127\.0\.0\.1[:/]|http://\[::1\][:/])[!-~]{1,500}\Z"
)


def looks_like_client_id(client_id: str) -> bool:
    """A registered client's id, or a metadata document's URL: worth looking up."""
    return bool(CLIENT_ID_PATTERN.match(client_id) or DOCUMENT_CLIENT_ID.match(client_id))


USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9._@+-]{1,128}\Z")


def canonical_username(typed: str) -> str:
    """Usernames are case-insensitive (SECURITY G7): `Alice` and `alice` are one account, kept
    and looked up in lower case. The pattern is ASCII, so lower() is the whole case folding."""
    return typed.lower()


@dataclass(frozen=True)
class Client:
    """A registered client (RFC 7591 names) plus this server's documented extensions."""

    client_id: str
    client_name: str = ""
    application_type: str = constants.APPLICATION_WEB
    redirect_uris: tuple[str, ...] = ()
    grant_types: tuple[str, ...] = (constants.GRANT_AUTHORIZATION_CODE,)
    response_types: tuple[str, ...] = ("code",)
    token_endpoint_auth_method: str = constants.AUTH_METHOD_BASIC
    scope: str = ""
    # Extensions: a first-party client skips the consent screen and gets refresh tokens
    # without asking for offline_access (D10); a client registered for introspection is a
    # resource server of the built-in API and may introspect its access tokens (H5; another
    # API names the clients that may introspect its tokens: ApiDefinition).
    first_party: bool = False
    # Seconds within which the refresh token just rotated may be presented again and rotate its
    # unused successor instead of revoking the grant (0: reuse always revokes; at most 60).
    refresh_token_reuse_grace_seconds: int = 0
    introspection: bool = False
    # RFC 8707: the API (its identifier) a token is for when a request names no `resource`;
    # empty: the APIs of the scopes asked for.
    default_resource: str = ""
    access_token_ttl: int | None = None
    id_token_signed_response_alg: str = "RS256"
    # private_key_jwt (RFC 7523): the client's public keys, inline (a JWK Set) or by URL.
    jwks: dict[str, Any] | None = field(default=None, hash=False)
    jwks_uri: str = ""
    # RFC 9449 5.2: access tokens only bound to a DPoP key (a request without a proof is
    # refused).
    dpop_bound_access_tokens: bool = False
    # RFC 9126 6: authorization requests only by reference to a pushed one.
    require_pushed_authorization_requests: bool = False
    # Every sign-in for this client needs a second factor (a user without one enrols first).
    require_mfa: bool = False
    # OpenID Connect RP-Initiated Logout 1.0 and Back-Channel Logout 1.0.
    post_logout_redirect_uris: tuple[str, ...] = ()
    backchannel_logout_uri: str = ""
    disabled: bool = False
    created_at: int = 0
    # Which registration of this client_id: new each time the id is registered, so a client
    # deleted and registered again inherits no grant or consent of the old one (D8).
    registration_id: str = ""
    # Registered by itself (RFC 7591): its registration access token (hashed), and when
    # DynamoDB's TTL deletes it unless its registration is read or updated before (0: never).
    registered_dynamically: bool = False
    registration_token_hash: str = ""
    purge_at: int = 0

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == constants.AUTH_METHOD_NONE

    @property
    def uses_secret(self) -> bool:
        """Authenticates with a client secret (a private_key_jwt client has none)."""
        return self.token_endpoint_auth_method in (
            constants.AUTH_METHOD_BASIC,
            constants.AUTH_METHOD_POST,
        )

    @cached_property
    def allowed_scopes(self) -> frozenset[str]:
        # Validated when registered (oauth_core.admin.registry): a split is all it takes.
        return frozenset(self.scope.split())

    def allows_grant(self, grant_type: str) -> bool:
        return grant_type in self.grant_types

    def to_item(self) -> dict[str, Any]:
        item = asdict(self)
        item["redirect_uris"] = list(self.redirect_uris)
        item["grant_types"] = list(self.grant_types)
        item["response_types"] = list(self.response_types)
        item["post_logout_redirect_uris"] = list(self.post_logout_redirect_uris)
        # Only what is set: every client record stays as small as the features it uses.
        for optional in (
            "access_token_ttl",
            "jwks",
            "jwks_uri",
            "dpop_bound_access_tokens",
            "require_pushed_authorization_requests",
            "require_mfa",
            "post_logout_redirect_uris",
            "backchannel_logout_uri",
        ):
            if not item[optional]:
                del item[optional]
        if not self.default_resource:
            del item["default_resource"]
        if not self.refresh_token_reuse_grace_seconds:
            del item["refresh_token_reuse_grace_seconds"]
        if not self.registered_dynamically:
            for name in ("registered_dynamically", "registration_token_hash", "purge_at"):
                del item[name]
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Client:
        ttl = item.get("access_token_ttl")
        return cls(
            client_id=str(item["client_id"]),
            client_name=str(item.get("client_name", "")),
            application_type=str(item.get("application_type", constants.APPLICATION_WEB)),
            redirect_uris=tuple(item.get("redirect_uris") or ()),
            grant_types=tuple(item.get("grant_types") or ()),
            response_types=tuple(item.get("response_types") or ()),
            token_endpoint_auth_method=str(
                item.get("token_endpoint_auth_method", constants.AUTH_METHOD_BASIC)
            ),
            scope=str(item.get("scope", "")),
            first_party=bool(item.get("first_party", False)),
            refresh_token_reuse_grace_seconds=int(item.get("refresh_token_reuse_grace_seconds", 0)),
            introspection=bool(item.get("introspection", False)),
            default_resource=str(item.get("default_resource") or ""),
            access_token_ttl=int(ttl) if ttl is not None else None,
            id_token_signed_response_alg=str(item.get("id_token_signed_response_alg", "RS256")),
            jwks=dict(item["jwks"]) if item.get("jwks") else None,
            jwks_uri=str(item.get("jwks_uri") or ""),
            dpop_bound_access_tokens=bool(item.get("dpop_bound_access_tokens", False)),
            require_pushed_authorization_requests=bool(
                item.get("require_pushed_authorization_requests", False)
            ),
            require_mfa=bool(item.get("require_mfa", False)),
            post_logout_redirect_uris=tuple(item.get("post_logout_redirect_uris") or ()),
            backchannel_logout_uri=str(item.get("backchannel_logout_uri") or ""),
            disabled=bool(item.get("disabled", False)),
            created_at=int(item.get("created_at", 0)),
            registration_id=str(item.get("registration_id", "")),
            registered_dynamically=bool(item.get("registered_dynamically", False)),
            registration_token_hash=str(item.get("registration_token_hash", "")),
            purge_at=int(item.get("purge_at", 0)),
        )


@dataclass(frozen=True)
class User:
    username: str
    sub: str
    password_hash: str
    claims: dict[str, Any] = field(default_factory=dict)  # OIDC standard claims (profile etc.)
    disabled: bool = False
    created_at: int = 0
    groups: tuple[str, ...] = ()
    # Custom attributes the registry declares (type-checked there), by name.
    attributes: dict[str, Any] = field(default_factory=dict)
    # Set by `users set-password --temporary`: the next sign-in must choose a new password.
    password_change_required: bool = False

    def to_item(self) -> dict[str, Any]:
        item = asdict(self)
        item["groups"] = list(self.groups)
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> User:
        return cls(
            username=str(item["username"]),
            sub=str(item["sub"]),
            password_hash=str(item["password_hash"]),
            claims=dict(item.get("claims") or {}),
            disabled=bool(item.get("disabled", False)),
            created_at=int(item.get("created_at", 0)),
            groups=tuple(str(g) for g in item.get("groups") or ()),
            attributes=dict(item.get("attributes") or {}),
            password_change_required=bool(item.get("password_change_required", False)),
        )


@dataclass(frozen=True)
class PendingAuthorization:
    """An authorization request waiting for the user, carried sealed by the browser
    (oauth_core.tokens.sealed_requests) under an opaque handle."""

    request_id: str  # random; kept when the request is re-sealed; what single use is keyed on
    client_id: str
    redirect_uri: str
    scope: str
    state: str | None
    nonce: str | None
    code_challenge: str
    prompt: tuple[str, ...]
    max_age: int | None
    login_hint: str | None
    expires_at: int
    redirect_uri_required: bool = True
    requested_at: int = 0
    # The session (its hash) signed in for this very request: the only one that satisfies a
    # request asking for a fresh sign-in (prompt=login, or a max_age an older sign-in exceeds).
    signed_in_session: str | None = None
    # The client's registration_id when the request was made (D8).
    client_registration: str = ""
    # A sign-in whose password was right but temporary: who must choose a new one before the
    # request goes on (oauth_core.endpoints.login), as "<username> <sub> <password fingerprint>".
    password_change: str | None = None
    # The APIs (RFC 8707 audiences) the grant is for, space-separated.
    resource: str = ""
    # RFC 9449 10: the DPoP key (its thumbprint) the code is bound to; its redemption needs a
    # proof signed by that key.
    dpop_jkt: str = ""
    # The assurance (`acr`) the sign-in must reach: asked for by `acr_values`, or required by
    # the client or the stack; empty: a password is enough.
    required_acr: str = ""
    # A password step done, or a session to step up: the one second-factor step it opens
    # (oauth_core.endpoints.second_factor), as "<kind> <sub> <username> <proof> <nonce> [<secret>]".
    second_factor: str | None = None


@dataclass(frozen=True)
class PushedRequest:
    """An authorization request a client pushed (RFC 9126 2), kept until its request_uri is used
    once or expires: its parameters as the authorization endpoint reads a query (client
    credentials left out), validated again when used (RFC 9126 4, 7.4)."""

    request_hash: str  # the hash of the request_uri's random part; the reference is never kept
    client_id: str
    client_registration: str  # the pushing registration: another one of the id cannot use it
    parameters: dict[str, list[str]] = field(hash=False)
    expires_at: int


@dataclass(frozen=True)
class Session:
    session_hash: str
    sub: str
    username: str
    auth_time: int
    expires_at: int
    # A snapshot of the user's profile claims taken at sign-in, so issuing a code needs no
    # user read.
    claims: dict[str, Any] = field(default_factory=dict)
    # The sign-in to the millisecond, which SubjectState.allows compares (auth_time is whole
    # seconds, as OIDC has it).
    signed_in_ms: int = 0
    # The clients it signed into, as "<client_id> <registration_id>" (session_client_entry):
    # recorded when a code is issued, for back-channel logout.
    signed_into: tuple[str, ...] = ()
    # How the user signed in (RFC 8176 `amr` values: "pwd", "otp", "hwk", "mfa", "fed", ...) and
    # the assurance that gives (`acr`, OIDC Core 2): what the ID tokens of its codes say.
    amr: tuple[str, ...] = ("pwd",)
    acr: str = ""

    def signed_in_within(
        self, now_ms: int, seconds: int = constants.REAUTHENTICATION_WINDOW
    ) -> bool:
        """Signed in within the last `seconds` (ten minutes): recent enough to stand for the
        password typed again, before a change that lasts (a passkey added, a provider linked)."""
        return self.signed_in_ms >= now_ms - seconds * 1000

    @cached_property
    def sid(self) -> str:
        """The session's `sid` claim (OIDC Back-Channel Logout 2.1): derived one way from the
        hash of its id, so it names the session to apps without being its cookie or its key."""
        return session_sid(self.session_hash)


def session_sid(session_hash: str) -> str:
    digest = hashlib.sha256(f"sid:{session_hash}".encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def session_client_entry(client_id: str, registration_id: str) -> str:
    """How a session records a client it signed into: that registration of the id only (D8)."""
    return f"{client_id} {registration_id}"


@dataclass(frozen=True)
class AuthorizationCode:
    code_hash: str
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str
    nonce: str | None
    sub: str
    auth_time: int
    claims: dict[str, Any]  # the user's profile claims the scopes allow, for the ID token
    expires_at: int  # the code's own 60 s lifetime
    # Whether /authorize was sent a redirect_uri: then /token must repeat it (RFC 6749 4.1.3).
    redirect_uri_required: bool = True
    consumed: bool = False
    consumed_by: str | None = None
    family_id: str | None = None
    # The client's registration_id at issue: a client registered anew inherits nothing (D8).
    client_registration: str = ""
    signed_in_ms: int = 0  # the session's (Session.signed_in_ms)
    resource: str = ""  # the APIs the user granted (RFC 8707), space-separated
    sid: str = ""  # the session's `sid` (Session.sid), for the ID token
    amr: tuple[str, ...] = ()  # the session's `amr` and `acr`, for the ID token
    acr: str = ""
    dpop_jkt: str = ""  # the request's (PendingAuthorization.dpop_jkt)


@dataclass(frozen=True)
class TokenFamily:
    """One grant: every refresh token rotated from one code. Revoking it kills them all."""

    family_id: str
    client_id: str
    sub: str
    scope: str
    auth_time: int
    claims: dict[str, Any]
    created_at: int
    absolute_expires_at: int
    revoked: bool = False
    client_registration: str = ""
    signed_in_ms: int = 0
    last_used_at: int = 0  # the last refresh (0: none since the code was redeemed)
    resource: str = ""  # the APIs the grant is for (RFC 8707), space-separated


@dataclass(frozen=True)
class Consent:
    """What a user allowed one client: kept so the consent page is not shown again."""

    sub: str
    client_id: str
    scopes: frozenset[str]
    expires_at: int
    client_registration: str = ""


@dataclass(frozen=True)
class RefreshToken:
    token_hash: str
    family_id: str
    client_id: str
    sub: str
    scope: str  # the family's scope: a narrower refresh never narrows the family
    idle_expires_at: int
    absolute_expires_at: int
    auth_time: int = 0
    claims: dict[str, Any] = field(default_factory=dict)
    used: bool = False
    used_by: str | None = None
    client_registration: str = ""
    signed_in_ms: int = 0
    resource: str = ""  # the family's APIs: a narrower refresh never narrows the family
    # When it was rotated, and into which token (its hash): a client whose answer was lost may,
    # within its reuse grace, present it again (oauth_core.grants.refresh_token).
    used_at: int = 0
    rotated_to: str = ""
    # A public client's refresh token is bound to the DPoP key it was issued to (RFC 9449 5):
    # only a proof signed with that key refreshes it.
    dpop_jkt: str = ""


@dataclass(frozen=True)
class SubjectState:
    """What ends a user's grants at once, wherever they are (SECURITY D8): being disabled, and
    a new password. Code redemptions and refreshes check it in the same transaction."""

    sub: str
    disabled: bool = False
    # Codes and grants of sign-ins before this instant (ms) are void: a password change, a
    # disable. Milliseconds, so that a sign-in in the same second as the change is told apart.
    not_before_ms: int = 0
    # What tokens say of the user now (profile claims, groups, mapped attributes): written on
    # every change, read by code redemptions and refreshes, so a group removed is gone from the
    # next token, not only from the next sign-in. None: never written (a user from before).
    profile: dict[str, Any] | None = None

    # Sessions signed in before this instant (ms) are over ("sign out everywhere" on the
    # account page); the grants they made are not.
    sessions_not_before_ms: int = 0

    def allows(self, signed_in_ms: int) -> bool:
        return not self.disabled and signed_in_ms >= self.not_before_ms

    def allows_session(self, signed_in_ms: int) -> bool:
        return self.allows(signed_in_ms) and signed_in_ms >= self.sessions_not_before_ms


@dataclass(frozen=True)
class SecondFactors:
    """A user's second factors (the factors table, one item per user): a TOTP secret (RFC 6238,
    base32) and the last time step a code of it was taken at, so no code works twice; and the
    keyed hashes of the unused recovery codes."""

    sub: str
    totp_secret: str = ""
    totp_last_step: int = 0
    enrolled_at: int = 0
    recovery_codes: frozenset[str] = frozenset()

    @property
    def enrolled(self) -> bool:
        return bool(self.totp_secret)


@dataclass(frozen=True)
class LogoutNotice:
    """A session that ended, for the apps it signed into that take back-channel logout
    (OIDC Back-Channel Logout 1.0): what the logout notifier signs and sends. `clients` are
    session_client_entry strings."""

    issuer: str
    sub: str
    sid: str
    clients: tuple[str, ...]

    def to_item(self) -> dict[str, Any]:
        return {"iss": self.issuer, "sub": self.sub, "sid": self.sid, "clients": list(self.clients)}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> LogoutNotice:
        return cls(
            issuer=str(item["iss"]),
            sub=str(item["sub"]),
            sid=str(item["sid"]),
            clients=tuple(str(c) for c in item.get("clients") or ()),
        )


@dataclass(frozen=True)
class IdentityLink:
    """An identity at an upstream provider (its `iss` and `sub`) linked to a user here, the
    only way such a sign-in finds an account (never by e-mail: docs/federation.md). The user is
    named by username and `sub`, so a link outlives no deleted user: a user made later under the
    same name has another `sub`, which the link does not name."""

    issuer: str
    subject: str
    provider: str  # the provider's name when linked (ProviderDefinition.name)
    username: str
    user_sub: str
    created_at: int = 0
    # Made when the sign-in created the account (just in time): the account has no password
    # its user knows, so the link is not the user's to remove.
    created_account: bool = False


@dataclass(frozen=True)
class Passkey:
    """A user's WebAuthn credential (a passkey): what verifying its assertions needs, and what
    the account page shows. Binary values are base64url without padding."""

    credential_id: str
    sub: str  # whose: the user's `sub` (a user deleted and created again has a new one)
    username: str
    # The WebAuthn user handle the credential was made for: random per user, never the username
    # or `sub` (the authenticator hands it to anyone who asks it for a sign-in here).
    user_handle: str
    public_key: str  # COSE_Key, as the authenticator gave it
    sign_count: int
    name: str  # chosen by the user
    created_at: int
    transports: tuple[str, ...] = ()
    backup_eligible: bool = False  # a synced passkey (BE flag at registration)
    backed_up: bool = False  # BS flag, as last seen
    aaguid: str = ""  # the authenticator model, when it says (not attested: a hint only)
    last_used_at: int = 0
    # When its signature counter went backwards (a cloned authenticator?): refused since.
    suspended_at: int = 0

    def to_item(self) -> dict[str, Any]:
        item = asdict(self)
        item["transports"] = list(self.transports)
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Passkey:
        return cls(
            credential_id=str(item["credential_id"]),
            sub=str(item["sub"]),
            username=str(item["username"]),
            user_handle=str(item["user_handle"]),
            public_key=str(item["public_key"]),
            sign_count=int(item.get("sign_count", 0)),
            name=str(item.get("name", "")),
            created_at=int(item.get("created_at", 0)),
            transports=tuple(str(t) for t in item.get("transports") or ()),
            backup_eligible=bool(item.get("backup_eligible", False)),
            backed_up=bool(item.get("backed_up", False)),
            aaguid=str(item.get("aaguid", "")),
            last_used_at=int(item.get("last_used_at", 0)),
            suspended_at=int(item.get("suspended_at", 0)),
        )
