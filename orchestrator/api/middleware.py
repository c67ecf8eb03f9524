"""Request-level guards that run before any view."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

from orchestrator.api.exception_handler import error_body


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
