"""One place that turns every error into ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from orchestrator.engine.retries import error_summary, is_transient
from orchestrator.errors import DomainError

logger = logging.getLogger(__name__)

_DRF_CODES = {
    exceptions.ParseError: "parse_error",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
}


def error_body(code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


# Seed 004's surface answers errors in its own envelope (orchestrator.compat.workflows_v2.V2View);
# answers made before any view (middleware, unknown paths) follow it there too.
SEED_004_PREFIX = "/api/v2/workflows"


def error_body_for(path: str, code: str, message: str, details: Any = None) -> dict:
    if path == SEED_004_PREFIX or path.startswith(SEED_004_PREFIX + "/"):
        return {"success": False, "error": message, "code": code, "details": details}
    return error_body(code, message, details)


def flatten_validation(detail: Any, prefix: str = "") -> list[dict]:
    """DRF's nested ``{field: [messages]}`` → a flat list, one entry per problem."""
    problems: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            field = key if key != "non_field_errors" else ""
            path = f"{prefix}.{field}" if prefix and field else (field or prefix)
            problems.extend(flatten_validation(value, path))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                problems.extend(flatten_validation(value, f"{prefix}[{index}]" if prefix else str(index)))
            else:
                problems.append({"field": prefix or None, "message": str(value)})
    else:
        problems.append({"field": prefix or None, "message": str(detail)})
    return problems


def _validation_message(problems: list[dict]) -> str:
    if len(problems) == 1:
        p = problems[0]
        return f"{p['field']}: {p['message']}" if p["field"] else p["message"]
    return f"{len(problems)} problems in the request."


UNAVAILABLE = "The service is briefly unable to reach its database or message broker; try again shortly."


def exception_handler(exc: Exception, context: dict) -> Response | None:
    headers: dict[str, str] = {}
    if is_transient(exc):
        # Every pooled connection busy past ORCHESTRATOR_DB_POOL_TIMEOUT, or the database or
        # broker away: the request changed nothing (its transaction rolled back). 503, not 500.
        set_rollback()
        logger.warning("503 for %s: %s", getattr(context.get("request"), "path", "?"), error_summary(exc))
        return Response(error_body("service_unavailable", UNAVAILABLE), status=503, headers={"Retry-After": "2"})
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return Response(error_body("payload_too_large", "The request body is too large."), status=413)

    if isinstance(exc, exceptions.ValidationError):
        set_rollback()
        problems = flatten_validation(exc.detail)
        return Response(error_body("validation_error", _validation_message(problems), problems), status=400)
    if isinstance(exc, exceptions.APIException):
        set_rollback()
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), None)
        detail = exc.detail
        message = str(detail) if not isinstance(detail, dict | list) else "Request failed."
        return Response(error_body(code or str(exc.default_code), message), status=exc.status_code, headers=headers)
    return None


def json_error(request: Any, code: str, message: str, status_code: int) -> JsonResponse:
    return JsonResponse(error_body_for(getattr(request, "path", ""), code, message), status=status_code)


def handler404(request: Any, exception: Exception | None = None) -> JsonResponse:
    return json_error(request, "not_found", "Not found.", status.HTTP_404_NOT_FOUND)


def handler500(request: Any) -> JsonResponse:
    # Called inside Django's except block: an outage met outside a DRF view (middleware,
    # the admin) is a 503 too.
    exc = sys.exc_info()[1]
    if exc is not None and is_transient(exc):
        response = json_error(request, "service_unavailable", UNAVAILABLE, status.HTTP_503_SERVICE_UNAVAILABLE)
        response["Retry-After"] = "2"
        return response
    return json_error(request, "server_error", "Internal server error.", status.HTTP_500_INTERNAL_SERVER_ERROR)


def handler400(request: Any, exception: Exception | None = None) -> JsonResponse:
    return json_error(request, "bad_request", "Bad request.", status.HTTP_400_BAD_REQUEST)


def handler403(request: Any, exception: Exception | None = None) -> JsonResponse:
    return json_error(request, "permission_denied", "Permission denied.", status.HTTP_403_FORBIDDEN)


@csrf_exempt  # any method: the answer is the same 404, and a CSRF page would be HTML
def api_path_not_found(request: Any) -> JsonResponse:
    """The last route under /api/: an unknown path answers the envelope, with or without DEBUG
    (Django's own 404 is an HTML page in DEBUG). A trailing-slash typo is told the right path."""
    message = f"No endpoint at {request.path}."
    other = request.path.rstrip("/") if request.path.endswith("/") else request.path + "/"
    try:
        match = resolve(other)
    except Resolver404:
        match = None
    if match is not None and match.func is not api_path_not_found:
        message += f" Did you mean {other}?"
    return json_error(request, "not_found", message, status.HTTP_404_NOT_FOUND)
