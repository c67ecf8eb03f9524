"""Request-body parsers for every view (``DEFAULT_PARSER_CLASSES``): JSON and YAML under the
limits of ``orchestrator.input_limits``: nesting bounded before anything recurses, no NUL or
lone surrogate in any string or key, no YAML alias or anchor. A refusal is a 400 in the
envelope (DRF's own JSON parser met 1,000-level nesting with a RecursionError, a 500)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.parsers import BaseParser

from orchestrator.errors import ValidationFailed
from orchestrator.input_limits import CHECKED_BODY, json_load, yaml_load


def _read(stream: Any) -> bytes:
    # BodySizeLimitMiddleware has already answered 413 for an oversized body; read at most one
    # byte past the limit all the same, so a parser never holds more than that.
    limit = settings.ORCHESTRATOR_MAX_BODY_BYTES
    data = stream.read(limit + 1) if stream is not None else b""
    if len(data) > limit:
        raise ValidationFailed(
            f"The request body is over {limit} bytes.", code="payload_too_large"
        )  # pragma: no cover - the middleware answers first
    return data


def _checked(parser_context: dict | None, family: str) -> tuple[bool, Any]:
    """The value InputGuardMiddleware already parsed and checked from this very body, if any."""
    request = (parser_context or {}).get("request")
    django_request = getattr(request, "_request", None)
    checked = getattr(django_request, CHECKED_BODY, None)
    if checked is None or checked[0] != family:
        return False, None
    return True, checked[2]


class LimitedJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        found, value = _checked(parser_context, "json")
        return value if found else json_load(_read(stream))


class LimitedYAMLParser(BaseParser):
    media_type = "application/yaml"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        found, value = _checked(parser_context, "yaml")
        return value if found else yaml_load(_read(stream))


class LimitedTextYAMLParser(LimitedYAMLParser):
    media_type = "text/yaml"


class LimitedXYAMLParser(LimitedYAMLParser):
    media_type = "application/x-yaml"
