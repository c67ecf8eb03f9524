"""Outbound HTTP for providers: the SSRF guard of orchestrator/security/netguard.py, plus credential hygiene.

* Redirects are followed by the guard, which drops credential headers as soon as a hop
  leaves the origin, so a redirect cannot carry an integration's secret to another host.
* Whatever comes back (body, headers, error messages) has the integration's secrets
  masked before anyone stores or shows it, in every encoding ``redaction`` knows (base64,
  hex, other letter case, ...): a server echoing the Authorization header back, however
  encoded, must not put the token into a step output.
"""

from __future__ import annotations

from typing import Any

from orchestrator.security.netguard import HttpResult, http_call
from orchestrator.security.redaction import redact_bytes, redact_text
from orchestrator.step_types.execution import StepError


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
    content = redact_bytes(result.content, secrets)
    headers = {k: redact_text(v, secrets) for k, v in result.headers.items()}
    return HttpResult(result.status_code, headers, content, redact_text(result.url, secrets))


def request(
    method: str, url: str, *, secrets: list[str], credential_headers: tuple[str, ...] = (), **kwargs: Any
) -> HttpResult:
    """One guarded request with the integration's credentials in ``headers``; secrets never come back.
    The guard drops credentials (and ``credential_headers``) when a redirect leaves the origin."""
    try:
        result = http_call(method, url, credential_headers=credential_headers, **kwargs)
    except StepError as exc:
        raise StepError(redact_text(exc.message, secrets), kind=exc.kind, output=scrub(exc.output, secrets)) from None
    return _scrub_result(result, secrets)


def joined(base_url: str, path: str) -> str:
    """``path`` under ``base_url`` (``https://x/v1`` + ``/models`` → ``https://x/v1/models``)."""
    return base_url.rstrip("/") + "/" + path.lstrip("/")
