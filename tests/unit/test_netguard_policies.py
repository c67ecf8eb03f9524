"""The SSRF guard on every hop of a redirect chain, and the response size cap (SPEC 7).

The guard refuses private addresses, so a test of it cannot simply call 127.0.0.1. What
lies outside the system is faked instead: DNS (``socket.getaddrinfo``) answers public
addresses for ``*.public.test`` names and private ones for the "internal" names, and the
network (``socket.create_connection``) routes every one of those addresses to one real
HTTP server on 127.0.0.1. A guard that let a hop through would reach that server, and
the server's record shows it.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from orchestrator.security.netguard import http_call
from orchestrator.step_types.execution import StepError

DNS = {
    "hop1.public.test": "93.184.215.14",
    "hop2.public.test": "93.184.215.15",
    "hop3.public.test": "93.184.215.16",
    "db.internal.test": "10.20.30.40",
    "metadata.internal.test": "169.254.169.254",
}


class Site:
    """One HTTP server; ``routes[path] = (status, headers, body)``; ``seen`` lists (host, path).
    Paths in ``unsized`` answer without a Content-Length."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.unsized: set[str] = set()
        self.seen: list[tuple[str, str]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                site.seen.append((self.headers.get("Host", "").split(":")[0], self.path))
                status, headers, body = site.routes.get(self.path, (200, {}, b"ok"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if self.path not in site.unsized:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def redirect(self, path: str, location: str) -> None:
        self.routes[path] = (302, {"Location": location}, b"")


@pytest.fixture
def site():
    site = Site()
    yield site
    site.server.shutdown()
    site.server.server_close()


@pytest.fixture
def fake_network(monkeypatch):
    """DNS answers from ``DNS``; connections to those addresses reach 127.0.0.1 (same port)."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection
    routed = set(DNS.values())

    def getaddrinfo(host, port, *args, **kwargs):
        if host in DNS:
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (DNS[host], int(port)))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    def create_connection(address, *args, **kwargs):
        host, port = address[:2]
        host = DNS.get(host, host)  # a connection by name resolves through the fake DNS too
        return real_connect(("127.0.0.1" if host in routed else host, port), *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)


@pytest.fixture
def guarded(settings, fake_network):
    settings.ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS = False


# --- SSRF: every hop -----------------------------------------------------------------------


def test_a_chain_of_public_hops_is_followed_to_its_end(guarded, site):
    site.redirect("/start", site.url("hop2.public.test", "/middle"))
    site.redirect("/middle", site.url("hop3.public.test", "/end"))

    result = http_call("GET", site.url("hop1.public.test", "/start"))

    assert (result.status_code, result.content) == (200, b"ok")
    assert site.seen == [("hop1.public.test", "/start"), ("hop2.public.test", "/middle"), ("hop3.public.test", "/end")]


def test_a_second_hop_to_a_private_address_is_refused_before_it_connects(guarded, site):
    site.redirect("/start", site.url("db.internal.test", "/secret"))

    with pytest.raises(StepError, match=r"Refused to connect to db\.internal\.test \(10\.20\.30\.40\)"):
        http_call("GET", site.url("hop1.public.test", "/start"))

    assert site.seen == [("hop1.public.test", "/start")]


def test_a_third_hop_to_the_metadata_address_is_refused_before_it_connects(guarded, site):
    site.redirect("/start", site.url("hop2.public.test", "/middle"))
    site.redirect("/middle", site.url("metadata.internal.test", "/latest/meta-data/"))

    with pytest.raises(StepError, match=r"Refused to connect to metadata\.internal\.test \(169\.254\.169\.254\)"):
        http_call("GET", site.url("hop1.public.test", "/start"))

    assert site.seen == [("hop1.public.test", "/start"), ("hop2.public.test", "/middle")]


def test_a_later_hop_to_a_loopback_literal_is_refused(guarded, site):
    site.redirect("/start", site.url("hop2.public.test", "/middle"))
    site.redirect("/middle", f"http://127.0.0.1:{site.port}/admin")

    with pytest.raises(StepError, match=r"Refused to connect to 127\.0\.0\.1"):
        http_call("GET", site.url("hop1.public.test", "/start"))

    assert ("127.0.0.1", "/admin") not in site.seen and len(site.seen) == 2


# --- ORCHESTRATOR_MAX_RESPONSE_BYTES ---------------------------------------------------------


@pytest.fixture
def small_limit(settings):
    settings.ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS = True
    settings.ORCHESTRATOR_MAX_RESPONSE_BYTES = 1000


def test_a_response_of_exactly_the_limit_is_read_whole(small_limit, site):
    site.routes["/exact"] = (200, {}, b"x" * 1000)

    assert len(http_call("GET", f"http://127.0.0.1:{site.port}/exact").content) == 1000


def test_a_response_one_byte_over_the_limit_fails_clearly(small_limit, site):
    site.routes["/over"] = (200, {}, b"x" * 1001)

    with pytest.raises(StepError) as raised:
        http_call("GET", f"http://127.0.0.1:{site.port}/over")

    assert raised.value.message == "The response is larger than 1000 bytes (ORCHESTRATOR_MAX_RESPONSE_BYTES)."


def test_a_response_without_a_length_is_cut_off_at_the_limit_too(small_limit, site):
    # HTTP/1.0 without Content-Length: the body runs until the server closes the connection.
    site.routes["/stream"] = (200, {}, b"y" * 50_000)
    site.unsized.add("/stream")

    with pytest.raises(StepError, match="larger than 1000 bytes"):
        http_call("GET", f"http://127.0.0.1:{site.port}/stream")
