"""A generic HTTP API behind bearer, basic or header auth, rooted at ``base_url``."""

from __future__ import annotations

import base64

import httpx

from integrations.providers import transport
from orchestrator.security.netguard import HttpResult, origin
from orchestrator.step_types.execution import StepError, status_kind


def auth_headers(config: dict) -> dict[str, str]:
    auth_type = config.get("auth_type")
    if auth_type == "bearer":
        return {"Authorization": f"Bearer {config.get('token', '')}"}
    if auth_type == "basic":
        pair = f"{config.get('username', '')}:{config.get('password', '')}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}
    if auth_type == "header":
        return {str(config["header_name"]): str(config.get("header_value", ""))}
    return {}


def credential_headers(config: dict) -> tuple[str, ...]:
    return tuple(auth_headers(config))


def resolve_url(config: dict, url: str) -> str:
    """A relative ``url`` under ``base_url``; an absolute one only on the base URL's origin,
    because the integration's credentials go with the request."""
    base = config["base_url"]
    if "://" not in url.split("?", 1)[0]:
        return transport.joined(base, url) if url else base
    try:
        same = origin(url) == origin(base)
    except httpx.InvalidURL as exc:
        raise StepError(f"Invalid URL: {exc}") from None
    if not same:
        raise StepError(
            f"{url} is not on the integration's base URL ({base}); its credentials are only sent there. "
            "Use a path relative to the base URL."
        )
    return url


def call(
    config: dict, method: str, url: str, *, secrets: list[str], headers: dict | None = None, **kwargs: object
) -> HttpResult:
    """``method url`` with the integration's auth (which wins over a same-named header given here)."""
    merged = {str(k): str(v) for k, v in (headers or {}).items()}
    auth = auth_headers(config)
    merged = {k: v for k, v in merged.items() if k.lower() not in {a.lower() for a in auth}} | auth
    return transport.request(
        method,
        resolve_url(config, url),
        secrets=secrets,
        headers=merged,
        credential_headers=credential_headers(config),
        **kwargs,
    )


def check(config: dict, *, secrets: list[str], timeout: float) -> str:
    result = call(config, "GET", config["base_url"], secrets=secrets, timeout=timeout)
    if result.status_code in (401, 403):
        raise StepError(f"GET {config['base_url']} answered {result.status_code}: the credentials were rejected.")
    if result.status_code >= 400:
        raise StepError(f"GET {config['base_url']} answered {result.status_code}.")
    return f"GET {config['base_url']} answered {result.status_code}."


def request(config: dict, params: dict, *, secrets: list[str], timeout: float) -> dict:
    """The ``http.request`` action: ``method``, ``path`` (or ``url``), ``headers``, ``query``,
    ``json`` / ``body`` / ``form``, ``expected_status`` → ``{status_code, headers, body}``."""
    method = str(params.get("method") or "GET").upper()
    target = str(params.get("path") or params.get("url") or "")
    body = params.get("body")
    result = call(
        config,
        method,
        target,
        secrets=secrets,
        headers=params.get("headers") or None,
        params=params.get("query") or None,
        json=params.get("json"),
        content=body if isinstance(body, str | bytes) or body is None else str(body),
        data=params.get("form") or None,
        timeout=timeout,
    )
    output = {"status_code": result.status_code, "headers": result.headers, "body": result.body()}
    expected = params.get("expected_status")
    if expected is not None:
        try:
            ok = result.status_code in [int(c) for c in (expected if isinstance(expected, list) else [expected])]
        except (TypeError, ValueError):
            raise StepError("http.request: expected_status must be a status code or a list of them.") from None
    else:
        ok = 200 <= result.status_code < 300
    if not ok:
        raise StepError(
            f"HTTP {result.status_code} from {result.url}", kind=status_kind(result.status_code), output=output
        )
    return output
