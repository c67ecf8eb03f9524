"""Thin views over workflows/services.py and workflows/selectors.py (SPEC 5)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestrator.api.pagination import paginated, query_int
from orchestrator.api.parsers import LimitedJSONParser, LimitedTextYAMLParser, LimitedXYAMLParser, LimitedYAMLParser
from orchestrator.definitions import definition_errors, definition_normalize
from orchestrator.errors import ValidationFailed
from workflows.api import serializers as s
from workflows.api.examples import CREATE_EXAMPLES, VALIDATE_EXAMPLES
from workflows.diff import definition_diff
from workflows.portable import document_to_yaml, workflow_export, workflow_import
from workflows.selectors import (
    workflow_get,
    workflow_io_schema,
    workflow_list,
    workflow_version_get,
    workflow_version_list,
)
from workflows.services import (
    workflow_create,
    workflow_delete,
    workflow_duplicate,
    workflow_rollback,
    workflow_set_status,
    workflow_update,
)

TAG = ["Workflows"]


def _valid(serializer_class: type, data: object) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _workflow(workflow) -> dict:
    return {"workflow": s.WorkflowOutput(workflow).data}


class WorkflowListCreateView(APIView):
    @extend_schema(
        tags=TAG,
        summary="List workflows, newest first",
        parameters=[
            OpenApiParameter("status", str, enum=["draft", "active", "paused", "archived"]),
            OpenApiParameter("trigger_type", str, enum=["manual", "schedule", "webhook"]),
            OpenApiParameter("tag", str),
            OpenApiParameter("search", str, description="Part of the name"),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
        responses=s.WorkflowListOutput,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        workflows = workflow_list(
            tenant=request.user.tenant,
            status=params.get("status"),
            trigger_type=params.get("trigger_type"),
            tag=params.get("tag"),
            search=params.get("search"),
        )
        return paginated(request, workflows, "workflows", lambda w: s.WorkflowSummaryOutput(w).data)

    @extend_schema(
        tags=TAG,
        summary="Create a workflow",
        request=s.WorkflowCreateInput,
        responses={201: s.WorkflowCreatedOutput},
        examples=CREATE_EXAMPLES,
    )
    def post(self, request: Request) -> Response:
        workflow = workflow_create(user=request.user, **_valid(s.WorkflowCreateInput, request.data))
        return Response({"id": workflow.id, **_workflow(workflow)}, status=status.HTTP_201_CREATED)


class WorkflowDetailView(APIView):
    @extend_schema(tags=TAG, summary="A workflow with its current definition", responses=s.WorkflowEnvelope)
    def get(self, request: Request, workflow_id: str) -> Response:
        return Response(_workflow(workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)))

    @extend_schema(
        tags=TAG,
        summary="Replace a workflow; a changed definition makes a new version",
        request=s.WorkflowReplaceInput,
        responses=s.WorkflowEnvelope,
    )
    def put(self, request: Request, workflow_id: str) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        data = _valid(s.WorkflowReplaceInput, request.data)
        return Response(_workflow(workflow_update(workflow=workflow, user=request.user, **data)))

    @extend_schema(
        tags=TAG,
        summary="Update some fields of a workflow",
        request=s.WorkflowPatchInput,
        responses=s.WorkflowEnvelope,
    )
    def patch(self, request: Request, workflow_id: str) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        data = _valid(s.WorkflowPatchInput, request.data)
        return Response(_workflow(workflow_update(workflow=workflow, user=request.user, **data)))

    @extend_schema(tags=TAG, summary="Delete a workflow with its runs, versions and schedules", responses={204: None})
    def delete(self, request: Request, workflow_id: str) -> Response:
        workflow_delete(workflow=workflow_get(tenant=request.user.tenant, workflow_id=workflow_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WorkflowStatusView(APIView):
    @extend_schema(
        tags=TAG,
        summary="Set a workflow's status",
        request=s.WorkflowStatusInput,
        responses=s.WorkflowEnvelope,
        examples=[OpenApiExample("Pause", value={"status": "paused"}, request_only=True)],
    )
    def patch(self, request: Request, workflow_id: str) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        data = _valid(s.WorkflowStatusInput, request.data)
        return Response(_workflow(workflow_set_status(workflow=workflow, status=data["status"])))


class WorkflowValidateView(APIView):
    write_role = "viewer"  # validating changes nothing

    @extend_schema(
        tags=TAG,
        summary="Validate a definition without saving it",
        request=s.ValidateInput,
        responses=s.ValidateOutput,
        examples=VALIDATE_EXAMPLES,
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.ValidateInput, request.data)
        errors = definition_errors(definition_normalize(data["definition"]))
        return Response({"valid": not errors, "errors": errors})


class WorkflowDuplicateView(APIView):
    @extend_schema(
        tags=TAG,
        summary='Copy a workflow as a draft named "… (copy)", integrations stripped',
        request=s.DuplicateInput,
        responses={201: s.WorkflowCreatedOutput},
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        data = _valid(s.DuplicateInput, request.data or {})
        copy = workflow_duplicate(workflow=workflow, user=request.user, **data)
        return Response({"id": copy.id, **_workflow(copy)}, status=status.HTTP_201_CREATED)


class WorkflowVersionListView(APIView):
    @extend_schema(tags=TAG, summary="Versions of a workflow, newest first", responses=s.VersionListOutput)
    def get(self, request: Request, workflow_id: str) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        versions = workflow_version_list(workflow=workflow)
        return paginated(request, versions, "versions", lambda v: s.VersionSummaryOutput(v).data)


class WorkflowVersionDetailView(APIView):
    @extend_schema(
        tags=TAG,
        summary="The full definition at a version",
        responses=inline_serializer("VersionEnvelope", {"version": s.VersionOutput()}),
    )
    def get(self, request: Request, workflow_id: str, version: int) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        return Response({"version": s.VersionOutput(workflow_version_get(workflow=workflow, version=version)).data})


def _version_param(request: Request, name: str) -> int:
    value = query_int(request, name, None, minimum=1)
    if value is None:
        raise ValidationFailed(
            f"{name} must be a version number.", details=[{"field": name, "message": "A positive integer is required."}]
        )
    return value


class WorkflowDiffView(APIView):
    @extend_schema(
        tags=TAG,
        summary="RFC 6902 diff between two versions",
        parameters=[OpenApiParameter("v1", int, required=True), OpenApiParameter("v2", int, required=True)],
        responses=s.DiffOutput,
    )
    def get(self, request: Request, workflow_id: str) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        v1, v2 = _version_param(request, "v1"), _version_param(request, "v2")
        old = workflow_version_get(workflow=workflow, version=v1)
        new = workflow_version_get(workflow=workflow, version=v2)
        ops, summary = definition_diff(old.definition, new.definition)
        return Response({"diff": ops, "summary": summary, "v1": v1, "v2": v2})


class WorkflowRollbackView(APIView):
    @extend_schema(
        tags=TAG,
        summary="Make a new version equal to an earlier one",
        request=s.RollbackInput,
        responses=s.WorkflowEnvelope,
        examples=[OpenApiExample("Rollback", value={"version": 2}, request_only=True)],
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        data = _valid(s.RollbackInput, request.data)
        return Response(_workflow(workflow_rollback(workflow=workflow, user=request.user, version=data["version"])))


class WorkflowSchemaView(APIView):
    @extend_schema(tags=TAG, summary="JSON Schemas of the run input and output", responses=s.SchemaOutput)
    def get(self, request: Request, workflow_id: str) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        return Response(workflow_io_schema(workflow=workflow))


class WorkflowExportView(APIView):
    @extend_schema(
        tags=TAG,
        summary="The workflow as a portable document (?format=yaml for YAML)",
        parameters=[OpenApiParameter("format", str, enum=["json", "yaml"])],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "application/yaml"): OpenApiTypes.OBJECT,
        },
    )
    def get(self, request: Request, workflow_id: str) -> Response | HttpResponse:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        document = workflow_export(workflow=workflow)
        fmt = request.query_params.get("format", "json")
        if fmt not in ("json", "yaml"):
            raise ValidationFailed("format must be json or yaml.")
        if fmt == "yaml":
            response = HttpResponse(document_to_yaml(document), content_type="application/yaml; charset=utf-8")
        else:
            response = Response(document)
        response["Content-Disposition"] = f'attachment; filename="{workflow.id}.{fmt}"'
        return response


class WorkflowImportView(APIView):
    parser_classes = [LimitedJSONParser, LimitedYAMLParser, LimitedTextYAMLParser, LimitedXYAMLParser]

    @extend_schema(
        tags=TAG,
        summary="Create a workflow from an exported document (JSON or YAML)",
        request={"application/json": dict, "application/yaml": str},
        responses={201: s.WorkflowCreatedOutput},
    )
    def post(self, request: Request) -> Response:
        workflow = workflow_import(user=request.user, document=request.data, name=request.query_params.get("name"))
        return Response({"id": workflow.id, **_workflow(workflow)}, status=status.HTTP_201_CREATED)
