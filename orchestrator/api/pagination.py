"""``limit`` (default 50, max 200) and ``offset``; lists answer ``{"<plural>": [...], "total": N}``.

Integer query parameters are bounded here: ``limit`` over 200 is clamped to 200 (SPEC 2);
``offset`` and any other integer outside its range (at most 2,147,483,647, PostgreSQL's
integer) is a 400 naming it; ``?offset=9223372036854775808`` reached the database and was a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from orchestrator.errors import ValidationFailed

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# PostgreSQL's integer; also far past any list's end, so no page is lost by the bound.
INT_MAX = 2_147_483_647


def query_int(
    request: Request, name: str, default: int | None, *, minimum: int = 0, maximum: int = INT_MAX
) -> int | None:
    """The integer query parameter ``name`` within [minimum, maximum]; else a 400 naming it."""
    raw = request.query_params.get(name)
    if raw is None or raw.strip() == "":
        return default
    raw = raw.strip()
    # Digits only (no "1e3", "+1", "1_000"), and few enough that int() is cheap and exact.
    value = int(raw) if (raw.isascii() and raw.lstrip("-").isdigit() and len(raw) <= 20) else None
    if value is None or not minimum <= value <= maximum:
        raise ValidationFailed(
            f"{name} must be an integer from {minimum} to {maximum}.",
            details=[{"field": name, "message": f"An integer from {minimum} to {maximum} is required."}],
        )
    return value


def page_params(request: Request) -> tuple[int, int]:
    limit = min(query_int(request, "limit", DEFAULT_LIMIT, maximum=INT_MAX), MAX_LIMIT)
    offset = query_int(request, "offset", 0)
    return limit, offset


def paginated(request: Request, items: QuerySet | Sequence, plural: str, serialize: Callable[[Any], dict]) -> Response:
    limit, offset = page_params(request)
    total = items.count() if isinstance(items, QuerySet) else len(items)
    page = items[offset : offset + limit]
    return Response({plural: [serialize(item) for item in page], "total": total})
