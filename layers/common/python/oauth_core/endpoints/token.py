"""The token endpoint (RFC 6749 3.2): authenticate the client, dispatch on grant_type; with a
DPoP proof (RFC 9449 5), bind the tokens to its key."""

from __future__ import annotations

from oauth_core import audit
from oauth_core.config import Settings
from oauth_core.constants import GRANT_CLIENT_CREDENTIALS
from oauth_core.errors import (
    InvalidDpopProof,
    InvalidRequest,
    UnauthorizedClient,
    UnsupportedGrantType,
)
from oauth_core.grants import Grant, GrantContext
from oauth_core.http.forms import parse_body_only
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse, json_response
from oauth_core.models import Client
from oauth_core.observability import logger
from oauth_core.rules.client_auth import ThrottledAuthenticator
from oauth_core.tokens.dpop import NonceRequired, Proof, ProofChecker, single_proof


class TokenEndpoint:
    def __init__(
        self,
        grants: list[Grant],
        client_auth: ThrottledAuthenticator,
        settings: Settings,
        dpop: ProofChecker,
    ):
        self.grants: dict[str, Grant] = {grant.grant_type: grant for grant in grants}
        self._client_auth = client_auth
        self._settings = settings
        self._dpop = dpop

    def handle(self, request: HttpRequest) -> HttpResponse:
        form = parse_body_only(request)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise InvalidRequest("grant_type is required")
        grant = self.grants.get(grant_type)
        if grant is None:
            raise UnsupportedGrantType("the grant_type is not supported")
        issuer = self._settings.issuer_for(request.domain_name)
        # The proof is checked before the client (no I/O), and its jti used up after (a request
        # refused for its credentials writes nothing).
        proof = self._proof(request, issuer)
        client = self._client_auth.authenticate(
            request, form, disabled_error=grant.disabled_client_error
        )
        if not client.allows_grant(grant_type):
            raise UnauthorizedClient("the client is not registered for this grant_type")
        self._record(proof, client)
        context = GrantContext(
            issuer=issuer, request=request, dpop_jkt=proof.jkt if proof else None
        )
        body = grant.issue(client, form, context)
        # One line per token, the metric record carrying the audit record: machine-to-machine
        # issuance is the hot path, and every byte it logs is paid for (docs/performance.md).
        if grant_type == GRANT_CLIENT_CREDENTIALS and logger.debug_enabled():
            logger.debug("token issued", extra={"client_id": client.client_id})
        issued = context.issued
        audit.token_issued(
            grant_type,
            client.client_id,
            body["scope"],
            sub=issued.get("sub"),
            grant_id=issued.get("grant_id"),
        )
        return json_response(200, body, self._dpop.nonce_header() if proof else None)

    def _proof(self, request: HttpRequest, issuer: str) -> Proof | None:
        value = single_proof(request.header("dpop"))
        if value is None:
            return None
        try:
            return self._dpop.check(value, method="POST", url=f"{issuer}/token", record=False)
        except NonceRequired as refused:
            refused.headers.update(self._dpop.nonce_header() or {})
            raise

    def _record(self, proof: Proof | None, client: Client) -> None:
        if proof is None:
            if client.dpop_bound_access_tokens:
                raise InvalidDpopProof("this client must send a DPoP proof")
            return
        self._dpop.record(proof)
