"""Warm handler CPU per operation: the real Lambda handler, in-process, with an API Gateway
HTTP API event, Logger and Metrics on, AWS answered by the in-memory stand-in."""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from benchmarks.standin import (
    authorize_event,
    code_exchange_event,
    demo_services,
    event,
    form_event,
    install,
    session_cookie,
)
from local_stack.gateway import LambdaContext
from tests.support import form_fields

# The stand-in user's password (benchmarks.standin.demo_services) and a form's content type.
PASSWORD = "a long password"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Timing:
    name: str
    samples_ns: list[int]
    log_bytes: float = 0.0  # what one request writes to CloudWatch Logs (logs and EMF)
    # What the audit forwarder writes again, to the audit log, of the audit records among them.
    audit_bytes: float = 0.0

    @property
    def median_us(self) -> float:
        return statistics.median(self.samples_ns) / 1000

    @property
    def p99_us(self) -> float:
        ordered = sorted(self.samples_ns)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1000

    @property
    def per_second_per_core(self) -> float:
        return 1_000_000 / self.median_us


def Context() -> Any:
    """The local gateway's stand-in for Lambda's context object (duck-typed, as Lambda's)."""
    return LambdaContext("bench")


Step = tuple[Callable[[], None], Callable[[], object]]  # (prepare, call): only `call` is timed


def interleaved_samples(steps: dict[str, Step], count: int) -> dict[str, list[int]]:
    """CPU samples of several operations taken in turn, one of each per round, so that a slow
    spell of the machine falls on all of them alike: their ratios are what is compared."""
    samples: dict[str, list[int]] = {name: [] for name in steps}
    for _ in range(count):
        for name, (prepare, call) in steps.items():
            prepare()
            started = time.process_time_ns()
            call()
            samples[name].append(time.process_time_ns() - started)
    return samples


def run(iterations: int = 2000) -> dict[str, Timing]:
    import authorize_handler
    import resource_handler
    import token_handler
    from oauth_core.observability import logger

    devnull = open(os.devnull, "w")  # noqa: SIM115 - lives for the benchmark
    logger.registered_handler.setStream(devnull)
    services = demo_services()
    for module in (token_handler, resource_handler, authorize_handler):
        install(module, services)
    context = Context()
    results: dict[str, Timing] = {}

    def handler_step(
        name: str, handler: Any, make_event: Callable[[], dict[str, Any]], expect: int = 200
    ) -> Step:
        pending: list[dict[str, Any]] = []

        def prepare() -> None:
            pending.append(make_event())

        def call() -> None:
            result = handler(pending.pop(), context)
            assert result["statusCode"] == expect, (name, result)

        return prepare, call

    def nothing() -> None:
        pass

    def measure_together(steps: dict[str, Step], count: int) -> None:
        """Measure these in turn; what they write (logs, EMF) is charged to the first, the
        handler (the floors and the reference write nothing)."""
        sink = io.StringIO()
        logger.registered_handler.setStream(sink)
        with contextlib.redirect_stdout(sink):
            interleaved_samples(steps, 20)  # warm up: caches filled, code paths hot
            sink.seek(0)
            sink.truncate(0)
            samples = interleaved_samples(steps, count)
        logger.registered_handler.setStream(devnull)
        first = next(iter(steps))
        forwarded = forwarded_bytes(sink.getvalue())
        for name, taken in samples.items():
            written = len(sink.getvalue().encode()) / count if name == first else 0.0
            audit_written = forwarded / count if name == first else 0.0
            results[name] = Timing(name, taken, written, audit_written)

    def measure(
        name: str,
        handler: Any,
        make_event: Callable[[], dict[str, Any]],
        count: int,
        expect: int = 200,
    ) -> None:
        measure_together({name: handler_step(name, handler, make_event, expect)}, count)

    import json

    cc_event = event("token_client_credentials")
    with contextlib.redirect_stdout(io.StringIO()):
        token = json.loads(token_handler.lambda_handler(cc_event, context)["body"])["access_token"]
    key = services.keys.load().current("ES256")
    claims = jwt.decode(token, options={"verify_signature": False})
    from benchmarks.authlib_reference import reference_endpoint

    authlib_call = reference_endpoint(key, claims)
    # Client credentials against its floor (PyJWT signing the same claims with the same ES256
    # key, nothing else) and its peer reference (Authlib's core), in turn.
    measure_together(
        {
            "client_credentials": handler_step(
                "client_credentials", token_handler.lambda_handler, lambda: cc_event
            ),
            "floor: PyJWT ES256 sign": (
                nothing,
                lambda: jwt.encode(
                    claims,
                    key.private_key,
                    algorithm="ES256",
                    headers={"kid": key.kid, "typ": "at+jwt"},
                ),
            ),
            "reference: Authlib client_credentials": (nothing, authlib_call),
        },
        iterations,
    )

    def code_event(scope: str) -> Callable[[], dict[str, Any]]:
        return lambda: code_exchange_event(services, scope)

    measure(
        "authorization_code (no openid)",
        token_handler.lambda_handler,
        code_event("read:data"),
        iterations // 4,
    )
    measure(
        "authorization_code (openid)",
        token_handler.lambda_handler,
        code_event("openid profile read:data"),
        iterations // 4,
    )

    refresh_tokens: list[str] = []
    with contextlib.redirect_stdout(io.StringIO()):
        first = code_event("read:data")()
        refresh_tokens.append(
            json.loads(token_handler.lambda_handler(first, context)["body"])["refresh_token"]
        )

    def refresh_event() -> dict[str, Any]:
        return form_event(
            {"grant_type": "refresh_token", "client_id": "app", "refresh_token": refresh_tokens[-1]}
        )

    original = token_handler.lambda_handler

    def refresh_and_keep(evt: dict[str, Any], ctx: Any) -> dict[str, Any]:
        result = original(evt, ctx)
        refresh_tokens.append(json.loads(result["body"])["refresh_token"])
        return result

    measure("refresh_token", refresh_and_keep, refresh_event, iterations // 4)

    cookie = session_cookie(services)
    signed_in = authorize_event("openid read:data", cookie)
    measure(
        "authorize (signed in: code redirect)",
        authorize_handler.lambda_handler,
        lambda: signed_in,
        iterations // 2,
        expect=303,
    )

    # The resource call against its floor: PyJWT verifying the same token with the same key
    # and checks (algorithm, issuer, audience, expiry, required claims), nothing else.
    resource_event = event("resource_get", headers={"authorization": f"Bearer {token}"})
    published = services.keys.load().public_jwks()["keys"]
    public = jwt.PyJWK.from_dict(next(k for k in published if k["kid"] == key.kid))
    required = ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]
    measure_together(
        {
            "resource call (verify JWT)": handler_step(
                "resource call", resource_handler.lambda_handler, lambda: resource_event
            ),
            "floor: PyJWT ES256 decode": (
                nothing,
                lambda: jwt.decode(
                    token,
                    public,
                    algorithms=["ES256"],
                    audience=claims["aud"],
                    issuer=claims["iss"],
                    options={"require": required},
                ),
            ),
        },
        iterations,
    )
    # DPoP (issue 15): a bound client-credentials token, and a call with a bound token, each
    # with a fresh proof (made before the timing, as the client makes it); the proof's jti is
    # used up in the stand-in's store (one conditional write in DynamoDB: see the AWS calls).
    from tests.dpop_keys import DpopKey

    dpop_key = DpopKey()
    issuer = services.settings.issuer_for(cc_event["requestContext"]["domainName"])

    def with_headers(base: dict[str, Any], **headers: str) -> dict[str, Any]:
        return {**base, "headers": {**base["headers"], **headers}}

    def dpop_token_event() -> dict[str, Any]:
        return with_headers(cc_event, dpop=dpop_key.proof("POST", f"{issuer}/token"))

    with contextlib.redirect_stdout(io.StringIO()):
        answer = token_handler.lambda_handler(dpop_token_event(), context)
    bound = json.loads(answer["body"])["access_token"]

    def dpop_resource_event() -> dict[str, Any]:
        proof = dpop_key.proof("GET", f"{issuer}/resource", access_token=bound)
        return with_headers(resource_event, authorization=f"DPoP {bound}", dpop=proof)

    measure_together(
        {
            "client_credentials (DPoP)": handler_step(
                "client_credentials (DPoP)", token_handler.lambda_handler, dpop_token_event
            ),
            "resource call (DPoP)": handler_step(
                "resource call (DPoP)", resource_handler.lambda_handler, dpop_resource_event
            ),
        },
        iterations // 2,
    )
    # The authorizer for other teams' APIs (issue 14) against the same floor: the token and key
    # as above, a REQUEST event of payload 2.0, the keys and the revocation list fetched already.
    from oauth_core.endpoints.authorizer import Authorizer, AuthorizerSettings
    from oauth_core.tokens.bearer import JwksCache
    from oauth_core.tokens.revocation_list import RevocationList

    audience = claims["aud"] if isinstance(claims["aud"], str) else claims["aud"][0]
    authorizer = Authorizer.from_settings(
        AuthorizerSettings(claims["iss"], audience, frozenset({"read:data"})),
        JwksCache(lambda uri: {"keys": published}),
        RevocationList(lambda uri: {"revoked": []}, refresh=3600),
    )
    authorizer_event = {
        "version": "2.0",
        "type": "REQUEST",
        "routeKey": "GET /orders",
        "rawPath": "/orders",
        "rawQueryString": "",
        "headers": {"authorization": f"Bearer {token}"},
        "requestContext": {"http": {"method": "GET", "path": "/orders"}},
    }

    def authorize_once() -> None:
        assert authorizer(authorizer_event, context)["isAuthorized"] is True

    measure_together(
        {
            "authorizer (verify JWT, scope)": (nothing, authorize_once),
            "floor: PyJWT ES256 decode (authorizer)": (
                nothing,
                lambda: jwt.decode(
                    token,
                    public,
                    algorithms=["ES256"],
                    audience=audience,
                    issuer=claims["iss"],
                    options={"require": required},
                ),
            ),
        },
        iterations,
    )
    # The sign-in page (issue 16: it must stay fast): GET /login for a waiting request, and the
    # password POST that signs in (Argon2id by design; fewer rounds), each on a fresh request
    # made before the timing (a request completes once).
    import login_handler

    install(login_handler, services)

    def waiting_sign_in() -> tuple[dict[str, Any], str]:
        """A fresh authorization request's GET /login event, and the path it was sent to."""
        with contextlib.redirect_stdout(io.StringIO()):
            sent = authorize_handler.lambda_handler(authorize_event("openid read:data"), context)
        path, _, query = sent["headers"]["Location"].partition("?")
        return event("authorize", rawPath=path, rawQueryString=query), query

    def sign_in_post() -> dict[str, Any]:
        page_event, _ = waiting_sign_in()
        with contextlib.redirect_stdout(io.StringIO()):
            shown = login_handler.lambda_handler(page_event, context)
        fields = form_fields(shown["body"])
        cookies = [c.split(";", 1)[0] for c in shown.get("cookies", [])]
        body = urllib.parse.urlencode({**fields, "username": "alice", "password": PASSWORD})
        return {
            **page_event,
            "rawPath": "/login",
            "rawQueryString": "",
            "body": body,
            "cookies": cookies,
            "headers": {**page_event["headers"], "content-type": FORM},
            "requestContext": {
                **page_event["requestContext"],
                "http": {**page_event["requestContext"]["http"], "method": "POST"},
            },
        }

    # Each beside its floor, in turn: the page beside PyJWT signing the access token's claims
    # (the page does no signing: the floor stands for "one small crypto call"), the POST beside
    # Argon2id verifying the stand-in user's stored hash alone (what the POST must spend).
    measure_together(
        {
            "sign-in page (GET /login)": handler_step(
                "sign-in page (GET /login)",
                login_handler.lambda_handler,
                lambda: waiting_sign_in()[0],
            ),
            "floor: PyJWT ES256 sign (sign-in page)": (
                nothing,
                lambda: jwt.encode(claims, key.private_key, algorithm="ES256"),
            ),
        },
        iterations // 4,
    )
    from oauth_core.rules.passwords import verify_password

    stored = services.users.get("alice")
    assert stored is not None
    measure_together(
        {
            "sign-in POST (password, Argon2id)": handler_step(
                "sign-in POST (password, Argon2id)",
                login_handler.lambda_handler,
                sign_in_post,
                expect=303,
            ),
            "floor: Argon2id verify (sign-in)": (
                nothing,
                lambda: verify_password(PASSWORD, stored.password_hash),
            ),
        },
        max(10, iterations // 100),
    )

    measure("JWKS", token_handler.lambda_handler, lambda: event("jwks"), iterations // 2)
    measure("metadata", token_handler.lambda_handler, lambda: event("metadata"), iterations // 2)
    return results


def forwarded_bytes(output: str) -> int:
    """What the audit forwarder prints to the audit log for the records in a function's output
    (oauth_core.admin.audit_forwarder: each record complete, one line)."""
    from oauth_core import audit

    records = (audit.from_log_line(line) for line in output.splitlines())
    return sum(len(audit.line(r).encode()) + 1 for r in records if r is not None)
