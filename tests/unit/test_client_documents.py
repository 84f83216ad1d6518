"""SECURITY A17: client ID metadata documents, fetched without SSRF. The fetcher refuses what it
must not fetch before connecting anywhere (http, user information, a host resolving to any
private, loopback, link-local, multicast, reserved or unspecified address, IPv4-mapped ones
included), pins the connection to the address it checked, follows no redirect, and takes at most
5 KB of JSON; the client store turns a fit document into a public client and remembers unfit
ones briefly."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from oauth_core.admin.client_documents import DocumentClients
from oauth_core.clock import FixedClock
from oauth_core.http.outbound import FetchRefused, SafeFetcher
from oauth_core.storage.memory import MemoryClientStore


def resolving_to(*addresses: str) -> Any:
    def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.5", "172.16.3.4", "192.168.1.1", "127.0.0.1", "169.254.169.254", "0.0.0.0",
        "100.64.0.1", "224.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:10.0.0.1",
        "::ffff:127.0.0.1", "240.0.0.1", "2002:a9fe:a9fe::", "2002:7f00:1::",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2", "64:ff9b::a9fe:a9fe",
    ],
)  # fmt: skip
def test_a17_a_host_resolving_to_a_non_public_address_is_not_fetched(address: str) -> None:
    fetcher = SafeFetcher(resolve=resolving_to(address))
    with pytest.raises(FetchRefused, match="non-public"):
        fetcher.fetch_json("https://client.example.com/metadata.json")


def test_a17_one_bad_address_among_good_ones_is_enough_to_refuse() -> None:
    fetcher = SafeFetcher(resolve=resolving_to("93.184.216.34", "10.1.2.3"))
    with pytest.raises(FetchRefused, match="non-public"):
        fetcher.fetch_json("https://client.example.com/metadata.json")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://client.example.com/m.json", "only https"),
        ("ftp://client.example.com/m.json", "only https"),
        ("https://user:pw@client.example.com/m.json", "user information"),
        ("https://client.example.com@10.0.0.1/m.json", "user information"),
        ("https:///m.json", "no host"),
        ("https://client.example.com/m.json#x", "fragment"),
        ("https://client.example.com:99999/m.json", "port"),
    ],
)
def test_a17_urls_it_does_not_fetch(url: str, reason: str) -> None:
    fetcher = SafeFetcher(resolve=resolving_to("93.184.216.34"))
    with pytest.raises(FetchRefused, match=reason):
        fetcher.fetch_json(url)


def test_a17_loopback_only_where_the_stack_is_local() -> None:
    assert SafeFetcher(allow_loopback=True, resolve=resolving_to("127.0.0.1")).addresses(
        "localhost", 80
    ) == ["127.0.0.1"]
    with pytest.raises(FetchRefused):
        SafeFetcher(allow_loopback=True, resolve=resolving_to("10.0.0.1")).addresses("x", 80)


class Documents:
    """A loopback server answering what a test sets (a document, a redirect, a big body)."""

    def __init__(self) -> None:
        self.status, self.headers, self.body = 200, {"content-type": "application/json"}, b"{}"
        self.hosts: list[str] = []  # the Host header of each request
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hosts.append(self.headers.get("host", ""))
                self.send_response(owner.status)
                for name, value in owner.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/client.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def documents() -> Iterator[Documents]:
    served = Documents()
    yield served
    served.server.shutdown()


def local_fetcher() -> SafeFetcher:
    return SafeFetcher(allow_loopback=True, timeout=2)


def test_a17_no_redirect_is_followed(documents: Documents) -> None:
    documents.status, documents.headers = 302, {"location": "http://169.254.169.254/latest"}
    with pytest.raises(FetchRefused, match="302"):
        local_fetcher().fetch_json(documents.url)


def test_a17_the_host_header_names_the_port_of_the_url(documents: Documents) -> None:
    """RFC 9112 3.2: a server on a non-default port behind virtual hosting is found by it."""
    local_fetcher().fetch_json(documents.url)
    assert documents.hosts == [f"127.0.0.1:{documents.server.server_address[1]}"]


def test_a17_at_most_5_kb_of_json(documents: Documents) -> None:
    documents.body = json.dumps({"x": "y" * 6000}).encode()
    with pytest.raises(FetchRefused, match="larger"):
        local_fetcher().fetch_json(documents.url)
    documents.body, documents.headers = b"<html>", {"content-type": "text/html"}
    with pytest.raises(FetchRefused, match="application/json"):
        local_fetcher().fetch_json(documents.url)


def document_for(url: str, **fields: Any) -> bytes:
    return json.dumps(
        {"client_id": url, "redirect_uris": ["http://127.0.0.1:9/cb"], **fields}
    ).encode()


def test_a17_a_fit_document_is_a_public_client_named_by_its_host(documents: Documents) -> None:
    clock = FixedClock()
    clients = DocumentClients(MemoryClientStore(), local_fetcher(), "openid profile", clock)
    documents.body = document_for(
        documents.url, client_name="Google", scope="openid admin", token_endpoint_auth_method="x"
    )
    client = clients.get(documents.url)
    assert client is not None and client.client_id == documents.url
    assert client.is_public and client.scope == "openid"
    assert client.client_name == "Google (127.0.0.1)"  # the host that vouches for the name
    assert client.registration_id == documents.url


@pytest.mark.parametrize(
    "fields",
    [
        {"client_id": "https://someone-else.example.com/client.json"},
        {"redirect_uris": ["http://app.example.com/cb"]},
        {"redirect_uris": ["javascript:alert(1)"]},
        {"grant_types": ["client_credentials"]},
    ],
)
def test_a17_an_unfit_document_is_an_unknown_client_for_a_while(
    documents: Documents, fields: dict[str, Any]
) -> None:
    clock = FixedClock()
    clients = DocumentClients(MemoryClientStore(), local_fetcher(), "openid", clock)
    base = json.loads(document_for(documents.url))
    documents.body = json.dumps({**base, **fields}).encode()
    assert clients.get(documents.url) is None
    documents.body = document_for(documents.url)  # fixed, but remembered as unfit for a while
    assert clients.get(documents.url) is None
    clock.advance(61)
    assert clients.get(documents.url) is not None


def test_a17_registered_clients_are_looked_up_as_before() -> None:
    registered = MemoryClientStore()
    clients = DocumentClients(
        registered, SafeFetcher(resolve=resolving_to("10.0.0.1")), "", FixedClock()
    )
    assert clients.get("an-ordinary-id") is None


def test_a17_a_host_trickling_its_answer_is_cut_off_at_the_deadline() -> None:
    """The red team held a fetch 20 s with a 3 s timeout by sending a byte every 2 s."""
    import socket
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def trickle() -> None:
        conn, _ = listener.accept()
        conn.recv(1024)
        try:
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 40:
                conn.send(bytes([byte]))
                time.sleep(0.3)
        except OSError:
            pass
        finally:
            conn.close()

    threading.Thread(target=trickle, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(FetchRefused):
        SafeFetcher(allow_loopback=True, timeout=1.0).fetch_json(f"http://127.0.0.1:{port}/d")
    assert time.monotonic() - started < 3
    listener.close()
