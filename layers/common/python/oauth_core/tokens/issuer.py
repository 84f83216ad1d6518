"""Issuing tokens: RFC 9068 access tokens, OIDC ID tokens, opaque refresh tokens and codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oauth_core.catalog import DEFAULT_API, ApiDefinition, Catalog
from oauth_core.clock import Clock, Random
from oauth_core.config import Settings
from oauth_core.constants import OPAQUE_TOKEN_BYTES, SCOPE_OPENID
from oauth_core.errors import InvalidTarget
from oauth_core.models import Client
from oauth_core.ports import CatalogSource, KeyStore
from oauth_core.rules import resource_indicators
from oauth_core.rules.claims import GROUPS_CLAIM, token_claims
from oauth_core.tokens import access_token, id_token

# Request shapes whose audiences are kept per catalog (clients x scope sets: few).
_MAX_TARGETS = 1000
# 128 bits for token ids (codes and refresh tokens: constants.OPAQUE_TOKEN_BYTES).
TOKEN_ID_BYTES = 16


@dataclass(frozen=True)
class IssuedAccessToken:
    token: str
    expires_in: int
    jwt_id: str
    dpop_jkt: str | None = None  # bound to this DPoP key (RFC 9449): token_type DPoP


@dataclass(frozen=True)
class UserGrant:
    """What a user granted a client: the subject, when they signed in, and their claims."""

    sub: str
    auth_time: int
    scope: str
    claims: dict[str, Any]
    nonce: str | None = None
    grant_id: str | None = None
    audience: tuple[str, ...] = ()  # the APIs (RFC 8707); none: the built-in API
    dpop_jkt: str | None = None  # the DPoP key its access tokens are bound to (RFC 9449)
    sid: str | None = None  # the sign-in session, for the ID token
    amr: tuple[str, ...] = ()  # how the user signed in (RFC 8176), and its assurance (acr)
    acr: str = ""


class TokenIssuer:
    def __init__(
        self,
        settings: Settings,
        keys: KeyStore,
        catalog: CatalogSource,
        clock: Clock,
        random: Random,
    ):
        self._settings = settings
        self._keys = keys
        self._catalog = catalog
        self._clock = clock
        self._random = random
        self._targets_catalog: Catalog | None = None
        self._targets: dict[tuple[Any, ...], tuple[tuple[str, ...], frozenset[str]]] = {}
        self._apis_of: dict[tuple[str, tuple[str, ...]], list[ApiDefinition]] = {}

    def opaque(self) -> str:
        return self._random.token(OPAQUE_TOKEN_BYTES)

    def targets(
        self,
        issuer: str,
        requested: str | None,
        scopes: frozenset[str],
        granted: str | None = None,
        default_resource: str = "",
    ) -> tuple[tuple[str, ...], frozenset[str]]:
        """RFC 8707: the audiences of a token (the `resource`s asked for, within the grant's
        if it has them; else the client's `default_resource`, if it has one) and the scopes it
        may carry for them. Worked out once per catalog and request shape: every token of a
        client asks the same, and this is the token path."""
        catalog = self._current_catalog()
        key = (issuer, requested, scopes, granted, default_resource)
        known = self._targets.get(key)
        if known is None:
            known = self._targets[key] = self._work_out_targets(
                catalog, issuer, requested, scopes, granted, default_resource
            )
        return known

    def _work_out_targets(
        self,
        catalog: Catalog,
        issuer: str,
        requested: str | None,
        scopes: frozenset[str],
        granted: str | None,
        default_resource: str,
    ) -> tuple[tuple[str, ...], frozenset[str]]:
        default_audience = self._settings.audience_for(issuer)
        allowed = tuple(granted.split()) if granted else None
        asked = resource_indicators.parse(requested)
        audiences = resource_indicators.select(
            catalog, default_audience, asked, scopes, allowed, default_resource
        )
        kept = resource_indicators.scopes_for(catalog, default_audience, scopes, audiences)
        audiences = resource_indicators.reached(
            catalog, default_audience, audiences, kept, asked=bool(asked)
        )
        return audiences, kept

    def access_token(
        self,
        *,
        issuer: str,
        client: Client,
        subject: str,
        scope: str,
        auth_time: int | None = None,
        grant_id: str | None = None,
        profile: dict[str, Any] | None = None,
        audience: tuple[str, ...] = (),
        dpop_jkt: str | None = None,
    ) -> IssuedAccessToken:
        audiences = audience or (self._settings.audience_for(issuer),)
        apis = self._apis(issuer, audiences)
        # The shortest lifetime any of its APIs (or the client) asks for; one algorithm.
        lifetimes = [a.access_token_ttl for a in apis if a.access_token_ttl is not None]
        expires_in = min([client.access_token_ttl or self._settings.access_token_ttl, *lifetimes])
        algorithms = {a.signing_alg or self._settings.access_token_alg for a in apis}
        if len(algorithms) > 1:
            raise InvalidTarget("these APIs take tokens signed differently: ask for one of them")
        alg = algorithms.pop() if algorithms else self._settings.access_token_alg
        jwt_id = self._random.token(TOKEN_ID_BYTES)
        claims = access_token.AccessTokenClaims(
            issuer=issuer,
            audience=audiences[0] if len(audiences) == 1 else list(audiences),
            subject=subject,
            client_id=client.client_id,
            scope=scope,
            issued_at=self._clock.now(),
            expires_in=expires_in,
            jwt_id=jwt_id,
            auth_time=auth_time,
            grant_id=grant_id,
            profile=self._for_apis(profile, apis) if profile else profile,
            dpop_jkt=dpop_jkt,
        )
        key = self._keys.load().current(alg)
        return IssuedAccessToken(access_token.issue(claims, key), expires_in, jwt_id, dpop_jkt)

    def _apis(self, issuer: str, audiences: tuple[str, ...]) -> list[ApiDefinition]:
        """The registered APIs a token is for (the built-in one by its identifier), kept with
        the targets while the catalog is the same."""
        catalog = self._current_catalog()
        found = self._apis_of.get((issuer, audiences))
        if found is None:
            found = self._registered_apis(catalog, issuer, audiences)
            self._apis_of[(issuer, audiences)] = found
        return found

    def _current_catalog(self) -> Catalog:
        """The catalog now; what was worked out from an earlier one is dropped (bounded)."""
        catalog = self._catalog.catalog()
        if catalog is not self._targets_catalog or len(self._targets) > _MAX_TARGETS:
            self._targets_catalog, self._targets, self._apis_of = catalog, {}, {}
        return catalog

    def _registered_apis(
        self, catalog: Catalog, issuer: str, audiences: tuple[str, ...]
    ) -> list[ApiDefinition]:
        apis = catalog.apis
        default_audience = self._settings.audience_for(issuer)
        names = (DEFAULT_API if a == default_audience else a for a in audiences)
        return [apis[name] for name in names if name in apis]

    def user_tokens(
        self, *, issuer: str, client: Client, grant: UserGrant, with_id_token: bool = True
    ) -> dict[str, Any]:
        """The access token and, for `openid`, the ID token of a user's grant."""
        scopes = grant.scope.split()
        released = token_claims(grant.claims, scopes)
        issued = self.access_token(
            issuer=issuer,
            client=client,
            subject=grant.sub,
            scope=grant.scope,
            auth_time=grant.auth_time,
            grant_id=grant.grant_id,
            profile=released,
            audience=grant.audience,
            dpop_jkt=grant.dpop_jkt,
        )
        body = token_response(issued, grant.scope)
        if with_id_token and SCOPE_OPENID in scopes:
            key = self._keys.load().current(client.id_token_signed_response_alg)
            body["id_token"] = id_token.id_token(
                issuer=issuer,
                client_id=client.client_id,
                sub=grant.sub,
                auth_time=grant.auth_time,
                nonce=grant.nonce,
                access_token_value=issued.token,
                claims=released,
                now=self._clock.now(),
                ttl=self._settings.id_token_ttl,
                key=key,
                sid=grant.sid,
                amr=grant.amr,
                acr=grant.acr,
            )
        return body

    @staticmethod
    def _for_apis(claims: dict[str, Any], apis: list[ApiDefinition]) -> dict[str, Any]:
        """The claims as the APIs' access tokens carry them: a user's groups under each API's
        own claim name (`groups` when it names none)."""
        if GROUPS_CLAIM not in claims:
            return claims
        names = {api.groups_claim for api in apis} or {GROUPS_CLAIM}
        renamed = {k: v for k, v in claims.items() if k != GROUPS_CLAIM}
        for name in names:
            renamed[name] = claims[GROUPS_CLAIM]
        return renamed


def token_response(issued: IssuedAccessToken, scope: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": issued.token,
        "token_type": "DPoP" if issued.dpop_jkt else "Bearer",
        "expires_in": issued.expires_in,
        "scope": scope,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body
