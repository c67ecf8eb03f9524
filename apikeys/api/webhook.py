"""``POST /api/workflows/{id}/webhook`` (SPEC 10): an API key starts a webhook-triggered run.

The canonical answer (202 ``{"run_id", "status"}``) is also what the 002 seed's
clients get, with that seed's ``executionId`` beside ``run_id`` (SPEC 14: where a compat
path equals a canonical one the canonical status and envelope win, the seed's fields sit
beside). ``status`` is ``"running"``: a run just accepted is running to its caller, whether
it has a slot yet (``running``) or waits for one (``queued``).
"""

from __future__ import annotations

from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.authentication import ApiKeyAuthentication
from orchestrator.errors import ValidationFailed
from runs.idempotency import idempotent
from runs.models import RunTrigger
from runs.services import run_create
from workflows.models import TriggerType
from workflows.selectors import workflow_get

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, X-API-Key, Content-Type, Idempotency-Key",
    "Access-Control-Max-Age": "86400",
}


class WebhookStartedOutput(serializers.Serializer):
    run_id = serializers.CharField()
    executionId = serializers.CharField(help_text="Seed 002's name for run_id.")
    status = serializers.ChoiceField(choices=["running"])


class WorkflowWebhookView(APIView):
    # Only an API key: this endpoint is called by other systems, never with a user's session or JWT.
    authentication_classes = [ApiKeyAuthentication]

    def get_permissions(self) -> list:
        # A CORS preflight carries no credentials; it must be answered without them.
        return [] if self.request.method == "OPTIONS" else super().get_permissions()

    def get_throttles(self) -> list:
        return [] if self.request.method == "OPTIONS" else super().get_throttles()

    def finalize_response(self, request: Request, response: Response, *args, **kwargs) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        for name, value in CORS_HEADERS.items():
            response[name] = value
        return response

    @extend_schema(exclude=True)
    def options(self, request: Request, *args, **kwargs) -> Response:
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=["Webhook trigger"],
        summary="Start a run of a webhook-triggered workflow; the JSON body is the run input",
        description=(
            "Authenticated by API key (`Authorization: Bearer wfb_…` or `X-API-Key: wfb_…`). "
            "400 when the workflow's trigger is not webhook, 401 for a bad key, 404 for an unknown "
            "workflow (or another tenant's), 409 when the workflow is not active."
        ),
        request=OpenApiTypes.OBJECT,
        responses={202: WebhookStartedOutput},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        examples=[OpenApiExample("Order created", value={"order_id": "ord_123", "total": 42.5}, request_only=True)],
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        if workflow.trigger_type != TriggerType.WEBHOOK:
            raise ValidationFailed(
                f"Workflow {workflow.id} is triggered by {workflow.trigger_type}, not by webhook.",
                code="trigger_mismatch",
            )
        # An empty body is an empty input; DRF gives an empty QueryDict for it.
        payload = {} if isinstance(request.data, QueryDict) else request.data

        def start() -> Response:
            run = run_create(workflow=workflow, inputs=payload, trigger=RunTrigger.WEBHOOK, user=request.user)
            return Response(
                {"run_id": run.id, "executionId": run.id, "status": "running"}, status=status.HTTP_202_ACCEPTED
            )

        return idempotent(request, start)
