"""Conversions the seed surfaces share: timestamps, durations, masked values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rest_framework import serializers

from orchestrator.security.redaction import redact, redact_text

_DATETIME = serializers.DateTimeField()


def iso(value: datetime | None) -> str | None:
    """As every other timestamp of the API renders it (ISO 8601, UTC ``Z``)."""
    return _DATETIME.to_representation(value) if value is not None else None


def milliseconds(started: datetime | None, ended: datetime | None) -> int | None:
    if started is None or ended is None:
        return None
    return int((ended - started).total_seconds() * 1000)


def masked(value: Any) -> Any:
    """Run and step data as people may see it: secrets redacted (SPEC 10)."""
    return redact(value)


def masked_text(value: str | None) -> str | None:
    return redact_text(value) if value else None


def page(items: Any, limit: int, offset: int) -> list:
    return list(items[offset : offset + limit])
