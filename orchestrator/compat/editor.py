"""Seed 002 (the visual workflow editor's API): the paths it does not share with the canonical API.

* ``POST /api/workflows/create`` ``{name, description?, nodes, edges, visibility?}``: a workflow
  from an editor's graph; a manual trigger node is added (wired to every root) when none is
  given. 200 with the workflow as the editor reads it.
* ``GET /api/workflows/{id}/executions``: a bare array of the 50 newest runs, camelCase;
  ``DELETE`` deletes every finished run (with its step runs and events) and leaves active ones.
* ``GET /api/workflows/executions/{id}/status`` → ``{id, status, nodeStatuses}``.
* ``GET /api/workflows/executions/{id}/logs`` → a bare array of camelCase entries, redacted.
* ``POST /api/ai/generate`` ``{prompt, context?}``: the authoring package's streamed generation
  (``POST /api/workflows/generate``) told in the editor's words: ``addNode`` with an editor node
  (``{id, type, data: {label, type, config}, position}``) and ``addEdge`` with an edge ``id``.

Statuses: a run is ``running`` (queued, running or paused), ``success``, ``error`` (failed or
timed out) or ``cancelled``; a step also ``pending`` (not reached yet) or ``skipped``.
``duration`` is a string of milliseconds, as the seed shows it.

Its other paths are canonical and served by the canonical views, which carry the seed's fields
beside their own: ``GET``/``PATCH``/``DELETE /api/workflows/{id}`` (``nodes``, ``edges``,
``visibility``), ``POST …/duplicate``, ``POST``/``OPTIONS …/webhook`` (``executionId``),
``/api/integrations…``, ``/api/api-keys`` (``keyPrefix``, ``createdAt``, ``lastUsedAt``),
``/api/user`` (``image``, ``isAnonymous``, ``providerId``), and the authoring package's code
export ``GET …/code`` and ``…/download``. Errors are the canonical envelope.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestrator.authoring.generation import operations as generation_operations
from orchestrator.compat.shapes import iso, masked, masked_text, milliseconds
from orchestrator.definitions import definition_normalize
from orchestrator.definitions.editor_graph import definition_graph
from orchestrator.step_types import registry
from runs.api.serializers import step_names
from runs.models import Run, StepRun
from runs.selectors import run_get, run_list, run_step_runs
from runs.services import runs_delete_finished
from workflows.api.authoring import WorkflowGenerateView
from workflows.api.authoring_examples import GENERATE_OPS, GENERATE_PROMPT
from workflows.api.authoring_serializers import GenerateInput
from workflows.models import Visibility, Workflow
from workflows.selectors import workflow_get
from workflows.services import workflow_create

TAG = "Seed 002: workflow editor API"
NEWEST = 50

RUN_STATUS = {
    "queued": "running",
    "running": "running",
    "paused": "running",
    "completed": "success",
    "failed": "error",
    "timed_out": "error",
    "cancelled": "cancelled",
}
STEP_STATUS = {
    "pending": "pending",
    "queued": "running",
    "running": "running",
    "waiting": "running",
    "completed": "success",
    "failed": "error",
    "skipped": "skipped",
    "cancelled": "cancelled",
}
MANUAL_TRIGGER_NODE = {
    "type": "trigger",
    "position": {"x": 0, "y": 0},
    "data": {"label": "Manual", "type": "trigger", "config": {"triggerType": "Manual"}},
}


def _duration(started, ended) -> str | None:
    ms = milliseconds(started, ended)
    return str(ms) if ms is not None else None


def editor_workflow(workflow: Workflow) -> dict:
    nodes, edges = definition_graph(workflow.definition)
    return {
        "id": workflow.id,
        "name": workflow.name,
        "description": workflow.description,
        "nodes": nodes,
        "edges": edges,
        "visibility": workflow.visibility,
        "userId": workflow.created_by_id,
        "createdAt": iso(workflow.created_at),
        "updatedAt": iso(workflow.updated_at),
    }


def editor_execution(run: Run) -> dict:
    return {
        "id": run.id,
        "workflowId": run.workflow_id,
        "status": RUN_STATUS[run.status],
        "input": masked(run.inputs),
        "output": masked(run.outputs),
        "error": masked_text(run.error),
        "startedAt": iso(run.started_at),
        "completedAt": iso(run.completed_at),
        "duration": _duration(run.started_at, run.completed_at),
    }


def editor_log(step_run: StepRun, names: dict[str, str]) -> dict:
    return {
        "id": step_run.id,
        "nodeId": step_run.step_id,
        "nodeName": names.get(step_run.step_id, step_run.step_id),
        "nodeType": step_run.step_type,
        "status": STEP_STATUS[step_run.status],
        "input": masked(step_run.input),
        "output": masked(step_run.output),
        "error": masked_text(step_run.error),
        "startedAt": iso(step_run.started_at),
        "completedAt": iso(step_run.completed_at),
        "duration": _duration(step_run.started_at, step_run.completed_at),
    }


def _is_trigger(step: Any) -> bool:
    step_type = registry.get(step.get("type")) if isinstance(step, dict) else None
    return step_type is not None and step_type.category == "trigger"


def with_manual_trigger(nodes: list, edges: list) -> tuple[list, list]:
    """The graph as given when it has a trigger node; otherwise a manual trigger node in front,
    with an edge to every node that depends on nothing (what the editor draws)."""
    steps = definition_normalize({"nodes": nodes, "edges": edges}).get("steps")
    if not isinstance(steps, list) or any(_is_trigger(step) for step in steps):
        return nodes, edges
    taken = {step.get("id") for step in steps if isinstance(step, dict)}
    trigger_id = next(c for c in ("trigger", *(f"trigger_{n}" for n in range(2, len(taken) + 3))) if c not in taken)
    roots = [s["id"] for s in steps if isinstance(s, dict) and isinstance(s.get("id"), str) and not s["depends_on"]]
    wires = [{"id": f"{trigger_id}->{root}", "source": trigger_id, "target": root} for root in roots]
    return [{"id": trigger_id, **MANUAL_TRIGGER_NODE}, *nodes], [*edges, *wires]


class Seed002CreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    nodes = serializers.ListField(child=serializers.JSONField(), required=False, default=list, max_length=10_000)
    edges = serializers.ListField(child=serializers.JSONField(), required=False, default=list, max_length=100_000)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False, default=Visibility.PRIVATE)


class Seed002Workflow(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    nodes = serializers.ListField(child=serializers.DictField())
    edges = serializers.ListField(child=serializers.DictField())
    visibility = serializers.ChoiceField(choices=Visibility.choices)
    userId = serializers.CharField(allow_null=True)
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()


class Seed002Execution(serializers.Serializer):
    id = serializers.CharField()
    workflowId = serializers.CharField()
    status = serializers.ChoiceField(choices=sorted(set(RUN_STATUS.values())))
    input = serializers.JSONField()
    output = serializers.JSONField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    startedAt = serializers.DateTimeField(allow_null=True)
    completedAt = serializers.DateTimeField(allow_null=True)
    duration = serializers.CharField(allow_null=True, help_text="milliseconds")


class Seed002LogEntry(serializers.Serializer):
    id = serializers.CharField()
    nodeId = serializers.CharField()
    nodeName = serializers.CharField()
    nodeType = serializers.CharField()
    status = serializers.ChoiceField(choices=sorted(set(STEP_STATUS.values())))
    input = serializers.JSONField(allow_null=True)
    output = serializers.JSONField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    startedAt = serializers.DateTimeField(allow_null=True)
    completedAt = serializers.DateTimeField(allow_null=True)
    duration = serializers.CharField(allow_null=True, help_text="milliseconds")


class WorkflowCreateView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="seed002_workflows_create",
        summary="Create a workflow from an editor's nodes and edges (a manual trigger is added when none is given)",
        request=Seed002CreateInput,
        responses={200: Seed002Workflow},
        examples=[
            OpenApiExample(
                "Seed 002",
                value={"name": "My Workflow", "description": "Optional description", "nodes": [], "edges": []},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        data = Seed002CreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        nodes, edges = with_manual_trigger(fields["nodes"], fields["edges"])
        workflow = workflow_create(
            user=request.user,
            definition={"nodes": nodes, "edges": edges},
            name=fields["name"],
            description=fields["description"],
            visibility=fields["visibility"],
        )
        return Response(editor_workflow(workflow))


class WorkflowExecutionsView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="seed002_workflow_executions_list",
        summary="The 50 newest executions of a workflow (a bare array, camelCase)",
        responses={200: Seed002Execution(many=True)},
    )
    def get(self, request: Request, workflow_id: str) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        runs = run_list(tenant=request.user.tenant, workflow_id=workflow.id)[:NEWEST]
        return Response([editor_execution(run) for run in runs])

    @extend_schema(
        tags=[TAG],
        operation_id="seed002_workflow_executions_delete",
        summary="Delete every finished execution of a workflow with its logs; active ones are kept",
        request=None,
        responses={
            200: inline_serializer(
                "Seed002ExecutionsDeleted",
                {
                    "success": serializers.BooleanField(),
                    "deleted": serializers.IntegerField(),
                    "active": serializers.IntegerField(),
                },
            )
        },
    )
    def delete(self, request: Request, workflow_id: str) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        deleted, active = runs_delete_finished(workflow=workflow)
        return Response({"success": True, "deleted": deleted, "active": active})


class ExecutionStatusView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="seed002_executions_status",
        summary="An execution's status and each node's",
        responses={
            200: inline_serializer(
                "Seed002ExecutionStatus",
                {
                    "id": serializers.CharField(),
                    "status": serializers.ChoiceField(choices=sorted(set(RUN_STATUS.values()))),
                    "nodeStatuses": serializers.DictField(child=serializers.CharField()),
                },
            )
        },
    )
    def get(self, request: Request, execution_id: str) -> Response:
        run = run_get(tenant=request.user.tenant, run_id=execution_id)
        nodes = {step_run.step_id: STEP_STATUS[step_run.status] for step_run in run.step_runs.all()}
        return Response({"id": run.id, "status": RUN_STATUS[run.status], "nodeStatuses": nodes})


class ExecutionLogsView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="seed002_executions_logs",
        summary="Per-step log entries of an execution (a bare array), secrets redacted",
        responses={200: Seed002LogEntry(many=True)},
    )
    def get(self, request: Request, execution_id: str) -> Response:
        run = run_get(tenant=request.user.tenant, run_id=execution_id)
        names = step_names(run)
        return Response([editor_log(step_run, names) for step_run in run_step_runs(run=run)])


# What the seed's prompt streams here: the canonical example's parse result told as editor nodes.
_DONE = GENERATE_OPS[-1]
NODE_OPS_EXAMPLE = "".join(
    json.dumps(op) + "\n" for op in [*generation_operations(_DONE["workflow"], flavor="nodes"), _DONE]
)


class AiGenerateView(WorkflowGenerateView):
    """The canonical generation view; only the operations' words are the editor's."""

    flavor = "nodes"

    @extend_schema(
        tags=[TAG],
        operation_id="seed002_ai_generate",
        summary="Generate a workflow step by step: JSON Lines of setName, setDescription, addNode, addEdge",
        description=(
            "`POST /api/workflows/generate` in the editor's words: `addNode` carries an editor node "
            "(`{id, type, data: {label, type, config}, position}`), `addEdge` an edge with an `id`; then "
            "`setSchedule`/`setInputs` when stated and `done` with the whole parse result. A failure after the "
            'stream began ends it with `{"op": "error", "code", "message", "details"}`; a bad prompt is a 400.'
        ),
        request=GenerateInput,
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(
                OpenApiTypes.STR, examples=[OpenApiExample("Operations", value=NODE_OPS_EXAMPLE, status_codes=["200"])]
            )
        },
        examples=[OpenApiExample("Seed 002", value={"prompt": GENERATE_PROMPT}, request_only=True)],
    )
    def post(self, request: Request) -> StreamingHttpResponse:
        return super().post(request)
