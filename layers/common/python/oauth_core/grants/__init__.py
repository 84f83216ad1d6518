"""One module per grant type (RFC 6749 section 4 and 6)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from oauth_core import constants
from oauth_core.errors import OAuthError
from oauth_core.http.request import HttpRequest
from oauth_core.models import Client
from oauth_core.ports import GrantStore
from oauth_core.rules.claims import token_claims


@dataclass(frozen=True)
class GrantContext:
    issuer: str
    request: HttpRequest
    # What a user's grant tells the token endpoint's audit record: `sub` and `grant_id`.
    issued: dict[str, str] = field(default_factory=dict, compare=False)
    # The key of the request's checked DPoP proof (RFC 9449): its tokens are bound to it.
    dpop_jkt: str | None = None

    @cached_property
    def attempt_id(self) -> str:
        """Recorded on the items a grant writes, so a retry that finds its own committed write
        recognises it as success, not as a replay. Drawn only by the grants that write (client
        credentials writes nothing)."""
        return secrets.token_hex(16)


class Grant(Protocol):
    grant_type: str
    # How a disabled client that authenticated is refused: a grant it holds is no longer valid
    # (SECURITY D7), while a client asking for its own token is told it is disabled.
    disabled_client_error: type[OAuthError]

    def issue(
        self, client: Client, form: Mapping[str, str], context: GrantContext
    ) -> dict[str, Any]:
        """Validate the grant and return the RFC 6749 5.1 response body."""
        ...


def offers_refresh_token(client: Client, scope_granted: str) -> bool:
    """A refresh token keeps access while the user is away: a client that is not first-party
    gets one only when offline_access was asked for and consented to (D10, OIDC Core 11)."""
    if not client.allows_grant(constants.GRANT_REFRESH_TOKEN):
        return False
    return client.first_party or constants.SCOPE_OFFLINE_ACCESS in scope_granted.split()


def current_claims(
    grants: GrantStore, sub: str, scope_granted: str, snapshot: dict[str, Any]
) -> dict[str, Any]:
    """What the user's next token says of them: as they are now (the profile the user
    directory keeps in their state), released by the granted scopes; a user whose state holds
    no profile yet keeps the snapshot taken when they signed in."""
    state = grants.get_subject_state(sub)
    if state is None or state.profile is None:
        return snapshot
    return token_claims(state.profile, scope_granted.split())
