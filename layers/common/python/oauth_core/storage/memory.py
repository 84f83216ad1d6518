"""In-memory adapters: the fast fakes the unit tests run on."""

from __future__ import annotations

import builtins
import threading
from dataclasses import replace

from oauth_core import revocation
from oauth_core.catalog import KINDS, Catalog, Definition
from oauth_core.clock import Clock, SystemClock
from oauth_core.emails import verified_email
from oauth_core.errors import ConditionFailed
from oauth_core.keys import KeySet
from oauth_core.models import (
    AuthorizationCode,
    Client,
    Consent,
    IdentityLink,
    PushedRequest,
    RefreshToken,
    SecondFactors,
    Session,
    SubjectState,
    TokenFamily,
    User,
)
from oauth_core.ports import D
from oauth_core.rate_limit import Limit, after_failure, after_give_back


class MemoryClientStore:
    def __init__(self) -> None:
        self._clients: dict[str, Client] = {}
        self._lock = threading.Lock()

    def get(self, client_id: str) -> Client | None:
        return self._clients.get(client_id)

    def put(
        self, client: Client, *, must_not_exist: bool = False, replacing: str | None = None
    ) -> None:
        with self._lock:
            if must_not_exist and client.client_id in self._clients:
                raise ConditionFailed(client.client_id)
            current = self._clients.get(client.client_id)
            if replacing is not None and (current is None or current.registration_id != replacing):
                raise ConditionFailed(client.client_id)
            self._clients[client.client_id] = client

    def delete(self, client_id: str) -> bool:
        with self._lock:
            return self._clients.pop(client_id, None) is not None

    def list(self) -> list[Client]:
        return sorted(self._clients.values(), key=lambda c: c.client_id)


class MemoryCatalogStore:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], Definition] = {}
        self._lock = threading.Lock()
        # The catalog as last built: kept until a write, as a deployed function keeps its copy
        # (CachedCatalog); the token path reads it for every token.
        self._built: Catalog | None = None

    def get(self, kind: type[D], name: str) -> D | None:
        found = self._entries.get((kind.KIND, name))
        return found if isinstance(found, kind) else None

    def put(self, definition: Definition, *, must_not_exist: bool = False) -> None:
        key = (definition.KIND, definition.name)
        with self._lock:
            if must_not_exist and key in self._entries:
                raise ConditionFailed(definition.name)
            self._entries[key] = definition
            self._built = None

    def delete(self, kind: type[Definition], name: str) -> bool:
        with self._lock:
            self._built = None
            return self._entries.pop((kind.KIND, name), None) is not None

    def list(self, kind: type[D]) -> list[D]:
        found = [d for d in self._entries.values() if isinstance(d, kind)]
        return sorted(found, key=lambda d: d.name)

    def catalog(self) -> Catalog:
        built = self._built
        if built is None:
            built = Catalog.of(d for kind in KINDS.values() for d in self.list(kind))
            self._built = built
        return built


class MemorySecretStore:
    """Keeps current and previous secret per client, like Secrets Manager's staging labels."""

    def __init__(self, grace_seconds: int = 24 * 3600, clock: Clock | None = None):
        self._grace = grace_seconds
        self._clock = clock or SystemClock()
        # client_id -> versions, newest first: (secret, set_at, registration_id)
        self._secrets: dict[str, list[tuple[str, int, str]]] = {}
        self.reads = 0

    def valid_secrets(
        self, client_id: str, registration_id: str = "", *, fresh: bool = False
    ) -> list[str]:
        self.reads += 1
        versions = self._secrets.get(client_id, [])[:2]
        if not versions or versions[0][2] != registration_id:
            return []
        (current, set_at, _), *previous = versions
        if (
            previous
            and previous[0][2] == registration_id
            and self._clock.now() - set_at < (self._grace)
        ):
            return [current, previous[0][0]]
        return [current]

    def set_secret(self, client_id: str, secret: str, registration_id: str = "") -> None:
        versions = self._secrets.get(client_id, [])
        self._secrets[client_id] = [(secret, self._clock.now(), registration_id), *versions[:1]]

    def delete_secret(self, client_id: str) -> None:
        self._secrets.pop(client_id, None)


class MemoryKeyStore:
    def __init__(self, keys: KeySet | None = None):
        self._keys = keys

    def load(self) -> KeySet:
        if self._keys is None:
            raise LookupError("no signing keys have been created")
        return self._keys

    def save(self, keys: KeySet) -> None:
        self._keys = keys


class MemoryUserStore:
    def __init__(self) -> None:
        self._users: dict[str, User] = {}
        self._lock = threading.Lock()

    def get(self, username: str) -> User | None:
        return self._users.get(username)

    def put(self, user: User, *, must_not_exist: bool = False) -> None:
        with self._lock:
            if must_not_exist and user.username in self._users:
                raise ConditionFailed(user.username)
            self._users[user.username] = user

    def delete(self, username: str) -> bool:
        with self._lock:
            return self._users.pop(username, None) is not None

    def page(self, limit: int, after: str | None = None) -> tuple[list[User], str | None]:
        names = sorted(name for name in self._users if after is None or name > after)
        page = [self._users[name] for name in names[:limit]]
        return page, (page[-1].username if len(names) > limit else None)

    def list(self) -> list[User]:
        return sorted(self._users.values(), key=lambda u: u.username)

    def users_with_email(self, email: str) -> builtins.list[User]:
        return [u for u in self.list() if verified_email(u.claims) == email][:10]


class MemoryGrantStore:
    """The same atomic semantics as the DynamoDB adapter, under one lock."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._lock = threading.Lock()
        self._clock = clock or SystemClock()
        self.revocations: dict[str, int] = {}  # revocation id -> until
        self.initial_access_tokens: dict[str, tuple[int, int]] = {}  # hash -> expiry, uses
        self.completed_requests: set[str] = set()
        self.used_once: dict[str, int] = {}  # key -> in force until
        self.pushed_requests: dict[str, PushedRequest] = {}
        self.sessions: dict[str, Session] = {}
        self.consents: dict[tuple[str, str], Consent] = {}
        self.subjects: dict[str, SubjectState] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.families: dict[str, TokenFamily] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.revoked_jtis: dict[str, int] = {}

    def consume_request(self, request_id: str, expires_at: int) -> bool:
        with self._lock:
            if request_id in self.completed_requests:
                return False
            self.completed_requests.add(request_id)
            return True

    def use_once(self, key: str, expires_at: int) -> bool:
        with self._lock:
            if self.used_once.get(key, -1) >= self._clock.now():
                return False
            self.used_once[key] = expires_at
            return True

    def put_pushed_request(self, pushed: PushedRequest) -> None:
        with self._lock:
            self.pushed_requests[pushed.request_hash] = pushed

    def take_pushed_request(
        self, request_hash: str, client_id: str, now: int
    ) -> PushedRequest | None:
        with self._lock:
            pushed = self.pushed_requests.get(request_hash)
            if pushed is None or pushed.client_id != client_id or pushed.expires_at <= now:
                return None
            return self.pushed_requests.pop(request_hash)

    def put_session(self, session: Session) -> None:
        self.sessions[session.session_hash] = session

    def get_session(self, session_hash: str) -> Session | None:
        return self.sessions.get(session_hash)

    def delete_session(self, session_hash: str) -> None:
        self.sessions.pop(session_hash, None)

    def get_consent(self, sub: str, client: Client) -> frozenset[str]:
        consent = self.consents.get((sub, client.client_id))
        if consent is None or consent.client_registration != client.registration_id:
            return frozenset()
        return consent.scopes

    def put_consent(
        self, sub: str, client: Client, scopes: frozenset[str], expires_at: int
    ) -> None:
        self.consents[(sub, client.client_id)] = Consent(
            sub, client.client_id, frozenset(scopes), expires_at, client.registration_id
        )

    def sessions_of(self, sub: str) -> list[Session]:
        return [s for s in self.sessions.values() if s.sub == sub]

    def families_of(self, sub: str) -> list[TokenFamily]:
        return [f for f in self.families.values() if f.sub == sub]

    def consents_of(self, sub: str) -> list[Consent]:
        return [c for (owner, _), c in self.consents.items() if owner == sub]

    def families_of_client(self, client_id: str) -> list[TokenFamily]:
        return [f for f in self.families.values() if f.client_id == client_id]

    def delete_consent(self, sub: str, client_id: str) -> bool:
        return self.consents.pop((sub, client_id), None) is not None

    def _allows(self, sub: str, signed_in_ms: int) -> bool:
        state = self.subjects.get(sub)
        return state is None or state.allows(signed_in_ms)

    def put_code(self, code: AuthorizationCode, retain_until: int) -> None:
        self.codes[code.code_hash] = code

    def put_code_recording_client(
        self, code: AuthorizationCode, retain_until: int, session_hash: str, client_entry: str
    ) -> None:
        with self._lock:
            self.codes[code.code_hash] = code
            session = self.sessions.get(session_hash)
            if session is not None:
                signed_into = (*session.signed_into, client_entry)
                self.sessions[session_hash] = replace(session, signed_into=signed_into)

    def get_code(self, code_hash: str) -> AuthorizationCode | None:
        return self.codes.get(code_hash)

    def redeem_code(
        self,
        code_hash: str,
        request_id: str,
        now: int,
        family: TokenFamily,
        refresh: RefreshToken | None,
    ) -> None:
        with self._lock:
            code = self.codes.get(code_hash)
            if code is None or code.consumed or code.expires_at <= now:
                raise ConditionFailed("code")
            if family.family_id in self.families:
                raise ConditionFailed("family")
            state = self.subjects.get(family.sub)
            if state is not None and not state.allows_session(family.signed_in_ms):
                raise ConditionFailed("subject")
            self.codes[code_hash] = replace(
                code, consumed=True, consumed_by=request_id, family_id=family.family_id
            )
            self.families[family.family_id] = family
            if refresh is not None:
                self.refresh_tokens[refresh.token_hash] = refresh

    def get_refresh(self, token_hash: str) -> RefreshToken | None:
        return self.refresh_tokens.get(token_hash)

    def rotate_refresh(
        self, old: RefreshToken, request_id: str, now: int, new: RefreshToken
    ) -> None:
        with self._lock:
            current = self.refresh_tokens.get(old.token_hash)
            family = self.families.get(old.family_id)
            if current is None or current.used or current.idle_expires_at <= now:
                raise ConditionFailed("refresh token")
            if family is None or family.revoked or family.absolute_expires_at <= now:
                raise ConditionFailed("family")
            if not self._allows(old.sub, old.signed_in_ms):
                raise ConditionFailed("subject")
            self.refresh_tokens[old.token_hash] = replace(
                current, used=True, used_by=request_id, used_at=now, rotated_to=new.token_hash
            )
            self.refresh_tokens[new.token_hash] = new
            self.families[old.family_id] = replace(family, last_used_at=now)

    def get_family(self, family_id: str) -> TokenFamily | None:
        return self.families.get(family_id)

    def revoke_family(self, family_id: str) -> None:
        with self._lock:
            family = self.families.get(family_id)
            if family is None:
                return
            self.families[family_id] = replace(family, revoked=True)
        rid = revocation.revocation_id(revocation.KIND_GRANT, family_id)
        self.revocations[rid] = revocation.grant_revocation_until(self._clock.now())

    def revoke_families_of(self, sub: str) -> int:
        with self._lock:
            ids = [f.family_id for f in self.families.values() if f.sub == sub and not f.revoked]
            for family_id in ids:
                self.families[family_id] = replace(self.families[family_id], revoked=True)
            for key in [k for k, s in self.sessions.items() if s.sub == sub]:
                del self.sessions[key]
        return len(ids)

    def get_subject_state(self, sub: str) -> SubjectState | None:
        return self.subjects.get(sub)

    def put_subject_state(self, state: SubjectState) -> None:
        self.subjects[state.sub] = state

    def revoke_access_token(self, jti: str, expires_at: int, *, publish: bool = True) -> None:
        self.revoked_jtis[jti] = expires_at
        if publish and revocation.worth_publishing(expires_at, self._clock.now()):
            rid = revocation.revocation_id(revocation.KIND_ACCESS_TOKEN, jti)
            self.revocations[rid] = expires_at

    def put_initial_access_token(self, token_hash: str, expires_at: int, uses: int) -> None:
        with self._lock:
            self.initial_access_tokens[token_hash] = (expires_at, uses)

    def spend_initial_access_token(self, token_hash: str, now: int) -> bool:
        with self._lock:
            expires_at, uses = self.initial_access_tokens.get(token_hash, (0, 0))
            if uses <= 0 or expires_at <= now:
                return False
            self.initial_access_tokens[token_hash] = (expires_at, uses - 1)
            return True

    def recent_revocations(self, now: int) -> frozenset[str]:
        return frozenset(rid for rid, until in self.revocations.items() if until >= now)

    def is_access_token_revoked(self, jti: str) -> bool:
        return jti in self.revoked_jtis


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._empty_at: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now_ms: int, limit: Limit) -> tuple[bool, int]:
        with self._lock:
            current = self._empty_at.get(key, 0)
            after = after_failure(current, now_ms, limit)
            if after is None:
                return False, current
            self._empty_at[key] = after
            return True, after

    def give_back(self, key: str, now_ms: int, limit: Limit) -> None:
        with self._lock:
            if key in self._empty_at:
                self._empty_at[key] = after_give_back(self._empty_at[key], now_ms, limit)


class MemoryProviderSecrets:
    """Upstream providers' client secrets, by provider name."""

    def __init__(self) -> None:
        self._secrets: dict[str, str] = {}
        self.reads = 0

    def client_secret(self, provider: str, *, fresh: bool = False) -> str | None:
        self.reads += 1
        return self._secrets.get(provider)

    def set_client_secret(self, provider: str, secret: str) -> None:
        self._secrets[provider] = secret

    def delete_client_secret(self, provider: str) -> None:
        self._secrets.pop(provider, None)


class MemoryIdentityLinkStore:
    """Identity links by (issuer, subject), as the grants table keeps them."""

    def __init__(self) -> None:
        self._links: dict[tuple[str, str], IdentityLink] = {}
        self._lock = threading.Lock()

    def get(self, issuer: str, subject: str) -> IdentityLink | None:
        return self._links.get((issuer, subject))

    def put(self, link: IdentityLink, *, replacing: str | None = None) -> bool:
        key = (link.issuer, link.subject)
        with self._lock:
            found = self._links.get(key)
            if found is not None and (replacing is None or found.user_sub != replacing):
                return False
            self._links[key] = link
        return True

    def delete(self, issuer: str, subject: str) -> bool:
        with self._lock:
            return self._links.pop((issuer, subject), None) is not None

    def links_of(self, user_sub: str) -> list[IdentityLink]:
        found = [link for link in self._links.values() if link.user_sub == user_sub]
        return sorted(found, key=lambda link: (link.provider, link.created_at))


class MemoryFactorStore:
    """The factors table's conditional writes, under one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.factors: dict[str, SecondFactors] = {}

    def get(self, sub: str) -> SecondFactors | None:
        return self.factors.get(sub)

    def enrol(self, factors: SecondFactors) -> bool:
        with self._lock:
            if factors.sub in self.factors:
                return False
            self.factors[factors.sub] = factors
            return True

    def use_step(self, sub: str, secret: str, step: int) -> bool:
        with self._lock:
            found = self.factors.get(sub)
            if found is None or found.totp_secret != secret or found.totp_last_step >= step:
                return False
            self.factors[sub] = replace(found, totp_last_step=step)
            return True

    def use_recovery_code(self, sub: str, code_hash: str) -> bool:
        with self._lock:
            found = self.factors.get(sub)
            if found is None or code_hash not in found.recovery_codes:
                return False
            self.factors[sub] = replace(found, recovery_codes=found.recovery_codes - {code_hash})
            return True

    def replace_recovery_codes(self, sub: str, code_hashes: frozenset[str]) -> bool:
        with self._lock:
            found = self.factors.get(sub)
            if found is None:
                return False
            self.factors[sub] = replace(found, recovery_codes=code_hashes)
            return True

    def delete(self, sub: str) -> bool:
        with self._lock:
            return self.factors.pop(sub, None) is not None
