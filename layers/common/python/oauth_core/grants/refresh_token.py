"""The Refresh Token grant (RFC 6749 6) with rotation and reuse detection (RFC 9700 4.14).

Every refresh returns a new refresh token and marks the old one used, in one transaction that
also requires the family to be live. Presenting a used token revokes the whole family. Two
refreshes racing with the same token: one wins; the loser gets invalid_grant and the family
survives (an honest client can race itself), but the loser's token is now used, so presenting
it again is reuse and revokes the family.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from oauth_core import audit, constants
from oauth_core.clock import Clock
from oauth_core.config import Settings
from oauth_core.errors import (
    ConditionFailed,
    InvalidDpopProof,
    InvalidGrant,
    InvalidRequest,
    OAuthError,
)
from oauth_core.grants import GrantContext, current_claims, offers_refresh_token
from oauth_core.models import Client, RefreshToken
from oauth_core.observability import count
from oauth_core.ports import GrantStore
from oauth_core.rules import scope
from oauth_core.rules.hashing import token_hash
from oauth_core.tokens.issuer import TokenIssuer, UserGrant


class RefreshTokenGrant:
    grant_type = constants.GRANT_REFRESH_TOKEN
    disabled_client_error: type[OAuthError] = InvalidGrant

    def __init__(self, grants: GrantStore, issuer: TokenIssuer, settings: Settings, clock: Clock):
        self._grants = grants
        self._issuer = issuer
        self._settings = settings
        self._clock = clock

    def issue(
        self, client: Client, form: Mapping[str, str], context: GrantContext
    ) -> dict[str, Any]:
        value = form.get("refresh_token")
        if not value:
            raise InvalidRequest("refresh_token is required")
        store = self._grants
        now = self._clock.now()
        current = store.get_refresh(token_hash(value))
        if (
            current is None
            or current.client_id != client.client_id
            or current.client_registration != client.registration_id
        ):
            raise InvalidGrant("the refresh token is invalid")
        if current.used:
            successor = self._within_grace(client, current, now)
            if successor is not None:
                # The client's answer was lost (or two of its tabs raced): the successor was
                # never used, so it is rotated now, and the grant goes on with one live token.
                count("RefreshTokenGraceRotation")
                current = successor
        if current.used:
            store.revoke_family(current.family_id)
            count("RefreshTokenReuse")
            audit.emit(
                audit.REFRESH_TOKEN_REUSED,
                client_id=client.client_id,
                sub=current.sub,
                grant_id=current.family_id,
            )
            raise InvalidGrant("the refresh token was already used")
        if current.idle_expires_at <= now or current.absolute_expires_at <= now:
            raise InvalidGrant("the refresh token has expired")
        if current.dpop_jkt and context.dpop_jkt is None:
            raise InvalidDpopProof("the refresh token is DPoP-bound: send a DPoP proof")
        if current.dpop_jkt and context.dpop_jkt != current.dpop_jkt:
            raise InvalidGrant("the refresh token is bound to another DPoP key")
        # Never a scope the client is no longer allowed, whatever the family holds (D9).
        allowed = scope.parse(current.scope) & client.allowed_scopes
        if not offers_refresh_token(client, scope.render(allowed)):
            # The client lost offline access (D10): the grant ends here.
            store.revoke_family(current.family_id)
            raise InvalidGrant("the client may no longer keep access offline")
        granted = scope.narrow(form.get("scope"), allowed)
        # RFC 8707: narrowed to some of the grant's APIs, if asked; never beyond them.
        audiences, granted = self._issuer.targets(
            context.issuer, form.get("resource"), granted, current.resource or None
        )

        settings = self._settings
        new_value = self._issuer.opaque()
        successor = replace(
            current,
            token_hash=token_hash(new_value),
            idle_expires_at=min(now + settings.refresh_token_idle_ttl, current.absolute_expires_at),
            used=False,
            used_by=None,
            # RFC 9449 5: a public client refreshing with a proof binds its next refresh token to
            # that key (a bound one stays bound: the key was checked above).
            dpop_jkt=current.dpop_jkt or ((context.dpop_jkt or "") if client.is_public else ""),
        )
        grant = UserGrant(
            sub=current.sub,
            auth_time=current.auth_time,
            scope=scope.render(granted),
            claims=current_claims(store, current.sub, scope.render(granted), current.claims),
            grant_id=current.family_id,
            audience=audiences,
            dpop_jkt=context.dpop_jkt,
        )
        # Sign before committing: after the rotation nothing may fail (OIDC Core 12.2: a
        # refresh response need not carry a new ID token).
        body = self._issuer.user_tokens(
            issuer=context.issuer, client=client, grant=grant, with_id_token=False
        )
        body["refresh_token"] = new_value
        try:
            store.rotate_refresh(current, context.attempt_id, now, successor)
        except ConditionFailed:
            latest = store.get_refresh(current.token_hash)
            if latest is None or latest.used_by != context.attempt_id:
                # Another refresh won the race, or the family was revoked meanwhile.
                raise InvalidGrant("the refresh token is no longer valid") from None
        context.issued.update(sub=current.sub, grant_id=current.family_id)
        return body

    def _within_grace(self, client: Client, used: RefreshToken, now: int) -> RefreshToken | None:
        """The unused successor of a token rotated within the client's reuse grace, if any."""
        grace = client.refresh_token_reuse_grace_seconds
        if not grace or not used.rotated_to or now - used.used_at > grace:
            return None
        successor = self._grants.get_refresh(used.rotated_to)
        if successor is None or successor.used or successor.family_id != used.family_id:
            return None
        return successor
