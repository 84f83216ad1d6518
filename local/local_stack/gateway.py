"""A local API Gateway: each HTTP request becomes the HTTP API (payload 2.0) event the deployed
handler would get, and the same handler answers it.

Each function runs as a small pool of "containers" (separately imported handler modules) that
serve one request at a time, as Lambda does; that keeps Powertools' per-request state apart.

Beside the server's routes it can serve other APIs' routes, each behind a Lambda authorizer run
as API Gateway runs one (REQUEST type, payload 2.0, simple responses): the routes of the JSON
file LOCAL_GATEWAY_ROUTES names (`read_local_routes`; docs/integrate.md, "Protect your own
API").
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import queue
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from oauth_core.http.routes import FUNCTIONS, FunctionSpec, find_route

REPO_ROOT = Path(__file__).resolve().parents[2]
# What API Gateway (HTTP API) takes in a body, and what Lambda takes in a synchronous invocation
# (the whole event): over either, the function never runs and the answer is API Gateway's own,
# which an HTTP API cannot shape. Under them, the function answers (oauth_core.http.request refuses
# bodies over what OAuth needs with a JSON 413 and token headers, SECURITY H6).
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_EVENT_BYTES = 6 * 1024 * 1024
CONTAINERS_PER_FUNCTION = 4


class LambdaContext:
    def __init__(self, function_name: str):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}"
        )
        self.memory_limit_in_mb = 256
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + 10

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_handler_module(
    spec: FunctionSpec, instance: int, environment: Mapping[str, str] | None = None
) -> ModuleType:
    """Import a function's handler module afresh, as its own Lambda container would (with the
    function's own `environment` while it is imported, if it has one)."""
    code_dir = REPO_ROOT / spec.code_dir
    if str(code_dir) not in sys.path:
        sys.path.insert(0, str(code_dir))
    name = f"_local_{spec.module}_{instance}"
    if environment is not None:  # several functions may share a handler module (authorizers)
        name = f"_local_{spec.name}_{spec.module}_{instance}"
    module_spec = importlib.util.spec_from_file_location(name, code_dir / f"{spec.module}.py")
    assert module_spec is not None
    assert module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    with function_environment(environment or {}):
        module_spec.loader.exec_module(module)
    return module


_ENVIRONMENT_LOCK = threading.Lock()


@contextmanager
def function_environment(variables: Mapping[str, str]) -> Iterator[None]:
    """A function's own environment variables, set in this process while its handler module is
    imported (a handler that reads its settings at import, as the authorizer's does, keeps
    them). Every function shares the process's environment otherwise, so only variables no
    other function reads belong here (the authorizer's AUTHORIZER_*)."""
    if not variables:
        yield
        return
    with _ENVIRONMENT_LOCK:
        saved = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


class FunctionPool:
    """Containers start on demand (a cold start), up to `size`; then requests wait for one."""

    def __init__(
        self,
        spec: FunctionSpec,
        size: int = CONTAINERS_PER_FUNCTION,
        environment: Mapping[str, str] | None = None,
    ):
        self.spec = spec
        self._free: queue.Queue[ModuleType] = queue.Queue()
        self._started = 0
        self._size = size
        self._lock = threading.Lock()
        self._environment = environment

    def _acquire(self) -> ModuleType:
        try:
            return self._free.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            instance = self._started if self._started < self._size else None
            if instance is not None:
                self._started += 1
        if instance is None:
            return self._free.get()
        return load_handler_module(self.spec, instance, self._environment)

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        module = self._acquire()
        try:
            result: dict[str, Any] = module.lambda_handler(event, LambdaContext(self.spec.name))
            return result
        finally:
            self._free.put(module)


def host_and_port(address: Any) -> str:
    host, port = address[:2]
    host = host.decode() if isinstance(host, bytes) else str(host)
    return f"{host}:{port}"


def build_event(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    domain_name: str,
    route_key: str,
) -> dict[str, Any]:
    parts = urlsplit(target)
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    now = time.time()
    is_text = body == b"" or (_is_text(merged.get("content-type", "")) and _is_utf8(body))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": merged,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".")[0],
            "http": {
                "method": method,
                "path": parts.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if parts.query:
        # What API Gateway does: repeated parameters joined by commas (handlers use the raw one).
        params: dict[str, str] = {}
        for pair in parts.query.split("&"):
            name, _, value = pair.partition("=")
            params[name] = f"{params[name]},{value}" if name in params else value
        event["queryStringParameters"] = params
    if body:
        event["body"] = body.decode("utf-8") if is_text else base64.b64encode(body).decode()
    return event


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _is_text(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media.startswith("text/") or media in (
        "application/json",
        "application/x-www-form-urlencoded",
    )


# --- Other APIs' routes, behind Lambda authorizers --------------------------------------------

# A JSON file of routes to serve beside the server's (read_local_routes), relative to the
# working directory or absolute.
ENV_LOCAL_ROUTES = "LOCAL_GATEWAY_ROUTES"
# What API Gateway answers for a route behind a Lambda authorizer: an identity source missing
# (the authorizer is not invoked), `isAuthorized: false`, and an authorizer that failed.
UNAUTHORIZED = (401, b'{"message":"Unauthorized"}')
FORBIDDEN = (403, b'{"message":"Forbidden"}')
AUTHORIZER_FAILED = (500, b'{"message":"Internal Server Error"}')
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "ANY")


class LocalRoutesError(ValueError):
    """The local routes file cannot be served; the message says where."""


def identity_value(event: Mapping[str, Any], source: str) -> str | None:
    """One identity source's value in a route's event, as API Gateway reads it."""
    kind, _, name = source.partition(".")
    if kind == "$request" and name.startswith("header."):
        return (event.get("headers") or {}).get(name[len("header.") :].lower())
    if kind == "$request" and name.startswith("querystring."):
        return (event.get("queryStringParameters") or {}).get(name[len("querystring.") :])
    if kind == "$context":
        value: Any = event["requestContext"]
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return None if value is None else str(value)
    return None  # $stageVariables: the local stage has none


def _check_identity_source(source: str, where: str) -> None:
    if not source.startswith(("$request.header.", "$request.querystring.", "$context.")):
        raise LocalRoutesError(
            f"{where}: identity sources are $request.header.<name>, "
            f"$request.querystring.<name> or $context.<name>, not {source!r}"
        )


def authorizer_event(event: Mapping[str, Any], identity: list[str]) -> dict[str, Any]:
    """The REQUEST authorizer's event (payload 2.0) for a route's event: the request without
    its body, the route's ARN and the identity sources' values."""
    context = event["requestContext"]
    method, _, path = str(event["routeKey"]).partition(" ")
    request = {k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")}
    return {
        **request,
        "type": "REQUEST",
        "routeArn": f"arn:aws:execute-api:us-east-1:{context['accountId']}:{context['apiId']}"
        f"/{context['stage']}/{method}{path}",
        "identitySource": identity,
        "pathParameters": {},
        "stageVariables": {},
    }


@dataclass
class LocalAuthorizer:
    """A Lambda authorizer (REQUEST, payload 2.0, simple responses) with API Gateway's cache of
    its answers, keyed by the identity sources' values, for `results_cache_ttl` seconds."""

    name: str
    pool: FunctionPool
    identity_source: tuple[str, ...]
    results_cache_ttl: float = 0.0
    _cache: dict[tuple[str, ...], tuple[float, dict[str, Any]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def authorize(self, event: dict[str, Any]) -> tuple[int, bytes] | None:
        """None if the request may go on (the authorizer's context then in the event, at
        requestContext.authorizer.lambda), else API Gateway's answer."""
        identity = [identity_value(event, source) for source in self.identity_source]
        if not all(identity):
            return UNAUTHORIZED
        key = tuple(str(value) for value in identity)
        answer = self._cached(key)
        if answer is None:
            try:
                answer = self.pool.invoke(authorizer_event(event, list(key)))
            except Exception as exc:  # what API Gateway answers when the authorizer fails
                sys.stderr.write(f"authorizer {self.name} failed: {type(exc).__name__}: {exc}\n")
                return AUTHORIZER_FAILED
            if not isinstance(answer, dict) or not isinstance(answer.get("isAuthorized"), bool):
                return AUTHORIZER_FAILED
            if self.results_cache_ttl > 0:
                with self._lock:
                    self._cache[key] = (time.monotonic() + self.results_cache_ttl, answer)
        if not answer["isAuthorized"]:
            return FORBIDDEN
        event["requestContext"]["authorizer"] = {"lambda": dict(answer.get("context") or {})}
        return None

    def _cached(self, key: tuple[str, ...]) -> dict[str, Any] | None:
        with self._lock:
            found = self._cache.get(key)
            if found is None:
                return None
            if found[0] <= time.monotonic():
                del self._cache[key]
                return None
            return found[1]


@dataclass(frozen=True)
class LocalRoute:
    method: str  # an HTTP method, or ANY
    path: str
    function: FunctionPool
    authorizer: LocalAuthorizer | None

    def matches(self, method: str, path: str) -> bool:
        return self.path == path and self.method in ("ANY", method.upper())


@dataclass(frozen=True)
class LocalRoutes:
    routes: tuple[LocalRoute, ...] = ()

    def find(self, method: str, path: str) -> LocalRoute | None:
        return next((r for r in self.routes if r.matches(method, path)), None)


def _function_spec(name: str, entry: Mapping[str, Any], where: str) -> FunctionSpec:
    code_dir, module = entry.get("code_dir"), entry.get("module")
    if not isinstance(code_dir, str) or not isinstance(module, str):
        raise LocalRoutesError(f"{where}: code_dir and module (strings) are required")
    if not (REPO_ROOT / code_dir / f"{module}.py").is_file():
        raise LocalRoutesError(f"{where}: no {code_dir}/{module}.py in the repository")
    return FunctionSpec(name, code_dir, module)


def _only(entry: Any, allowed: set[str], where: str) -> Mapping[str, Any]:
    if not isinstance(entry, dict):
        raise LocalRoutesError(f"{where}: an object is expected")
    unknown = set(entry) - allowed
    if unknown:
        raise LocalRoutesError(f"{where}: unknown keys {sorted(unknown)}")
    return entry


def read_local_routes(path: Path) -> LocalRoutes:
    """The routes of a JSON file, served beside the server's:

        {"authorizers": {"<name>": {"code_dir": ..., "module": ..., "environment": {...},
                                    "identity_source": ["$request.header.Authorization"],
                                    "results_cache_ttl": 10}},
         "routes": [{"route": "GET /orders", "code_dir": ..., "module": ...,
                     "authorizer": "<name>"}]}

    `code_dir`: a folder of the repository; `module`: its handler module (`lambda_handler`).
    An authorizer's `environment` applies to its function alone (function_environment); it
    shares the process's otherwise (the issuer's: OAUTH_ISSUER, REVOCATION_REFRESH_SECONDS)."""
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise LocalRoutesError(f"{path}: {exc}") from exc
    document = _only(document, {"authorizers", "routes", "comment"}, str(path))
    authorizers: dict[str, LocalAuthorizer] = {}
    for name, entry in (document.get("authorizers") or {}).items():
        where = f"{path}: authorizers.{name}"
        entry = _only(
            entry,
            {"code_dir", "module", "environment", "identity_source", "results_cache_ttl"},
            where,
        )
        environment = entry.get("environment") or {}
        if not all(isinstance(v, str) for v in environment.values()):
            raise LocalRoutesError(f"{where}.environment: values are strings")
        sources = tuple(entry.get("identity_source") or ["$request.header.Authorization"])
        for source in sources:
            _check_identity_source(source, f"{where}.identity_source")
        ttl = entry.get("results_cache_ttl", 0)
        if not isinstance(ttl, int | float) or not 0 <= ttl <= 3600:
            raise LocalRoutesError(f"{where}.results_cache_ttl: 0 to 3600 seconds")
        spec = _function_spec(f"authorizer-{name}", entry, where)
        pool = FunctionPool(spec, environment=dict(environment))
        authorizers[name] = LocalAuthorizer(name, pool, sources, float(ttl))
    pools: dict[tuple[str, str], FunctionPool] = {}
    routes: list[LocalRoute] = []
    for index, entry in enumerate(document.get("routes") or []):
        where = f"{path}: routes[{index}]"
        entry = _only(entry, {"route", "code_dir", "module", "authorizer"}, where)
        method, _, route_path = str(entry.get("route", "")).partition(" ")
        if method not in _METHODS or not route_path.startswith("/"):
            raise LocalRoutesError(f"{where}.route: '<METHOD> /path', not {entry.get('route')!r}")
        probes = ("GET", "POST") if method == "ANY" else (method,)
        if any(find_route(probe, route_path) for probe in probes):
            raise LocalRoutesError(f"{where}.route: the server's own route")
        if any(r.path == route_path and _overlap(r.method, method) for r in routes):
            raise LocalRoutesError(f"{where}.route: given twice")
        spec = _function_spec(f"route-{entry['code_dir']}-{entry['module']}", entry, where)
        pool = pools.setdefault((spec.code_dir, spec.module), FunctionPool(spec))
        authorizer = entry.get("authorizer")
        if authorizer is not None and authorizer not in authorizers:
            raise LocalRoutesError(f"{where}.authorizer: no authorizer {authorizer!r}")
        routes.append(
            LocalRoute(method, route_path, pool, authorizers[authorizer] if authorizer else None)
        )
    return LocalRoutes(tuple(routes))


def _overlap(one: str, other: str) -> bool:
    return one == other or "ANY" in (one, other)


def local_routes_from_env() -> LocalRoutes:
    path = os.environ.get(ENV_LOCAL_ROUTES)
    return read_local_routes(Path(path)) if path else LocalRoutes()


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 resets connections when many clients arrive at once.
    request_queue_size = 128
    daemon_threads = True


class LocalGateway:
    def __init__(
        self,
        host: str,
        port: int,
        domain_name: str | None = None,
        local_routes: LocalRoutes | None = None,
    ):
        self.pools = {name: FunctionPool(spec) for name, spec in FUNCTIONS.items()}
        # Other APIs' routes (LOCAL_GATEWAY_ROUTES, unless given).
        self.local_routes = local_routes_from_env() if local_routes is None else local_routes
        for extra in self.local_routes.routes:
            guard = f" (authorizer {extra.authorizer.name})" if extra.authorizer else ""
            sys.stderr.write(f"local route: {extra.method} {extra.path}{guard}\n")
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "local-apigw"
            sys_version = ""

            def log_message(self, format: str, *args: Any) -> None:
                # Paths only: query strings can carry codes and states.
                sys.stderr.write(f"{self.command} {urlsplit(self.path).path} -> {args[1]}\n")

            def _serve(self) -> None:
                gateway.serve(self)

            def __getattr__(self, name: str) -> Any:
                # Every method reaches the gateway (unknown ones get API Gateway's 404, not 501).
                if name.startswith("do_"):
                    return self._serve
                raise AttributeError(name)

        self.server = _Server((host, port), Handler)
        self.domain_name = domain_name or host_and_port(self.server.server_address)

    @property
    def url(self) -> str:
        return f"http://{host_and_port(self.server.server_address)}"

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        path = urlsplit(request.path).path
        # CORS is the functions' (oauth_core.http.cors): this gateway, like the deployed HTTP API,
        # has no CORS configuration that would answer preflights on every route.
        route = find_route(request.command, path)
        local = self.local_routes.find(request.command, path) if route is None else None
        length = int(request.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._write(
                request,
                413,
                {"content-type": "application/json"},
                b'{"message":"Request Entity Too Large"}',
            )
            request.close_connection = True
            return
        body = request.rfile.read(length) if length else b""
        if route is None and local is None:
            self._write(
                request, 404, {"content-type": "application/json"}, b'{"message":"Not Found"}'
            )
            return
        if route is not None:
            pool, route_key = self.pools[route.function], f"{route.method} {route.path}"
        else:
            assert local is not None
            pool, route_key = local.function, f"{local.method} {local.path}"
        event = build_event(
            request.command,
            request.path,
            list(request.headers.items()),
            body,
            request.client_address[0],
            self.domain_name,
            route_key,
        )
        if len(json.dumps(event)) > MAX_EVENT_BYTES:  # Lambda refuses the invocation
            self._write(
                request,
                413,
                {"content-type": "application/json"},
                b'{"message":"Request Too Long"}',
            )
            return
        if local is not None and local.authorizer is not None:
            refused = local.authorizer.authorize(event)
            if refused is not None:
                status, message = refused
                headers = {
                    "content-type": "application/json",
                    "apigw-requestid": event["requestContext"]["requestId"],
                }
                self._write(request, status, headers, message)
                return
        try:
            result = pool.invoke(event)
        except Exception:  # what API Gateway answers when a Lambda invocation fails
            self._write(
                request,
                500,
                {"content-type": "application/json"},
                b'{"message":"Internal Server Error"}',
            )
            raise
        payload = result.get("body") or ""
        data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
        headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        # As HTTP APIs do: the id the function's log lines carry as their correlation id.
        headers["apigw-requestid"] = event["requestContext"]["requestId"]
        self._write(
            request, int(result.get("statusCode", 200)), headers, data, result.get("cookies") or []
        )

    @staticmethod
    def _write(
        request: BaseHTTPRequestHandler,
        status: int,
        headers: dict[str, str],
        body: bytes,
        cookies: list[str] | None = None,
    ) -> None:
        request.send_response(status)
        for name, value in headers.items():
            if name not in ("content-length", "connection"):
                request.send_header(name, value)
        for cookie in cookies or []:
            request.send_header("Set-Cookie", cookie)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(body)

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def shutdown(self) -> None:
        self.server.shutdown()
