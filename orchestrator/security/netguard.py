"""Outbound HTTP for steps, with the SSRF guard of SPEC 7.

Every hop (the first request and each redirect) resolves the host once, refuses
private, loopback, link-local (cloud metadata included), multicast, reserved and
unspecified addresses unless ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS is on, and
then connects to the very address it checked (the host name is kept for the
Host header and TLS SNI), so a DNS answer that changes in between (rebinding)
cannot slip through. Response bodies are capped.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx
from django.conf import settings

from orchestrator.step_types.execution import StepError

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


def _blocked(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def resolve_checked(host: str, port: int) -> str:
    """One address for ``host`` that may be reached; StepError when none may."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise StepError(f"Could not resolve host {host!r}: {exc.strerror}", kind="network") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if settings.ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS:
        return str(addresses[0])
    for address in addresses:
        if _blocked(address):
            raise StepError(
                f"Refused to connect to {host} ({address}): private, loopback, link-local and metadata addresses "
                "are blocked (ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS=false).",
                kind="error",
            )
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
