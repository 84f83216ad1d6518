"""The Authorization Code grant (RFC 6749 4.1.3) with PKCE (RFC 7636).

Single use is enforced by one DynamoDB transaction: the code is marked consumed on condition
that it was not, and the token family and first refresh token are created in the same write.
A second redemption revokes the family the first one created (RFC 9700 4.5), but only when the
replay comes from the code's own client with the right verifier: a stranger holding a stolen
code must not be able to revoke a user's grant.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
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
    TemporarilyUnavailable,
)
from oauth_core.grants import GrantContext, current_claims, offers_refresh_token
from oauth_core.models import AuthorizationCode, Client, RefreshToken, TokenFamily
from oauth_core.observability import count
from oauth_core.ports import GrantStore
from oauth_core.rules import pkce, scope
from oauth_core.rules.hashing import token_hash
from oauth_core.tokens.issuer import TokenIssuer, UserGrant


class AuthorizationCodeGrant:
    grant_type = constants.GRANT_AUTHORIZATION_CODE
    disabled_client_error: type[OAuthError] = InvalidGrant

    def __init__(self, grants: GrantStore, issuer: TokenIssuer, settings: Settings, clock: Clock):
        self._grants = grants
        self._issuer = issuer
        self._settings = settings
        self._clock = clock

    def issue(
        self, client: Client, form: Mapping[str, str], context: GrantContext
    ) -> dict[str, Any]:
        code_value = form.get("code")
        if not code_value:
            raise InvalidRequest("code is required")
        store = self._grants
        now = self._clock.now()
        code = store.get_code(token_hash(code_value))
        if (
            code is None
            or code.client_id != client.client_id
            or code.client_registration != client.registration_id
        ):
            raise InvalidGrant("the authorization code is invalid")
        if code.consumed:
            self._replayed(code, form.get("code_verifier"))
        if code.expires_at <= now:
            raise InvalidGrant("the authorization code has expired")
        redirect_uri = form.get("redirect_uri")
        if redirect_uri != code.redirect_uri and (redirect_uri or code.redirect_uri_required):
            raise InvalidGrant("redirect_uri does not match the authorization request")
        pkce.verify(form.get("code_verifier"), code.code_challenge)
        if code.dpop_jkt and context.dpop_jkt is None:
            raise InvalidDpopProof("the code is DPoP-bound: send a DPoP proof")
        if code.dpop_jkt and context.dpop_jkt != code.dpop_jkt:
            raise InvalidGrant("the code is bound to another DPoP key")

        # The client's scopes may have shrunk since the code was issued (D9).
        granted = scope.render(scope.parse(code.scope) & client.allowed_scopes)
        # RFC 8707: this token may be for some of the granted APIs; the grant keeps them all.
        audiences, token_scopes = self._issuer.targets(
            context.issuer, form.get("resource"), scope.parse(granted), code.resource or None
        )
        claims = current_claims(self._grants, code.sub, granted, code.claims)
        family_id = secrets.token_hex(16)
        settings = self._settings
        family = TokenFamily(
            family_id=family_id,
            client_id=client.client_id,
            sub=code.sub,
            scope=granted,
            auth_time=code.auth_time,
            claims=claims,
            created_at=now,
            absolute_expires_at=now + settings.refresh_token_absolute_ttl,
            client_registration=client.registration_id,
            signed_in_ms=code.signed_in_ms,
            resource=code.resource,
        )
        refresh_value = None
        refresh = None
        if offers_refresh_token(client, granted):
            refresh_value = self._issuer.opaque()
            refresh = RefreshToken(
                token_hash=token_hash(refresh_value),
                family_id=family_id,
                client_id=client.client_id,
                sub=code.sub,
                scope=granted,
                idle_expires_at=now + settings.refresh_token_idle_ttl,
                absolute_expires_at=family.absolute_expires_at,
                auth_time=code.auth_time,
                claims=claims,
                client_registration=client.registration_id,
                signed_in_ms=code.signed_in_ms,
                resource=code.resource,
                # RFC 9449 5: a public client's refresh token only works with its DPoP key.
                dpop_jkt=(context.dpop_jkt or "") if client.is_public else "",
            )
        grant = UserGrant(
            sub=code.sub,
            auth_time=code.auth_time,
            scope=scope.render(token_scopes),
            claims=claims,
            nonce=code.nonce,
            grant_id=family_id,
            audience=audiences,
            dpop_jkt=context.dpop_jkt,
            sid=code.sid or None,
            amr=code.amr,
            acr=code.acr,
        )
        # Sign before committing: once the code is consumed nothing may fail, or the client
        # would hold a spent code and no tokens.
        body = self._issuer.user_tokens(issuer=context.issuer, client=client, grant=grant)
        if refresh_value:
            body["refresh_token"] = refresh_value
        try:
            store.redeem_code(code.code_hash, context.attempt_id, now, family, refresh)
        except ConditionFailed:
            self._lost(code, context.attempt_id, now)
        context.issued.update(sub=code.sub, grant_id=family_id)
        return body

    def _lost(self, code: AuthorizationCode, attempt_id: str, now: int) -> None:
        """The redemption's transaction was refused: find out why from the code itself."""
        store = self._grants
        latest = store.get_code(code.code_hash)
        if latest is not None and latest.consumed and latest.consumed_by == attempt_id:
            return  # our own write had committed (a retry found it): success
        if latest is not None and latest.consumed:
            # Another redemption won: this one is a replay of the same code.
            if latest.family_id:
                store.revoke_family(latest.family_id)
            count("CodeReplay")
            _audit_replay(latest)
            raise InvalidGrant("the authorization code was already used")
        if latest is None or latest.expires_at <= now:
            raise InvalidGrant("the authorization code has expired")
        state = store.get_subject_state(code.sub)
        if state is not None and not state.allows(code.signed_in_ms):
            # The user was disabled, or changed their password, after signing in (D8).
            raise InvalidGrant("the authorization code is no longer valid")
        # Unconsumed and unexpired: the transaction failed for another reason. Retryable.
        raise TemporarilyUnavailable("the code could not be redeemed now; retry")

    def _replayed(self, code: AuthorizationCode, verifier: str | None) -> None:
        if code.family_id and pkce.verifier_matches(verifier, code.code_challenge):
            self._grants.revoke_family(code.family_id)
            count("CodeReplay")
            _audit_replay(code)
        raise InvalidGrant("the authorization code was already used")


def _audit_replay(code: AuthorizationCode) -> None:
    audit.emit(
        audit.AUTHORIZATION_CODE_REPLAYED,
        client_id=code.client_id,
        sub=code.sub,
        grant_id=code.family_id or None,
    )
