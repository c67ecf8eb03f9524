"""Request-level guards that run before any view."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

from orchestrator.api.exception_handler import error_body, error_body_for
from orchestrator.errors import ValidationFailed
from orchestrator.input_limits import CHECKED_BODY, UNSTORABLE, json_load, yaml_load

JSON_TYPES = ("application/json",)
YAML_TYPES = ("application/yaml", "text/yaml", "application/x-yaml")


def _body_refusal(request: HttpRequest) -> HttpResponse | None:
    """Every JSON or YAML body is checked, also where the view never reads it (a 1,000-level
    body to an endpoint that ignores its body used to go through and act)."""
    if request.method not in ("POST", "PUT", "PATCH", "DELETE") or not request.META.get("CONTENT_LENGTH"):
        return None
    content_type = (request.content_type or "").lower()
    if content_type in JSON_TYPES:
        load, family = json_load, "json"
    elif content_type in YAML_TYPES:
        load, family = yaml_load, "yaml"
    else:
        return None  # a view that reads it answers 415
    body = request.body
    if not body:
        return None
    try:
        setattr(request, CHECKED_BODY, (family, body, load(body)))
    except ValidationFailed as exc:
        return JsonResponse(error_body_for(request.path, exc.code, exc.message, exc.details), status=exc.status)
    return None


class BodySizeLimitMiddleware:
    """413 for a body over ORCHESTRATOR_MAX_BODY_BYTES, before anything reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.ORCHESTRATOR_MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse(error_body("bad_request", "Content-Length is not a number."), status=400)
        if not request.META.get("CONTENT_LENGTH") and request.method in ("POST", "PUT", "PATCH"):
            # A chunked body has no Content-Length; DRF would read it as empty. The ASGI
            # server has already spooled it, so measure it and give it a length.
            try:
                length = len(request.body)
            except RequestDataTooBig:
                length = limit + 1
            request.META["CONTENT_LENGTH"] = str(length)
        if length > limit:
            message = f"The request body is {length} bytes; the limit is {limit} bytes."
            return JsonResponse(error_body("payload_too_large", message), status=413)
        return self.get_response(request)


class InputGuardMiddleware:
    """400 for a query parameter (name or value) or an ``Idempotency-Key`` PostgreSQL cannot
    store: NUL, lone surrogates (``?search=%00`` reached a query and was a 500). Path IDs need
    no check here: the ``<id:>`` converter only matches IDs that can exist, so the rest is a 404.
    Integer parameters are bounded where they are read (``orchestrator.api.pagination.query_int``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for name, values in request.GET.lists():
            bad = next((found for text in (name, *values) if (found := UNSTORABLE.search(text))), None)
            if bad is not None:
                label = UNSTORABLE.sub("?", name)
                what = "a NUL character" if bad.group() == "\x00" else "a lone surrogate"
                message = f"The query parameter {label!r} contains {what}."
                details = [{"field": label, "message": f"Contains {what}."}]
                return JsonResponse(error_body_for(request.path, "validation_error", message, details), status=400)
        refused = _body_refusal(request)
        if refused is not None:
            return refused
        key = request.headers.get("Idempotency-Key")
        if key is not None and UNSTORABLE.search(key):
            message = "The Idempotency-Key header contains a character that cannot be stored."
            details = [{"field": "Idempotency-Key", "message": message}]
            return JsonResponse(error_body_for(request.path, "validation_error", message, details), status=400)
        return self.get_response(request)
