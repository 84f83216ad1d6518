"""Fetching a document a caller names (a client ID metadata document), posting to a URL a
client registered (its back-channel logout endpoint), and talking to an upstream identity
provider an operator declared (its discovery document, keys and token endpoint), without
becoming anyone's proxy into places only this server can reach (SSRF).

The URL must be https, with no user information; its host is resolved once and every address
must be public (not private, loopback, link-local, multicast, reserved or unspecified; loopback
is allowed only where the stack says it is local development), and the connection is made to an
address so checked (the TLS name is still the host's, so the certificate is checked as usual):
a second resolution cannot point it elsewhere. No redirect is followed; the answer must be 200
JSON of at most `max_bytes`, within `timeout` seconds for each step.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

Resolve = Callable[[str, int], list[str]]


class FetchRefused(Exception):
    """The URL or its answer is not one this server fetches or accepts; the message says why."""


class Unreachable(FetchRefused):
    """A URL this server may call, which did not answer in time (or at all): worth a retry."""


def resolve_host(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# IPv6 forms that carry an IPv4 address a gateway may deliver to (6to4, Teredo, NAT64): refused
# outright, whatever the Python version's idea of "global" (3.11 and 3.12 pass some of them).
_TUNNELS = tuple(
    ipaddress.ip_network(prefix) for prefix in ("2002::/16", "2001::/32", "64:ff9b::/96")
)


def _allowed(address: str, allow_loopback: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv6Address) and any(ip in net for net in _TUNNELS):
        return False
    if ip.is_loopback:
        return allow_loopback
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


class SafeFetcher:
    def __init__(
        self,
        *,
        allow_loopback: bool = False,
        timeout: float = 3.0,
        max_bytes: int = 5 * 1024,
        resolve: Resolve = resolve_host,
        ssl_context: ssl.SSLContext | None = None,
        content_types: tuple[str, ...] = ("application/json",),
    ):
        self._allow_loopback = allow_loopback
        self._content_types = content_types
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._resolve = resolve
        self._ssl = ssl_context or ssl.create_default_context()

    def check_url(self, url: str) -> tuple[str, str, int, str]:
        """(scheme, host, port, path and query) of a URL this server may fetch."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        loopback_http = parts.scheme == "http" and self._allow_loopback
        if parts.scheme != "https" and not loopback_http:
            raise FetchRefused("only https URLs are fetched")
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise FetchRefused("the URL carries user information")
        if not host or parts.fragment:
            raise FetchRefused("the URL names no host, or has a fragment")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise FetchRefused("the URL's port is not a number") from exc
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return parts.scheme, host, port, target

    def addresses(self, host: str, port: int) -> list[str]:
        """The host's addresses, all of which may be connected to (else FetchRefused)."""
        try:
            found = self._resolve(host, port)
        except OSError as exc:
            raise FetchRefused("the host does not resolve") from exc
        if not found:
            raise FetchRefused("the host does not resolve")
        for address in found:
            if not _allowed(address, self._allow_loopback):
                raise FetchRefused(f"the host resolves to a non-public address ({address})")
        return found

    @contextlib.contextmanager
    def _connection(self, url: str) -> Iterator[tuple[http.client.HTTPConnection, str, str]]:
        """A connection to the checked address of a URL this server may call (the connection,
        the Host header's value, the request target), under one deadline for the whole exchange: a
        host trickling a byte at a time would otherwise hold the function as long as each read
        stays under the per-read timeout."""
        scheme, host, port, target = self.check_url(url)
        address = self.addresses(host, port)[0]
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = _PinnedHTTPSConnection(address, host, port, self._timeout, self._ssl)
        else:
            connection = http.client.HTTPConnection(address, port, timeout=self._timeout)
        deadline = threading.Timer(self._timeout, _abort, (connection,))
        deadline.daemon = True
        deadline.start()
        # RFC 9112 3.2: Host is the URL's authority, a port other than the scheme's included.
        name = f"[{host}]" if ":" in host else host
        authority = name if port == (443 if scheme == "https" else 80) else f"{name}:{port}"
        try:
            yield connection, authority, target
        finally:
            deadline.cancel()
            connection.close()

    def fetch_json(self, url: str) -> dict[str, Any]:
        with self._connection(url) as (connection, host, target):
            try:
                accept = ", ".join(self._content_types)
                connection.request("GET", target, headers={"Host": host, "Accept": accept})
                response = connection.getresponse()
                if response.status != 200:
                    raise FetchRefused(f"the document answered {response.status}, not 200")
                content_type = (response.getheader("content-type") or "").split(";")[0].strip()
                if content_type not in self._content_types:
                    raise FetchRefused("the document is not application/json")
                body = response.read(self._max_bytes + 1)
            except (OSError, http.client.HTTPException) as exc:
                kind = type(exc).__name__
                raise FetchRefused(f"the document could not be fetched ({kind})") from exc
        if len(body) > self._max_bytes:
            raise FetchRefused(f"the document is larger than {self._max_bytes} bytes")
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise FetchRefused("the document is not JSON") from exc
        if not isinstance(document, dict):
            raise FetchRefused("the document is not a JSON object")
        return document

    def post_form(self, url: str, fields: dict[str, str]) -> int:
        """POST `fields` as a form (application/x-www-form-urlencoded) to a URL this server may
        call, under the same rules as a fetch (no redirect followed, one deadline for the whole
        exchange); the answer's status. Its body is read only up to `max_bytes`, and ignored."""
        body = urlencode(fields).encode("ascii")
        with self._connection(url) as (connection, host, target):
            headers = {
                "Host": host,
                "Content-Type": "application/x-www-form-urlencoded",
                "Cache-Control": "no-store",
            }
            try:
                connection.request("POST", target, body=body, headers=headers)
                response = connection.getresponse()
                response.read(self._max_bytes)
                return response.status
            except (OSError, http.client.HTTPException) as exc:
                kind = type(exc).__name__
                raise Unreachable(f"the URL could not be reached ({kind})") from exc

    def post_form_json(
        self, url: str, fields: dict[str, str], headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """POST a form and read a JSON answer, as a token endpoint gives one (RFC 6749 5.1,
        5.2): its status and its JSON object ({} for an answer that is none), under the rules
        of a fetch (no redirect followed, one deadline, at most `max_bytes`). `headers` may
        carry an Authorization header: it is sent to this URL only, never logged."""
        scheme, host, port, target = self.check_url(url)
        address = self.addresses(host, port)[0]
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = _PinnedHTTPSConnection(address, host, port, self._timeout, self._ssl)
        else:
            connection = http.client.HTTPConnection(address, port, timeout=self._timeout)
        deadline = threading.Timer(self._timeout, _abort, (connection,))
        deadline.daemon = True
        deadline.start()
        sent = {
            **(headers or {}),
            "Host": host,
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "Cache-Control": "no-store",
        }
        try:
            connection.request("POST", target, body=urlencode(fields).encode(), headers=sent)
            response = connection.getresponse()
            content_type = (response.getheader("content-type") or "").split(";")[0].strip()
            body = response.read(self._max_bytes + 1)
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            raise Unreachable(f"the URL could not be reached ({type(exc).__name__})") from exc
        finally:
            deadline.cancel()
            connection.close()
        if len(body) > self._max_bytes:
            raise FetchRefused(f"the answer is larger than {self._max_bytes} bytes")
        if content_type not in self._content_types:
            return status, {}
        try:
            document = json.loads(body)
        except ValueError:
            return status, {}
        return status, document if isinstance(document, dict) else {}


def _abort(connection: http.client.HTTPConnection) -> None:
    """Wake a read blocked on a connection past its deadline (shutdown, not close, does)."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address, with the host's name for SNI and certificate checks."""

    def __init__(self, address: str, host: str, port: int, timeout: float, context: ssl.SSLContext):
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._context = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
