"""How the OpenAPI document describes every operation (``DEFAULT_SCHEMA_CLASS``).

drf-spectacular's ``AutoSchema`` sees serializers and views; what it cannot see is added here:

* the security schemes of the project's authentication classes (API key as
  ``Authorization: Bearer wfb_…`` or ``X-API-Key``, JWT bearer, the admin's session), and no
  security requirement at all on a public operation;
* every error status an operation can answer, each with the error envelope
  (``{"error": {"code", "message", "details"}}``, SPEC 2). A view whose errors have their own
  shape (a seed surface) sets ``openapi_error_serializer``; ``openapi_errors`` adds statuses a
  view answers beyond those derived here;
* readable, unique ``operationId``s: the path's words and ``list``/``retrieve``/``create``/
  ``update``/``partial_update``/``destroy``, or the action's own name (``…_cancel``) for a POST
  to an action path.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from orchestrator.tenancy.ratelimit import RedisRateThrottle

WRITE_METHODS = ("POST", "PUT", "PATCH")


class ErrorDetail(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine code, e.g. validation_error, not_found, rate_limited.")
    message = serializers.CharField(help_text="What went wrong, for a person.")
    details = serializers.JSONField(
        allow_null=True, help_text="For validation_error, a list of {field, message}; otherwise usually null."
    )


class Error(serializers.Serializer):
    """The error envelope every canonical operation answers with a 4xx or 5xx."""

    error = ErrorDetail()


ERROR_DESCRIPTIONS = {
    "400": "Invalid request: details list every problem.",
    "401": "Missing, invalid, expired or revoked credentials.",
    "403": "Your role does not allow this.",
    "404": "No such object in your tenant (another tenant's objects are 404 too).",
    "405": "Method not allowed on this path.",
    "409": "Conflict with the current state (a duplicate name, a wrong state).",
    "413": "The body is over ORCHESTRATOR_MAX_BODY_BYTES.",
    "415": "Unsupported Content-Type.",
    "422": "Understood, but nothing could be done with it (e.g. no action found in an instruction).",
    "429": "Rate limit exceeded; Retry-After says when to try again.",
    "503": "Unavailable.",
}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apikeys.authentication.ApiKeyAuthentication"
    name = ["ApiKeyBearer", "ApiKeyHeader"]

    def get_security_requirement(self, auto_schema: AutoSchema) -> list[dict]:
        return [{"ApiKeyBearer": []}, {"ApiKeyHeader": []}]

    def get_security_definition(self, auto_schema: AutoSchema) -> list[dict]:
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "wfb_…",
                "description": "An API key as `Authorization: Bearer wfb_…` (make run prints one).",
            },
            {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "An API key: `X-API-Key: wfb_…`."},
        ]


class TenantJWTScheme(OpenApiAuthenticationExtension):
    target_class = "orchestrator.tenancy.authentication.TenantJWTAuthentication"
    name = "JWT"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from POST /api/auth/token.",
        }


class OrchestratorAutoSchema(AutoSchema):
    def get_auth(self) -> list[dict]:
        # AllowAny on a view without authenticators is public: no requirement at all, rather
        # than drf-spectacular's [{}] ("optionally none").
        return [requirement for requirement in super().get_auth() if requirement]

    def get_operation_id(self) -> str:
        # Only without an explicit operation_id (extend_schema wins). "List" in the view's class
        # name marks a collection: GET lists it, POST creates in it.
        words = [t.replace("-", "_") for t in self._tokenize_path()] or ["root"]
        collection = "List" in type(self.view).__name__
        if self.method == "GET":
            action = "list" if collection else "retrieve"
        elif self.method == "POST":
            # A POST to a collection creates a member; to any other path it is that path's action.
            action = "create" if collection else None
        else:
            action = self.method_mapping[self.method.lower()]
        return "_".join(words + ([action] if action else []))

    def _error_statuses(self) -> list[str]:
        view = self.view
        codes: set[str] = set()
        has_body = self.method in WRITE_METHODS
        has_path_params = "{" in self.path
        has_query = any(p.get("in") == "query" for p in self._get_parameters())
        secured = bool(self.get_auth())
        if has_body or has_query:
            codes.add("400")
        if has_body:
            codes |= {"413", "415"}
        if secured:
            codes |= {"401", "403"}
            if self.method != "GET":
                codes.add("409")
        if has_path_params:
            codes.add("404")
        if any(isinstance(t, RedisRateThrottle) for t in view.get_throttles()):
            codes.add("429")
        codes |= {str(code) for code in getattr(view, "openapi_errors", ())}
        return sorted(codes)

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        error_serializer = getattr(self.view, "openapi_error_serializer", None) or Error
        for code in self._error_statuses():
            if code in responses:
                continue
            # The request-size guard is a middleware: its 413 is the canonical envelope everywhere.
            serializer = Error if code == "413" else error_serializer
            response = self._get_response_for_code(serializer, code, direction=direction)
            response["description"] = ERROR_DESCRIPTIONS.get(code, "")
            responses[code] = response
        return responses
