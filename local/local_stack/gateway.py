"""A local API Gateway: each HTTP request becomes the HTTP API (payload 2.0) event the deployed
handler would get, and the same handler answers it.

Each function runs as a small pool of "containers" (separately imported handler modules) that
serve one request at a time, as Lambda does; that keeps Powertools' per-request state apart.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import queue
import sys
import threading
import time
import uuid
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


def load_handler_module(spec: FunctionSpec, instance: int) -> ModuleType:
    """Import a function's handler module afresh, as its own Lambda container would."""
    code_dir = REPO_ROOT / spec.code_dir
    if str(code_dir) not in sys.path:
        sys.path.insert(0, str(code_dir))
    name = f"_local_{spec.module}_{instance}"
    module_spec = importlib.util.spec_from_file_location(name, code_dir / f"{spec.module}.py")
    assert module_spec is not None
    assert module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    module_spec.loader.exec_module(module)
    return module


class FunctionPool:
    """Containers start on demand (a cold start), up to `size`; then requests wait for one."""

    def __init__(self, spec: FunctionSpec, size: int = CONTAINERS_PER_FUNCTION):
        self.spec = spec
        self._free: queue.Queue[ModuleType] = queue.Queue()
        self._started = 0
        self._size = size
        self._lock = threading.Lock()

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
        return load_handler_module(self.spec, instance)

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


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 resets connections when many clients arrive at once.
    request_queue_size = 128
    daemon_threads = True


class LocalGateway:
    def __init__(self, host: str, port: int, domain_name: str | None = None):
        self.pools = {name: FunctionPool(spec) for name, spec in FUNCTIONS.items()}
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
        if route is None:
            self._write(
                request, 404, {"content-type": "application/json"}, b'{"message":"Not Found"}'
            )
            return
        event = build_event(
            request.command,
            request.path,
            list(request.headers.items()),
            body,
            request.client_address[0],
            self.domain_name,
            f"{route.method} {route.path}",
        )
        if len(json.dumps(event)) > MAX_EVENT_BYTES:  # Lambda refuses the invocation
            self._write(
                request,
                413,
                {"content-type": "application/json"},
                b'{"message":"Request Too Long"}',
            )
            return
        try:
            result = self.pools[route.function].invoke(event)
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
