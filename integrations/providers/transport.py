"""Outbound HTTP for providers: the SSRF guard of orchestrator/netguard.py, plus credential hygiene.

* Redirects are followed hop by hop here (each hop through the guard), and credential
  headers are dropped as soon as a hop leaves the first request's origin, so a
  redirect cannot carry an integration's secret to another host.
* Whatever comes back (body, headers, error messages) has the integration's secrets
  masked before anyone stores or shows it: a server echoing the Authorization header
  back must not put the token into a step output.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

import httpx

from orchestrator.execution import StepError
from orchestrator.netguard import MAX_REDIRECTS, HttpResult, http_call
from orchestrator.redaction import MASK, redact_text

_REDIRECTS = (301, 302, 303, 307, 308)
_ALWAYS_CREDENTIALS = ("authorization", "proxy-authorization", "cookie")


def origin(url: str) -> tuple[str, str, int]:
    parsed = httpx.URL(url)
    return parsed.scheme, (parsed.host or "").lower(), parsed.port or (443 if parsed.scheme == "https" else 80)


def scrub_text(text: str, secrets: list[str]) -> str:
    return redact_text(text, secrets)


def scrub(value: Any, secrets: list[str]) -> Any:
    """``value`` with every secret (and secret-looking token) in its strings masked; keys kept."""
    if isinstance(value, dict):
        return {k: scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, secrets) for v in value]
    if isinstance(value, str):
        return redact_text(value, secrets)
    return value


def _scrub_result(result: HttpResult, secrets: list[str]) -> HttpResult:
    content = result.content
    for secret in secrets:
        if secret:
            content = content.replace(secret.encode(), MASK.encode())
    headers = {k: redact_text(v, secrets) for k, v in result.headers.items()}
    return HttpResult(result.status_code, headers, content, redact_text(result.url, secrets))


def request(
    method: str,
    url: str,
    *,
    secrets: list[str],
    headers: dict[str, str] | None = None,
    credential_headers: tuple[str, ...] = (),
    params: dict | None = None,
    json: object = None,
    content: str | bytes | None = None,
    data: dict | None = None,
    timeout: float = 30.0,
    follow_redirects: bool = True,
) -> HttpResult:
    """One guarded request with the integration's credentials in ``headers``; secrets never come back."""
    first = origin(url)
    dropped = {h.lower() for h in credential_headers} | set(_ALWAYS_CREDENTIALS)
    current, hop_headers = url, dict(headers or {})
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            result = http_call(
                method,
                current,
                headers=hop_headers,
                params=params,
                json=json,
                content=content,
                data=data,
                timeout=timeout,
                follow_redirects=False,
            )
            location = result.headers.get("location")
            if not (follow_redirects and result.status_code in _REDIRECTS and location):
                return _scrub_result(result, secrets)
            current, params = urljoin(result.url, location), None
            if origin(current) != first:
                hop_headers = {k: v for k, v in hop_headers.items() if k.lower() not in dropped}
            if result.status_code in (301, 302, 303) and method.upper() != "HEAD":
                method, json, content, data = "GET", None, None, None
    except StepError as exc:
        raise StepError(redact_text(exc.message, secrets), kind=exc.kind, output=scrub(exc.output, secrets)) from None
    raise StepError(f"Too many redirects (more than {MAX_REDIRECTS}).")


def joined(base_url: str, path: str) -> str:
    """``path`` under ``base_url`` (``https://x/v1`` + ``/models`` → ``https://x/v1/models``)."""
    return base_url.rstrip("/") + "/" + path.lstrip("/")
