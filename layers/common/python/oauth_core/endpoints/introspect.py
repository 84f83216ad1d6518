"""Token introspection (RFC 7662), for confidential clients only.

A client may introspect its own tokens; a client an API lists among its introspecting clients
(a resource server of that API) may introspect access tokens whose `aud` includes that API, and
a client registered for introspection those of the built-in API (SECURITY H5). Anything else,
and every inactive token, is answered `{"active": false}` and nothing more: a token is inactive
once its grant is revoked, its user disabled or signed out by a password change, or its client
disabled, deleted or registered anew (D8).
"""

from __future__ import annotations

from typing import Any

from oauth_core import audit
from oauth_core.catalog import DEFAULT_API
from oauth_core.clock import Clock
from oauth_core.config import Settings
from oauth_core.constants import MAX_TOKEN_LENGTH
from oauth_core.endpoints.token_operations import read_token_operation
from oauth_core.errors import InvalidClient
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse, json_response
from oauth_core.models import Client
from oauth_core.ports import CatalogSource, ClientStore, GrantStore, KeyStore
from oauth_core.rules.client_auth import ThrottledAuthenticator
from oauth_core.rules.hashing import token_hash
from oauth_core.tokens import access_token

INACTIVE: dict[str, Any] = {"active": False}


class IntrospectionEndpoint:
    def __init__(
        self,
        client_auth: ThrottledAuthenticator,
        clients: ClientStore,
        grants: GrantStore,
        published_keys: KeyStore,
        settings: Settings,
        clock: Clock,
        catalog: CatalogSource | None = None,
    ):
        self._client_auth = client_auth
        self._clients = clients
        self._grants = grants
        self._published_keys = published_keys
        self._settings = settings
        self._clock = clock
        # Which clients each API lets introspect its tokens; without it, none but `introspection`.
        self._catalog = catalog

    def handle(self, request: HttpRequest) -> HttpResponse:
        client, token = read_token_operation(self._client_auth, request)
        if client.is_public:
            audit.emit(
                audit.INTROSPECTION_REFUSED, client_id=client.client_id, reason="public_client"
            )
            raise InvalidClient("introspection requires a confidential client")
        issuer = self._settings.issuer_for(request.domain_name)
        if len(token) > MAX_TOKEN_LENGTH:
            answer = INACTIVE
        elif token.count(".") == 2:
            answer = self._access_token(token, issuer, client)
        else:
            answer = self._refresh_token(token, client, issuer)
        return json_response(200, answer)

    def _access_token(self, token: str, issuer: str, caller: Client) -> dict[str, Any]:
        grants = self._grants
        claims = access_token.verify_own(token, self._published_keys.load(), issuer)
        if claims is None:
            return INACTIVE
        if claims["client_id"] != caller.client_id and not self._serves(caller, claims, issuer):
            # Another client's token, and the caller is no resource server of its APIs (H5).
            audit.emit(
                audit.INTROSPECTION_REFUSED, client_id=caller.client_id, reason="foreign_token"
            )
            return INACTIVE
        if grants.is_access_token_revoked(str(claims["jti"])) or not self._still_granted(claims):
            return INACTIVE
        # RFC 9449 6.2: a DPoP-bound token says so, and names its key.
        bound = "cnf" in claims
        answer = {"active": True, "token_type": "DPoP" if bound else "Bearer"}
        for name in (
            "scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti", "auth_time", "cnf"
        ):  # fmt: skip
            if name in claims:
                answer[name] = claims[name]
        return answer

    def _serves(self, caller: Client, claims: dict[str, Any], issuer: str) -> bool:
        """Whether the caller is a resource server of one of the token's APIs: listed by that
        API, or registered for introspection and the API the built-in one."""
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        default_audience = self._settings.audience_for(issuer)
        apis = self._catalog.catalog().apis if self._catalog is not None else {}
        for audience in audiences:
            name = DEFAULT_API if audience == default_audience else audience
            if name == DEFAULT_API and caller.introspection:
                return True
            api = apis.get(name) if isinstance(name, str) else None
            if api is not None and caller.client_id in api.introspecting_clients:
                return True
        return False

    def _still_granted(self, claims: dict[str, Any]) -> bool:
        """Whether what the token was issued under still stands (D8)."""
        client = self._clients.get(str(claims["client_id"]))
        if client is None or client.disabled:
            return False
        grant_id = claims.get("grant_id")
        if not grant_id:  # the client's own token (client credentials)
            return int(claims["iat"]) >= client.created_at
        family = self._grants.get_family(str(grant_id))
        if family is None or family.revoked or family.client_registration != client.registration_id:
            return False
        state = self._grants.get_subject_state(family.sub)
        return state is None or state.allows(family.signed_in_ms)

    def _refresh_token(self, token: str, client: Client, issuer: str) -> dict[str, Any]:
        grants = self._grants
        record = grants.get_refresh(token_hash(token))
        now = self._clock.now()
        if record is not None and record.client_id != client.client_id:
            audit.emit(
                audit.INTROSPECTION_REFUSED, client_id=client.client_id, reason="foreign_token"
            )
            return INACTIVE
        if (
            record is None
            or record.client_registration != client.registration_id
            or record.used
            or record.idle_expires_at <= now
            or record.absolute_expires_at <= now
        ):
            return INACTIVE
        family = grants.get_family(record.family_id)
        if family is None or family.revoked:
            return INACTIVE
        state = grants.get_subject_state(record.sub)
        if state is not None and not state.allows(record.signed_in_ms):
            return INACTIVE
        return {
            "active": True,
            "token_type": "refresh_token",
            "scope": record.scope,
            "client_id": record.client_id,
            "sub": record.sub,
            "iss": issuer,
            "exp": record.idle_expires_at,
        }
