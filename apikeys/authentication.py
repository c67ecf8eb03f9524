"""``Authorization: Bearer wfb_…`` or ``X-API-Key: wfb_…``: the key acts as its creator."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from apikeys.services import KEY_PREFIX, api_key_authenticate


def raw_key_from(headers: Any, query: Any = None) -> str | None:
    auth = headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip().startswith(KEY_PREFIX):
        return value.strip()
    header_key = headers.get("X-API-Key")
    if header_key:
        return header_key.strip()
    return None


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        raw = raw_key_from(request.headers)
        if raw is None:
            return None  # a JWT Bearer token or a session: the next class decides
        key = api_key_authenticate(raw_key=raw)
        # A key acts as its creator within the key's tenant: not if the creator left it.
        if key is None or not key.user.is_active or key.user.tenant_id != key.tenant_id:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API key.")
        key.user.tenant = key.tenant  # the same row (checked above), already read: views use user.tenant
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
