"""``limit`` (default 50, max 200) and ``offset``; lists answer ``{"<plural>": [...], "total": N}``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from orchestrator.errors import ValidationFailed

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def _non_negative_int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ValidationFailed(
            f"{name} must be a non-negative integer.", details=[{"field": name, "message": "Not a valid integer."}]
        )
    return value


def page_params(request: Request) -> tuple[int, int]:
    limit = min(_non_negative_int(request, "limit", DEFAULT_LIMIT), MAX_LIMIT)
    offset = _non_negative_int(request, "offset", 0)
    return limit, offset


def paginated(request: Request, items: QuerySet | Sequence, plural: str, serialize: Callable[[Any], dict]) -> Response:
    limit, offset = page_params(request)
    total = items.count() if isinstance(items, QuerySet) else len(items)
    page = items[offset : offset + limit]
    return Response({plural: [serialize(item) for item in page], "total": total})
