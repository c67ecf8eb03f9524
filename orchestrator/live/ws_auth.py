"""Who is on the other end of a WebSocket: ``scope["user"]`` for the consumers.

Credentials, first match wins (the API's own authenticators decide validity):

* ``?api_key=wfb_…``, or the API's headers ``X-API-Key`` / ``Authorization: Bearer wfb_…``;
* ``?token=<JWT access token>``, or ``Authorization: Bearer <JWT>``;
* the session cookie (``AuthMiddlewareStack``), honoured only when the handshake has no
  ``Origin`` or one of ``ALLOWED_HOSTS``: cookies ride along on any page's request, so a
  foreign page must not borrow them (cross-site WebSocket hijacking). Tokens and keys are
  never ambient, so they work from any origin, and so do non-browser clients (no Origin).

Credentials that are given but invalid leave the connection anonymous; the consumer then
closes it with 4401. Browsers cannot set headers on a WebSocket, hence the query
parameters; uvicorn logs the handshake's path with its query string, so a filter on its
loggers blanks their values.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qs, urlparse

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.datastructures import CaseInsensitiveMapping
from rest_framework import exceptions

from apikeys.authentication import ApiKeyAuthentication
from apikeys.services import KEY_PREFIX
from orchestrator.tenancy.authentication import TenantJWTAuthentication

_QUERY_SECRET = re.compile(r"([?&](?:token|api_key)=)[^&\s\"]*")


class QuerySecretFilter(logging.Filter):
    """Blanks ``token=`` and ``api_key=`` values in a log record's arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, str) and "=" in a for a in record.args):
            record.args = tuple(_QUERY_SECRET.sub(r"\1…", a) if isinstance(a, str) else a for a in record.args)
        return True


for _name in ("uvicorn.error", "uvicorn.access"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, QuerySecretFilter) for f in _logger.filters):
        _logger.addFilter(QuerySecretFilter())


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0].strip() if values and values[0].strip() else None


@database_sync_to_async
def _api_key_user(raw: str) -> Any:
    try:
        # ApiKeyAuthentication reads only the headers: same checks as the API (revoked, expired, creator left).
        found = ApiKeyAuthentication().authenticate(_HeadersOnly({"X-API-Key": raw}))
    except exceptions.AuthenticationFailed:
        return AnonymousUser()
    return found[0] if found else AnonymousUser()


@database_sync_to_async
def _jwt_user(raw: str) -> Any:
    auth = TenantJWTAuthentication()
    try:
        return auth.get_user(auth.get_validated_token(raw.encode()))
    except exceptions.AuthenticationFailed:  # simplejwt's InvalidToken is one
        return AnonymousUser()


class _HeadersOnly:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = CaseInsensitiveMapping(headers)


def origin_allowed(origin: str | None) -> bool:
    if origin is None:
        return True  # not a browser: there is no foreign page to fear
    return OriginValidator(None, settings.ALLOWED_HOSTS).valid_origin(urlparse(origin))


async def websocket_user(scope: dict) -> Any:
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    headers = CaseInsensitiveMapping(
        {name.decode("latin1"): value.decode("latin1") for name, value in scope.get("headers", [])}
    )
    scheme, _, bearer = headers.get("Authorization", "").partition(" ")
    bearer = bearer.strip() if scheme.lower() == "bearer" else ""
    api_key = (
        _first(query, "api_key") or headers.get("X-API-Key") or (bearer if bearer.startswith(KEY_PREFIX) else None)
    )
    if api_key:
        return await _api_key_user(api_key)
    token = _first(query, "token") or bearer or None
    if token:
        return await _jwt_user(token)
    session_user = scope.get("user")
    if session_user is not None and session_user.is_authenticated and origin_allowed(headers.get("Origin")):
        return session_user
    return AnonymousUser()


class WebSocketAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket":
            scope = dict(scope)
            scope["user"] = await websocket_user(scope)
        return await super().__call__(scope, receive, send)


def WebSocketAuthMiddlewareStack(inner: Any) -> Any:  # noqa: N802 (named like channels' AuthMiddlewareStack)
    """Sessions first (they fill ``scope["user"]``), then tokens and keys, which win when given."""
    return AuthMiddlewareStack(WebSocketAuthMiddleware(inner))
