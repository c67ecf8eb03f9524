"""Thin views over orchestrator/authoring/templates.py (SPEC 11, seed 001 "Templates")."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestrator.api.pagination import paginated
from orchestrator.authoring.templates import (
    template_create,
    template_delete,
    template_get,
    template_install,
    template_list,
)
from orchestrator.errors import ValidationFailed
from workflows.api import authoring_examples as ex
from workflows.api import authoring_serializers as s
from workflows.api.serializers import WorkflowOutput
from workflows.models import TemplateCategory
from workflows.selectors import workflow_get

TAG = ["Templates"]
NOT_FOUND = OpenApiExample("Not found", value=ex.TEMPLATE_NOT_FOUND, response_only=True, status_codes=["404"])


def _valid(serializer_class: type, data: object) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _flag(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    value = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(raw.lower())
    if value is None:
        raise ValidationFailed(f"{name} must be true or false.", details=[{"field": name, "message": "Not a boolean."}])
    return value


class TemplateListCreateView(APIView):
    openapi_errors = (404,)  # saving a template of a workflow_id that is not found

    @extend_schema(
        tags=TAG,
        operation_id="workflow_templates_list",
        summary="List templates: the built-ins and the tenant's own",
        parameters=[
            OpenApiParameter("category", str, enum=TemplateCategory.values),
            OpenApiParameter("is_builtin", bool),
            OpenApiParameter("search", str, description="Words of the name, description or keywords"),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
        responses=s.TemplateListOutput,
        examples=[
            OpenApiExample(
                "Search",
                summary="?search=uptime&limit=1",
                value=ex.TEMPLATE_LIST_RESPONSE,
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        templates = template_list(
            tenant=request.user.tenant,
            category=params.get("category"),
            is_builtin=_flag(request, "is_builtin"),
            search=params.get("search"),
        )
        return paginated(request, templates, "templates", lambda t: s.TemplateSummaryOutput(t).data)

    @extend_schema(
        tags=TAG,
        operation_id="workflow_templates_create",
        summary="Save one of the tenant's workflows as a template (integration references stripped)",
        request=s.TemplateCreateInput,
        responses={201: s.TemplateCreatedOutput},
        examples=[
            OpenApiExample("Save a workflow", value=ex.TEMPLATE_CREATE_REQUEST, request_only=True),
            OpenApiExample("Saved", value=ex.TEMPLATE_CREATE_RESPONSE, response_only=True, status_codes=["201"]),
        ],
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.TemplateCreateInput, request.data)
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=data.pop("workflow_id"))
        template = template_create(workflow=workflow, user=request.user, **data)
        return Response(
            {"template_id": template.id, "template": s.TemplateOutput(template).data}, status=status.HTTP_201_CREATED
        )


class TemplateDetailView(APIView):
    @extend_schema(
        tags=TAG,
        operation_id="workflow_templates_retrieve",
        summary="A template with its definition (by ID, or a built-in by slug)",
        responses=s.TemplateEnvelope,
        examples=[
            OpenApiExample(
                "Built-in", summary="uptime-check", value=ex.TEMPLATE_RESPONSE, response_only=True, status_codes=["200"]
            ),
            NOT_FOUND,
        ],
    )
    def get(self, request: Request, template_id: str) -> Response:
        template = template_get(tenant=request.user.tenant, template_id=template_id)
        return Response({"template": s.TemplateOutput(template).data})

    @extend_schema(
        tags=TAG,
        operation_id="workflow_templates_destroy",
        summary="Delete a tenant template (built-ins are read-only: 403)",
        responses={204: None},
        examples=[
            OpenApiExample(
                "Built-in",
                summary="Built-ins are read-only",
                value=ex.TEMPLATE_BUILTIN_READ_ONLY,
                response_only=True,
                status_codes=["403"],
            ),
            NOT_FOUND,
        ],
    )
    def delete(self, request: Request, template_id: str) -> Response:
        template_delete(template=template_get(tenant=request.user.tenant, template_id=template_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TemplateInstallView(APIView):
    @extend_schema(
        tags=TAG,
        operation_id="workflow_templates_install",
        summary="Install a template: a new workflow of the tenant",
        description=(
            "`name` defaults to the template's; `inputs` sets defaults of its inputs; `integrations` maps its "
            "placeholders to the tenant's integrations (without a mapping, a step uses the tenant's only "
            "integration of its type). 409 when the name is taken."
        ),
        request=s.TemplateInstallInput,
        responses={201: s.TemplateInstalledOutput},
        examples=[
            OpenApiExample("Seed 001", value=ex.TEMPLATE_INSTALL_REQUEST, request_only=True),
            OpenApiExample(
                "With inputs and integrations",
                value={
                    "name": "Website uptime",
                    "inputs": {"url": "https://www.example.com/health", "channel": "#ops"},
                    "integrations": {"alerts": "Team Slack"},
                },
                request_only=True,
            ),
            OpenApiExample(
                "Installed",
                summary="uptime-check installed",
                value=ex.TEMPLATE_INSTALL_RESPONSE,
                response_only=True,
                status_codes=["201"],
            ),
            NOT_FOUND,
        ],
    )
    def post(self, request: Request, template_id: str) -> Response:
        template = template_get(tenant=request.user.tenant, template_id=template_id)
        data = _valid(s.TemplateInstallInput, request.data or {})
        workflow = template_install(template=template, user=request.user, **data)
        return Response(
            {"workflow_id": workflow.id, "workflow": WorkflowOutput(workflow).data}, status=status.HTTP_201_CREATED
        )
