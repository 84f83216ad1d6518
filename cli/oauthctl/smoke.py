"""`oauthctl smoke`: after a deploy, prove the stack answers as a client would use it.

Against a deployed stack (`--stack NAME`) or the local one: discovery and the issuer it names,
the JWKS, a throw-away client registered with client credentials, a token for it verified
against the published keys, the protected API with and without that token, and the client
deleted again (also when a step fails). Each step prints a line; the exit status says whether
all passed.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import quote_plus, urlencode, urlsplit

import jwt

from oauth_core.admin.registry import ClientRegistry
from oauth_core.constants import ACCESS_TOKEN_TYPE, SCOPE_READ

TIMEOUT_SECONDS = 10
CLIENT_PREFIX = "smoke-"
# discovery, JWKS, register, token, protected API, delete
STEPS = 6
DISCOVERY_PATHS = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")


class SmokeFailure(Exception):
    """One step's check failed; the message says what was expected and what came."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise SmokeFailure(f"the answer ({self.status}) is not JSON") from exc


def http(
    method: str,
    url: str,
    *,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    check_url(url)
    body = urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(  # noqa: S310 - https or loopback http, checked above
        url, data=body, method=method, headers=headers or {}
    )
    if body is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read())
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        raise SmokeFailure(f"{method} {url}: no answer ({reason})") from error


def check_url(url: str) -> None:
    """Only https, or plain http to this machine (the local stack): a token and a client secret
    go over these requests."""
    parts = urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    expect(
        parts.scheme == "https" or (parts.scheme == "http" and loopback),
        f"{url!r} is neither https nor a loopback address",
    )


@dataclass
class Report:
    out: TextIO
    passed: int = 0
    failed: int = 0

    @contextmanager
    def step(self, name: str) -> Iterator[list[str]]:
        """A step: what it found goes in the list it yields; a SmokeFailure fails it."""
        found: list[str] = []
        started = time.perf_counter()
        try:
            yield found
        except SmokeFailure as failure:
            self.failed += 1
            self._line("FAIL", name, str(failure), started)
            raise
        except Exception as error:  # an answer of a shape no check expected
            self.failed += 1
            self._line("FAIL", name, f"{type(error).__name__}: {error}", started)
            raise SmokeFailure(str(error)) from error
        self.passed += 1
        self._line("ok", name, "; ".join(found), started)

    def _line(self, verdict: str, name: str, detail: str, started: float) -> None:
        took = (time.perf_counter() - started) * 1000
        print(f"  {verdict:<4}  {name}: {detail} ({took:.0f} ms)", file=self.out, flush=True)


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def run(clients: ClientRegistry, issuer: str, out: TextIO) -> bool:
    """Every step, in order; True when all passed. A registered client is always deleted."""
    issuer = issuer.rstrip("/")
    report = Report(out)
    print(f"Smoke test of {issuer}", file=out, flush=True)
    client_id: str | None = None
    try:
        metadata = discovery(report, issuer)
        keys = published_keys(report, metadata["jwks_uri"])
        client_id, secret = register(report, clients)
        token = token_for(report, metadata["token_endpoint"], client_id, secret, keys, issuer)
        protected_api(report, issuer, token)
    except SmokeFailure:
        pass
    finally:
        if client_id is not None:
            deregister(report, clients, client_id)
    ok = report.failed == 0 and report.passed == STEPS
    skipped = STEPS - report.passed - report.failed
    if ok:
        summary = f"passed: all {STEPS} steps"
    else:
        summary = f"FAILED: {report.passed} of {STEPS} steps passed"
        summary += f", {skipped} not run" if skipped else ""
    print(summary, file=out, flush=True)
    return ok


def discovery(report: Report, issuer: str) -> dict[str, Any]:
    with report.step("discovery") as found:
        check_url(issuer)
        metadata: dict[str, Any] = {}
        for path in (
            "/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server",
        ):
            answer = http("GET", issuer + path)
            expect(answer.status == 200, f"GET {path} answered {answer.status}")
            document = answer.json()
            expect(
                document.get("issuer") == issuer,
                f"{path} names the issuer {document.get('issuer')!r}, not {issuer!r}",
            )
            metadata.update(document)
        for name in ("token_endpoint", "jwks_uri", "authorization_endpoint"):
            expect(isinstance(metadata.get(name), str), f"the metadata has no {name}")
            expect(
                metadata[name].startswith(issuer + "/"),
                f"{name} {metadata[name]!r} is not under the issuer",
            )
        found.append("both documents name this issuer")
        return metadata


def published_keys(report: Report, jwks_uri: str) -> dict[str, jwt.PyJWK]:
    with report.step("JWKS") as found:
        answer = http("GET", jwks_uri)
        expect(answer.status == 200, f"GET {jwks_uri} answered {answer.status}")
        document = answer.json()
        keys = {jwk["kid"]: jwt.PyJWK.from_dict(jwk) for jwk in document.get("keys", [])}
        expect(bool(keys), "the JWKS holds no key")
        expect(all("d" not in jwk for jwk in document["keys"]), "the JWKS publishes a private key")
        algs = sorted({jwk.get("alg", "?") for jwk in document["keys"]})
        found.append(f"{len(keys)} public keys ({', '.join(algs)})")
        return keys


def register(report: Report, clients: ClientRegistry) -> tuple[str, str]:
    with report.step("register a throw-away client") as found:
        client_id = CLIENT_PREFIX + secrets.token_hex(6)
        try:
            registration = clients.create(
                {
                    "client_id": client_id,
                    "client_name": "oauthctl smoke test (deleted when it ends)",
                    "grant_types": ["client_credentials"],
                    "scope": SCOPE_READ,
                }
            )
        except Exception as exc:  # the stack's tables or secrets could not be written
            raise SmokeFailure(f"could not register {client_id}: {exc}") from exc
        assert registration.client_secret is not None
        found.append(f"{client_id} (client_credentials, {SCOPE_READ})")
        return client_id, registration.client_secret


def token_for(
    report: Report,
    token_endpoint: str,
    client_id: str,
    secret: str,
    keys: dict[str, jwt.PyJWK],
    issuer: str,
) -> str:
    with report.step("client credentials token") as found:
        answer = http(
            "POST",
            token_endpoint,
            data={"grant_type": "client_credentials", "scope": SCOPE_READ},
            headers={"Authorization": basic_auth(client_id, secret)},
        )
        body = answer.json()
        expect(
            answer.status == 200,
            f"the token endpoint answered {answer.status} {body.get('error', '')}".strip(),
        )
        token = str(body.get("access_token", ""))
        header = jwt.get_unverified_header(token) if token.count(".") == 2 else {}
        expect(header.get("typ") == ACCESS_TOKEN_TYPE, f"the token's typ is {header.get('typ')!r}")
        key = keys.get(str(header.get("kid")))
        expect(key is not None, f"the token is signed by {header.get('kid')!r}, not in the JWKS")
        assert key is not None
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[str(header.get("alg"))],
                issuer=issuer,
                options={"verify_aud": False, "require": ["exp", "iat", "sub", "client_id"]},
            )
        except jwt.PyJWTError as exc:
            raise SmokeFailure(f"the token does not verify against the JWKS: {exc}") from exc
        expect(claims["client_id"] == client_id, "the token names another client")
        found.append(
            f"{header['alg']} {ACCESS_TOKEN_TYPE}, verified against the JWKS, "
            f"expires in {claims['exp'] - claims['iat']} s"
        )
        return token


def protected_api(report: Report, issuer: str, token: str) -> None:
    with report.step("protected API") as found:
        answer = http("GET", f"{issuer}/resource", headers={"Authorization": f"Bearer {token}"})
        expect(answer.status == 200, f"GET /resource with the token answered {answer.status}")
        refused = http("GET", f"{issuer}/resource")
        expect(refused.status == 401, f"GET /resource without a token answered {refused.status}")
        challenge = {k.lower(): v for k, v in refused.headers.items()}.get("www-authenticate", "")
        expect(challenge.startswith("Bearer"), "the refusal carries no Bearer challenge")
        found.append("200 with the token, 401 and a Bearer challenge without")


def deregister(report: Report, clients: ClientRegistry, client_id: str) -> None:
    try:
        with report.step("delete the throw-away client") as found:
            try:
                deleted = clients.delete(client_id)
            except Exception as exc:
                raise SmokeFailure(
                    f"could not delete {client_id}: {exc}; delete it with "
                    f"`oauthctl clients delete {client_id}`"
                ) from exc
            expect(deleted, f"{client_id} was already gone")
            found.append(f"{client_id} and its secret")
    except SmokeFailure:
        pass


def basic_auth(client_id: str, secret: str) -> str:
    """client_secret_basic as RFC 6749 2.3.1 says: form-url-encode each part, then base64."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()
