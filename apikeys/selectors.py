from __future__ import annotations

from django.db.models import QuerySet

from apikeys.models import ApiKey
from orchestrator.errors import NotFound
from orchestrator.models import Tenant


def api_key_list(*, tenant: Tenant) -> QuerySet[ApiKey]:
    return ApiKey.objects.for_tenant(tenant).active().select_related("user")


def api_key_get(*, tenant: Tenant, key_id: str) -> ApiKey:
    key = api_key_list(tenant=tenant).filter(id=key_id).first()
    if key is None:
        raise NotFound(f"API key {key_id!r} was not found.")
    return key
