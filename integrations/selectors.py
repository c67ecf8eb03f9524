"""Reads of integrations, always within one tenant. None of them decrypts."""

from __future__ import annotations

from django.db.models import QuerySet

from integrations.models import Integration, IntegrationType
from orchestrator.errors import NotFound, ValidationFailed
from orchestrator.models import Tenant


def integration_list(*, tenant: Tenant, type: str | None = None) -> QuerySet[Integration]:
    qs = Integration.objects.for_tenant(tenant)
    if type:
        if type not in IntegrationType.values:
            raise ValidationFailed(
                f"type must be one of {', '.join(IntegrationType.values)}.",
                details=[{"field": "type", "message": f"{type!r} is not an integration type."}],
            )
        qs = qs.filter(type=type)
    return qs


def integration_get(*, tenant: Tenant, integration_id: str) -> Integration:
    found = Integration.objects.for_tenant(tenant).filter(id=integration_id).first()
    if found is None:
        raise NotFound(f"Integration {integration_id!r} was not found.")
    return found


def integration_get_by_ref(*, tenant_id: str, ref: str) -> Integration:
    """The tenant's integration whose ID, or else name, is ``ref`` (steps may name either)."""
    qs = Integration.objects.filter(tenant_id=tenant_id)
    found = qs.filter(id=ref).first() or qs.filter(name=ref).first()
    if found is None:
        raise NotFound(f"Integration {ref!r} was not found in this tenant.")
    return found


def integration_for_step(*, tenant_id: str, ref: str | None, type: str, purpose: str) -> Integration:
    """The integration a step names by ID or name, or the tenant's only one of ``type``.

    NotFound / ValidationFailed carry messages meant for the step's error.
    """
    qs = Integration.objects.filter(tenant_id=tenant_id)
    if ref:
        found = integration_get_by_ref(tenant_id=tenant_id, ref=ref)
        if found.type != type:
            raise ValidationFailed(f"{purpose} needs an integration of type {type}; {ref!r} is of type {found.type}.")
        return found
    candidates = list(qs.filter(type=type).order_by("id")[:6])
    if not candidates:
        raise NotFound(
            f"No {type} integration is configured for {purpose}: create one (POST /api/integrations) "
            "and name it in the step."
        )
    if len(candidates) > 1:
        names = ", ".join(c.id for c in candidates[:5])
        raise ValidationFailed(f"{purpose}: this tenant has several {type} integrations ({names}…); name one.")
    return candidates[0]
