"""The pushed authorization request endpoint (RFC 9126 2).

A client authenticates as at /token (a public client names itself with `client_id`) and posts
the parameters it would send to /authorize. They are checked exactly as /authorize checks them
(oauth_core.endpoints.authorization_request), so an unregistered redirect URI or a scope the
client may not ask for is refused here, as JSON, before any browser is involved: a fault of the
client or redirect URI is `invalid_request` (RFC 9126 2.3), any other the code /authorize would
send. The request (the parameters /authorize reads, no more) is kept in the grants table for
60 s under the hash of the random part of its `request_uri` (the reference itself is never
stored) and is used once at /authorize. A public client's pushes are counted per source.
A DPoP proof sent with the push binds the code to its key (RFC 9449 10.1: `dpop_jkt`).
"""

from __future__ import annotations

from oauth_core import constants
from oauth_core.clock import Clock, Random
from oauth_core.config import Settings
from oauth_core.endpoints.authorization_request import PARAMETERS, AuthorizationRequests
from oauth_core.errors import InvalidDpopProof, InvalidRequest, TooManyRequests
from oauth_core.http.forms import parse_body_only, read_query
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse, json_response
from oauth_core.models import PushedRequest
from oauth_core.observability import count
from oauth_core.ports import GrantStore, RateLimiter
from oauth_core.rate_limit import Limit, retry_after_ms, source_of
from oauth_core.rules.client_auth import ThrottledAuthenticator
from oauth_core.rules.hashing import token_hash
from oauth_core.tokens.dpop import NonceRequired, ProofChecker, single_proof

# Client authentication, not part of the authorization request (RFC 9126 2.1): never stored.
CLIENT_CREDENTIALS = frozenset({"client_secret", "client_assertion", "client_assertion_type"})


class PushedAuthorizationEndpoint:
    def __init__(
        self,
        client_auth: ThrottledAuthenticator,
        requests: AuthorizationRequests,
        grants: GrantStore,
        limiter: RateLimiter,
        settings: Settings,
        clock: Clock,
        random: Random,
        dpop: ProofChecker,
    ):
        self._dpop = dpop
        self._client_auth = client_auth
        self._requests = requests
        self._grants = grants
        self._limiter = limiter
        self._settings = settings
        self._clock = clock
        self._random = random

    def handle(self, request: HttpRequest) -> HttpResponse:
        # POST, a form body within 16 KiB, UTF-8, nothing in the URL; a repeat is refused.
        form = parse_body_only(request)
        issuer = self._settings.issuer_for(request.domain_name)
        proof_value = single_proof(request.header("dpop"))
        proof = None
        if proof_value is not None:
            url = f"{issuer}{constants.PUSHED_REQUEST_PATH}"
            try:
                proof = self._dpop.check(proof_value, method="POST", url=url, record=False)
            except NonceRequired as refused:
                refused.headers.update(self._dpop.nonce_header() or {})
                raise
        client = self._client_auth.authenticate(request, form)
        # Required, as in any authorization request (RFC 9126 2.1), and the client's own.
        if form.get("client_id") != client.client_id:
            raise InvalidRequest("client_id must name the authenticated client")
        if "request_uri" in form:
            raise InvalidRequest("request_uri must not be pushed")
        if "request" in form:
            raise InvalidRequest("request objects are not supported")
        # The same reading as /authorize's query: lists of values, empty ones kept.
        params = {
            name: values
            for name, values in read_query(request.body.decode("utf-8")).items()
            if name not in CLIENT_CREDENTIALS
        }
        if proof is not None:
            # RFC 9449 10.1: the proof's key is the one the code will be bound to; a dpop_jkt
            # sent as well must name the same key.
            if params.get("dpop_jkt", [proof.jkt]) != [proof.jkt]:
                raise InvalidDpopProof("dpop_jkt does not match the DPoP proof")
            params["dpop_jkt"] = [proof.jkt]
        verified = self._requests.verify_client(params)
        self._requests.validate(params, verified, issuer)
        if proof is not None:
            self._dpop.record(proof)
        if client.is_public:
            self._count_public_push(request)
        kept = {name: values for name, values in params.items() if name in PARAMETERS}
        reference = self._random.token(constants.OPAQUE_TOKEN_BYTES)
        ttl = constants.PUSHED_REQUEST_TTL
        self._grants.put_pushed_request(
            PushedRequest(
                request_hash=token_hash(reference),
                client_id=client.client_id,
                client_registration=client.registration_id,
                parameters=kept,
                expires_at=self._clock.now() + ttl,
            )
        )
        body = {"request_uri": constants.PUSHED_REQUEST_URI_PREFIX + reference, "expires_in": ttl}
        return json_response(201, body, self._dpop.nonce_header() if proof else None)

    def _count_public_push(self, request: HttpRequest) -> None:
        """A public client's push needs no secret, so anyone may make one: each takes one from
        its source's bucket (429 when empty), so no one source can fill the grants table
        (SECURITY A14). A confidential client's pushes are its own business."""
        limit = Limit(self._settings.public_pushes_per_source, 3600)
        now_ms = self._clock.now_ms()
        taken, empty_at = self._limiter.take(f"push#{source_of(request.source_ip)}", now_ms, limit)
        if not taken:
            count("PushedRequestThrottled")
            retry = retry_after_ms(empty_at, now_ms, limit) // 1000
            raise TooManyRequests(retry + 1, "too many pushed requests from this source")
