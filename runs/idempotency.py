"""``Idempotency-Key``: the same key within 24 h answers what the first request answered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from runs.models import IdempotencyKey

WINDOW = timedelta(hours=24)
HEADER = "Idempotency-Key"


def idempotent(request: Request, start: Callable[[], Response]) -> Response:
    """Run ``start`` (which starts a run) once per key; replay its answer after that.

    The run and the key row commit together: a concurrent duplicate blocks on the
    unique index, then rolls its own run back and replays the winner's answer.
    """
    key = (request.headers.get(HEADER) or "").strip()
    if not key:
        return start()
    tenant_id, scope = request.user.tenant_id, request.path
    if len(key) > 255:
        from orchestrator.errors import ValidationFailed

        raise ValidationFailed(f"{HEADER} must be at most 255 characters.")
    IdempotencyKey.objects.filter(created_at__lt=timezone.now() - WINDOW).delete()
    found = IdempotencyKey.objects.filter(tenant_id=tenant_id, key=key, scope=scope).first()
    if found:
        return _replay(found)
    try:
        with transaction.atomic():
            response = start()
            if response.status_code < 400:
                IdempotencyKey.objects.create(
                    tenant_id=tenant_id,
                    key=key,
                    scope=scope,
                    response_status=response.status_code,
                    response_body=response.data,
                )
    except IntegrityError:
        return _replay(IdempotencyKey.objects.get(tenant_id=tenant_id, key=key, scope=scope))
    return response


def _replay(found: IdempotencyKey) -> Response:
    response = Response(found.response_body, status=found.response_status)
    response["Idempotent-Replayed"] = "true"
    return response
