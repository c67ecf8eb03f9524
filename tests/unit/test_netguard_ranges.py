"""The SSRF guard, range by range and encoding by encoding (issue 11, item 1).

No traffic leaves the machine: the guard's resolver (``netguard.getaddrinfo``) is replaced by
one that answers from ``DNS`` (and parses IP literals without asking anyone), and any socket
connection to something other than 127.0.0.1 fails the test. Redirect hops are served by a
real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote

import pytest

from orchestrator.security import netguard
from orchestrator.security.netguard import http_call, resolve_checked
from orchestrator.step_types.execution import StepError

# name → the address the fake resolver answers; (refused without the setting, refused with it, why)
ALWAYS = "refused always"
PRIVATE_ONLY = "ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS=false"
METADATA = "metadata"
CASES = {
    # IPv4 ranges
    "loopback": ("127.0.0.1", PRIVATE_ONLY),
    "loopback-other": ("127.8.9.10", PRIVATE_ONLY),
    "rfc1918-10": ("10.20.30.40", PRIVATE_ONLY),
    "rfc1918-172": ("172.16.5.4", PRIVATE_ONLY),
    "rfc1918-192": ("192.168.1.1", PRIVATE_ONLY),
    "shared-rfc6598": ("100.64.0.1", PRIVATE_ONLY),
    "shared-rfc6598-top": ("100.127.255.254", PRIVATE_ONLY),
    "this-network": ("0.0.0.0", ALWAYS),
    "link-local": ("169.254.1.1", ALWAYS),
    "ietf-protocol": ("192.0.0.8", ALWAYS),
    "documentation": ("192.0.2.1", ALWAYS),
    "benchmarking": ("198.18.0.1", ALWAYS),
    "multicast": ("224.0.0.251", ALWAYS),
    "reserved": ("240.0.0.1", ALWAYS),
    "broadcast": ("255.255.255.255", ALWAYS),
    # cloud metadata, refused even with the setting
    "metadata-aws": ("169.254.169.254", METADATA),
    "metadata-ecs": ("169.254.170.2", METADATA),
    "metadata-alibaba": ("100.100.100.200", METADATA),
    "metadata-aws-v6": ("fd00:ec2::254", METADATA),
    "metadata-mapped": ("::ffff:169.254.169.254", METADATA),
    "metadata-alibaba-mapped": ("::ffff:100.100.100.200", METADATA),
    "metadata-6to4": ("2002:a9fe:a9fe::", "embeds the cloud metadata address 169.254.169.254 (6to4)"),
    "metadata-nat64": ("64:ff9b::6464:64c8", "embeds the cloud metadata address 100.100.100.200 (NAT64)"),
    # IPv6 ranges
    "v6-loopback": ("::1", PRIVATE_ONLY),
    "v6-unspecified": ("::", ALWAYS),
    "v6-ula": ("fd12:3456::1", PRIVATE_ONLY),
    "v6-link-local": ("fe80::1", ALWAYS),
    "v6-site-local": ("fec0::1", ALWAYS),
    "v6-multicast": ("ff02::1", ALWAYS),
    "v6-documentation": ("2001:db8::1", ALWAYS),
    "v6-discard": ("100::1", ALWAYS),
    # IPv4 inside IPv6
    "mapped-loopback": ("::ffff:127.0.0.1", PRIVATE_ONLY),
    "mapped-shared": ("::ffff:100.64.0.1", PRIVATE_ONLY),
    "compatible-loopback": ("::127.0.0.1", "embeds 127.0.0.1 (IPv4-compatible)"),
    "compatible-private": ("::10.0.0.1", "embeds 10.0.0.1 (IPv4-compatible)"),
    "translated-loopback": ("::ffff:0:127.0.0.1", "embeds 127.0.0.1 (IPv4-translated)"),
    "6to4-loopback": ("2002:7f00:1::", "embeds 127.0.0.1 (6to4)"),
    "6to4-private": ("2002:c0a8:101::1", "embeds 192.168.1.1 (6to4)"),
    "6to4-shared": ("2002:6440:1::", "embeds 100.64.0.1 (6to4)"),
    "nat64-loopback": ("64:ff9b::7f00:1", "embeds 127.0.0.1 (NAT64)"),
    "nat64-private": ("64:ff9b::a00:1", "embeds 10.0.0.1 (NAT64)"),
    "nat64-local-use": ("64:ff9b:1::7f00:1", "embeds 127.0.0.1 (local-use NAT64)"),
    "nat64-local-use-public": ("64:ff9b:1::808:808", ALWAYS),
    # Teredo: server 127.0.0.1; client 10.0.0.1 obfuscated (bits inverted) → f5ff:fffe
    "teredo-server": ("2001:0:7f00:1::", "embeds 127.0.0.1 (Teredo server)"),
    "teredo-client": ("2001:0:808:808:0:0:f5ff:fffe", "embeds 10.0.0.1 (Teredo client)"),
    "teredo-public": ("2001:0:808:808:0:0:f7f7:f7f7", ALWAYS),
    "isatap-loopback": ("2606:4700::5efe:7f00:1", "embeds 127.0.0.1 (ISATAP)"),
    "isatap-private-u": ("2606:4700::200:5efe:a00:1", "embeds 10.0.0.1 (ISATAP)"),
}
ALLOWED = {
    "public-v4": "93.184.215.14",
    "public-v6": "2606:4700:4700::1111",
    "mapped-public": "::ffff:93.184.215.14",
    "6to4-public": "2002:5db8:d70e::1",
    "nat64-public": "64:ff9b::5db8:d70e",
    "isatap-public": "2606:4700::5efe:5db8:d70e",
}
PRIVATE_ALLOWED = {name for name, (_, why) in CASES.items() if why == PRIVATE_ONLY}


def _address_of(name: str) -> str:
    return CASES[name][0] if name in CASES else ALLOWED[name]


@pytest.fixture
def offline(monkeypatch):
    """Names ``<case>.test`` resolve to the case's address; literals are parsed; nothing else resolves,
    and no socket may connect anywhere but 127.0.0.1."""

    def getaddrinfo(host, port, **kwargs):
        name = host.removesuffix(".test")
        if host.endswith(".test") and (name in CASES or name in ALLOWED):
            address = ipaddress.ip_address(_address_of(name))
        else:
            address = ipaddress.ip_address(host.strip("[]"))  # ValueError for any other name: no DNS
        family = socket.AF_INET if address.version == 4 else socket.AF_INET6
        sockaddr = (str(address), int(port)) if address.version == 4 else (str(address), int(port), 0, 0)
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]

    real_connect = socket.create_connection

    def create_connection(address, *args, **kwargs):
        assert address[0] == "127.0.0.1", f"the guard let a connection to {address[0]} through"
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(netguard, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)


def _expected(why: str, allow_private: bool) -> str:
    if why == METADATA:
        return "a cloud metadata address, refused even with ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS=true"
    if why == PRIVATE_ONLY:
        return "(ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS=false)"
    return why


# --- the first hop -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_first_hop_to_a_name_resolving_into_a_refused_range_is_refused(name, offline, settings):
    settings.ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS = False
    address, why = CASES[name]

    with pytest.raises(StepError) as raised:
        http_call("GET", f"http://{name}.test/")

    assert raised.value.message.startswith(f"Refused to connect to {name}.test ({ipaddress.ip_address(address)}): ")
    assert _expected(why, False) in raised.value.message


@pytest.mark.parametrize("name", sorted(set(CASES) - PRIVATE_ALLOWED))
def test_allowing_private_networks_still_refuses_metadata_embeddings_and_special_ranges(name, offline, settings):
    settings.ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS = True
    address, why = CASES[name]

    with pytest.raises(StepError) as raised:
        resolve_checked(f"{name}.test", 80)

    assert _expected(why, True) in raised.value.message


@pytest.mark.parametrize("name", sorted(PRIVATE_ALLOWED))
def test_allowing_private_networks_lets_plain_loopback_private_and_shared_addresses_through(name, offline, settings):
    settings.ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS = True

    assert resolve_checked(f"{name}.test", 80) == str(ipaddress.ip_address(CASES[name][0]))


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_globally_routable_addresses_and_their_public_embeddings_pass(name, offline, settings):
    settings.ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS = False

    assert resolve_checked(f"{name}.test", 443) == str(ipaddress.ip_address(ALLOWED[name]))


@pytest.mark.parametrize(
    "literal",
    ["http://[2002:7f00:1::]/", "http://[::ffff:100.100.100.200]/", "http://100.64.0.1/", "http://[64:ff9b::7f00:1]/"],
)
def test_an_address_literal_in_the_url_is_judged_the_same(literal, offline, settings):
    settings.ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS = False

    with pytest.raises(StepError, match="^Refused to connect to "):
        http_call("GET", literal)


def test_one_refused_address_among_the_answers_refuses_the_name(monkeypatch, settings):
    settings.ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS = False
    answers = [("93.184.215.14", 80), ("2002:7f00:1::", 80, 0, 0)]
    monkeypatch.setattr(
        netguard, "getaddrinfo", lambda host, port, **kw: [(0, socket.SOCK_STREAM, 6, "", a) for a in answers]
    )

    with pytest.raises(StepError, match=r"\(2002:7f00:1::\): it embeds 127\.0\.0\.1 \(6to4\)"):
        resolve_checked("mixed.test", 80)


# --- a redirect hop -----------------------------------------------------------------------------


@pytest.fixture
def redirector():
    """A server on 127.0.0.1: ``/go?to=<quoted url>`` answers 302 to that URL; ``seen`` lists the paths asked."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(self.path)
            target = unquote(self.path.split("?to=", 1)[1]) if "?to=" in self.path else None
            self.send_response(302 if target else 200)
            if target:
                self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.seen = seen
    yield server
    server.shutdown()
    server.server_close()


REDIRECT_TARGETS = {
    "6to4-literal": ("http://[2002:7f00:1::]/", "embeds 127.0.0.1 (6to4)"),
    "nat64-literal": ("http://[64:ff9b::7f00:1]/", "embeds 127.0.0.1 (NAT64)"),
    "nat64-local-literal": ("http://[64:ff9b:1::7f00:1]/", "embeds 127.0.0.1 (local-use NAT64)"),
    "compatible-literal": ("http://[::127.0.0.1]/", "embeds 127.0.0.1 (IPv4-compatible)"),
    "translated-literal": ("http://[::ffff:0:127.0.0.1]/", "embeds 127.0.0.1 (IPv4-translated)"),
    "teredo-literal": ("http://[2001:0:808:808::f5ff:fffe]/", "embeds 10.0.0.1 (Teredo client)"),
    "isatap-literal": ("http://[2606:4700::5efe:7f00:1]/", "embeds 127.0.0.1 (ISATAP)"),
    "metadata-literal": ("http://169.254.169.254/latest/meta-data/", "cloud metadata address"),
    "metadata-mapped-literal": ("http://[::ffff:100.100.100.200]/", "cloud metadata address"),
    "metadata-v6-literal": ("http://[fd00:ec2::254]/", "cloud metadata address"),
    "link-local-literal": ("http://169.254.1.1/", ALWAYS),
    "6to4-by-name": ("http://6to4-loopback.test/", "embeds 127.0.0.1 (6to4)"),
    "teredo-by-name": ("http://teredo-server.test/", "embeds 127.0.0.1 (Teredo server)"),
    "metadata-by-name": ("http://metadata-alibaba.test/", "cloud metadata address"),
}


@pytest.mark.parametrize("name", sorted(REDIRECT_TARGETS))
def test_a_redirect_into_a_refused_range_is_refused_even_with_private_networks_allowed(
    name, offline, settings, redirector
):
    # The first hop (127.0.0.1) is allowed by the setting; the hop it redirects to is not.
    settings.ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS = True
    target, why = REDIRECT_TARGETS[name]

    with pytest.raises(StepError, match="^Refused to connect to ") as raised:
        http_call("GET", f"http://127.0.0.1:{redirector.server_address[1]}/go?to={quote(target, safe='')}")

    assert why in raised.value.message
    assert len(redirector.seen) == 1  # the first hop only


def test_a_redirect_to_a_shared_address_is_refused_without_the_setting(offline, settings, redirector, monkeypatch):
    # The first hop must pass without the setting: a public name routed to the local server.
    settings.ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS = False
    port = redirector.server_address[1]
    fake = netguard.getaddrinfo

    def getaddrinfo(host, port_, **kwargs):
        if host == "public-v4.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", int(port_)))]
        return fake(host, port_, **kwargs)

    real_connect = socket.create_connection

    def create_connection(address, *args, **kwargs):
        assert address[0] == "93.184.215.14", f"the guard let a connection to {address[0]} through"
        return real_connect(("127.0.0.1", address[1]), *args, **kwargs)

    monkeypatch.setattr(netguard, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)

    with pytest.raises(StepError, match=r"Refused to connect to 100\.64\.0\.1 \(100\.64\.0\.1\)"):
        http_call("GET", f"http://public-v4.test:{port}/go?to={quote('http://100.64.0.1/', safe='')}")

    assert len(redirector.seen) == 1
