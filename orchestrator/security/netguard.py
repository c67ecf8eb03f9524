"""Outbound HTTP for steps, with the SSRF guard of SPEC 7.

Every hop (the first request and each redirect) resolves the host once, checks every
address it resolves to (``address_refusal``), and then connects to the very address it
checked (the host name is kept for the Host header and TLS SNI), so a DNS answer that
changes in between (rebinding) cannot slip through. Response bodies are capped.

The rules, in order (README "Outbound HTTP"):

1. ``::ffff:a.b.c.d`` (IPv4-mapped) is the IPv4 address itself: a dual-stack socket
   connects to it, so it is judged as that address.
2. Cloud metadata addresses (``METADATA``) are refused always, even with
   ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS=true.
3. An IPv6 address that embeds an IPv4 address (IPv4-compatible ``::a.b.c.d``, IPv4-translated
   ``::ffff:0:a.b.c.d``, 6to4 ``2002::/16``, NAT64 ``64:ff9b::/96`` and ``64:ff9b:1::/48``,
   Teredo ``2001::/32`` (server and de-obfuscated client), ISATAP interface IDs) is refused
   when any embedded address is not globally routable, whatever the setting says: a
   translator or relay would take it there, so it is never "our own" private network.
4. Anything else must be globally routable: ``ipaddress``'s ``is_global`` and none of the
   special-purpose ranges of the IANA registries (``_NOT_GLOBAL``: shared 100.64.0.0/10,
   documentation, benchmarking, reserved, multicast, link-local, ULA, Teredo, local-use
   NAT64, ...), listed here so the verdict does not depend on the Python version.
5. ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS=true (development, tests) lets through plain
   loopback, RFC 1918, ULA (fc00::/7) and shared (100.64.0.0/10) addresses only; never
   metadata, link-local, multicast, unspecified or reserved ones, nor any of them embedded.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx
from django.conf import settings

from orchestrator.step_types.execution import StepError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def getaddrinfo(host: str, port: int, **kwargs: object) -> list:
    """The resolver the guard asks (a seam: tests put a fake one here, so no query leaves the machine)."""
    return socket.getaddrinfo(host, port, **kwargs)


MAX_REDIRECTS = 5


@dataclass
class HttpResult:
    status_code: int
    headers: dict[str, str]
    content: bytes
    url: str

    def body(self) -> object:
        """JSON when the response says so (and parses), else text."""
        import json

        content_type = self.headers.get("content-type", "")
        text = self.content.decode("utf-8", errors="replace")
        if "json" in content_type or text[:1] in ("{", "["):
            try:
                return json.loads(text)
            except ValueError:
                return text
        return text


def _nets(*cidrs: str) -> tuple:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.170.23",  # AWS EKS pod identity
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd00:ec2::23",  # AWS EKS pod identity over IPv6
    )
)

# Special-purpose ranges (IANA IPv4/IPv6 special-purpose registries) that are not globally
# reachable, whatever ``is_global`` says in this Python version.
_NOT_GLOBAL = _nets(
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.31.196.0/24",
    "192.52.193.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "192.175.48.0/24",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/8",  # unspecified, loopback, IPv4-mapped/compatible/translated (NAT64 64:ff9b::/96 is judged by its v4)
    "64:ff9b:1::/48",
    "100::/64",
    "2001::/23",
    "2001:db8::/32",
    "3fff::/20",
    "5f00::/16",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
)
# What ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS=true lets through: the machine and its private networks.
_PRIVATE = _nets("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "::1/128", "fc00::/7")

_COMPATIBLE = ipaddress.ip_network("::/96")
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_SIXTOFOUR = ipaddress.ip_network("2002::/16")


def _routable(address: IPAddress) -> bool:
    return address.is_global and not any(address in net for net in _NOT_GLOBAL)


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """Every IPv4 address ``address`` carries, named by the encoding that carries it."""
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    found: list[tuple[str, ipaddress.IPv4Address]] = []
    if address in _COMPATIBLE and int(address) > 1:
        found.append(("IPv4-compatible", low32))
    if address in _TRANSLATED:
        found.append(("IPv4-translated", low32))
    if address in _NAT64:
        found.append(("NAT64", low32))
    if address in _NAT64_LOCAL:
        found.append(("local-use NAT64", low32))
    if address.sixtofour is not None:
        found.append(("6to4", address.sixtofour))
    if address.teredo is not None:
        server, client = address.teredo
        found += [("Teredo server", server), ("Teredo client", client)]
    if (int(address) >> 32) & 0xFDFFFFFF == 0x00005EFE:  # ISATAP interface ID (::0:5efe: or ::200:5efe:)
        found.append(("ISATAP", low32))
    return found


def address_refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why ``address`` may not be connected to, or None when it may (the rules in the module doc)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address in METADATA:
        return "a cloud metadata address, refused even with ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS=true"
    embedded = embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else []
    for encoding, inner in embedded:
        if inner in METADATA:
            return f"it embeds the cloud metadata address {inner} ({encoding}); refused always"
        if not _routable(inner):
            return f"it embeds {inner} ({encoding}), which is not globally routable; refused always"
    if _routable(address) or address in _NAT64 or address in _SIXTOFOUR:
        return None  # the two relays of public IPv4 addresses (whatever is_global says of their prefix)
    if any(address in net for net in _PRIVATE):
        if allow_private:
            return None
        return "private, loopback and shared addresses are blocked (ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS=false)"
    return "not a globally routable address (link-local, reserved, multicast or special-purpose); refused always"


def resolve_checked(host: str, port: int) -> str:
    """One address for ``host`` that may be reached; StepError when none may (any refused one refuses all)."""
    try:
        infos = getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise StepError(f"Could not resolve host {host!r}: {exc.strerror}", kind="network") from exc
    except UnicodeError as exc:
        raise StepError(f"Could not resolve host {host!r}: {exc}", kind="network") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise StepError(f"Could not resolve host {host!r}: no address.", kind="network")
    allow_private = settings.ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS
    for address in addresses:
        reason = address_refusal(address, allow_private=allow_private)
        if reason:
            raise StepError(f"Refused to connect to {host} ({address}): {reason}.", kind="error")
    return str(addresses[0])


def _pinned(url: httpx.URL) -> tuple[httpx.URL, dict]:
    if url.scheme not in ("http", "https"):
        raise StepError(f"Only http and https URLs are allowed, not {url.scheme!r}.")
    if not url.host:
        raise StepError(f"The URL {str(url)!r} has no host.")
    port = url.port or (443 if url.scheme == "https" else 80)
    address = resolve_checked(url.host, port)
    host_for_url = f"[{address}]" if ":" in address else address
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    return url.copy_with(host=host_for_url.strip("[]")), extensions


_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


def origin(url: str | httpx.URL) -> tuple[str, str, int]:
    """(scheme, host, port) with the default port filled in: what credentials are scoped to."""
    url = httpx.URL(url)
    return url.scheme, url.host.lower(), url.port or (443 if url.scheme == "https" else 80)


def http_call(
    method: str,
    url: str,
    *,
    headers: dict | None = None,
    params: dict | None = None,
    json: object = None,
    content: str | bytes | None = None,
    data: dict | None = None,
    timeout: float = 30.0,
    follow_redirects: bool = True,
    credential_headers: tuple[str, ...] = (),
) -> HttpResult:
    """One guarded request, following redirects hop by hop. Network failures raise StepError."""
    limit = settings.ORCHESTRATOR_MAX_RESPONSE_BYTES
    current = httpx.URL(url)
    request_headers = dict(headers or {})
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, verify=True) as client:
            for _hop in range(MAX_REDIRECTS + 1):
                pinned, extensions = _pinned(current)
                hop_headers = {**request_headers, "Host": current.netloc.decode()}
                request = client.build_request(
                    method,
                    pinned,
                    headers=hop_headers,
                    params=params,
                    json=json,
                    content=content,
                    data=data,
                    extensions=extensions,
                )
                response = client.send(request, stream=True)
                try:
                    chunks, size = [], 0
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > limit:
                            raise StepError(
                                f"The response is larger than {limit} bytes (ORCHESTRATOR_MAX_RESPONSE_BYTES)."
                            )
                        chunks.append(chunk)
                finally:
                    response.close()
                if follow_redirects and response.is_redirect and "location" in response.headers:
                    following = httpx.URL(urljoin(str(current), response.headers["location"]))
                    if origin(following) != origin(current):
                        # Credentials are for the origin they were written for, as browsers and httpx do;
                        # ``credential_headers`` names the others (an integration's own header, say).
                        dropped = _CREDENTIAL_HEADERS | {h.lower() for h in credential_headers}
                        request_headers = {k: v for k, v in request_headers.items() if k.lower() not in dropped}
                    current, params = following, None  # the Location already carries its query
                    if response.status_code in (301, 302, 303) and method.upper() != "HEAD":
                        method, json, content, data = "GET", None, None, None
                    continue
                return HttpResult(response.status_code, dict(response.headers), b"".join(chunks), str(current))
    except httpx.TimeoutException as exc:
        raise StepError(f"The request to {current.host} timed out after {timeout} s.", kind="timeout") from exc
    except httpx.TransportError as exc:
        raise StepError(f"The request to {current.host} failed: {exc}", kind="network") from exc
    except httpx.InvalidURL as exc:
        raise StepError(f"Invalid URL: {exc}") from exc
    raise StepError(f"Too many redirects (more than {MAX_REDIRECTS}).")
