"""Seed 003 (the Orchestrate REST API), base ``/api/eai/v3/orchestrate``.

* ``GET /workflows`` → ``{"data": [{id, name, description, version, status, steps: [{id, name, type}]}]}``
  (``version`` is the workflow's semantic version label; ``limit``/``offset`` as everywhere).
* ``POST /workflows/{id}/execute`` ``{input, async, metadata, wait_seconds?}`` → the execution:
  202 while it runs, 200 once ended (``"async": false`` waits up to ``wait_seconds``, 30 by
  default, like the canonical ``execute``). ``metadata`` is the run's metadata;
  ``Idempotency-Key`` is honoured.
* ``GET /executions`` (``workflowId``, ``state``, ``limit``, ``offset``) → ``{"data": [...]}``.
* ``GET /executions/{id}`` → the execution with ``output`` and each step's ``duration`` (ms).
* ``POST /executions/{id}/cancel`` → 204, empty body (400 in the canonical envelope when the
  execution has already ended).

An execution is a run: ``{id, workflowId, state, input, output, error, metadata, steps: [{stepId,
name, type, state, duration, startedAt, completedAt}], startedAt, completedAt}``. ``state`` is the
canonical status word (``queued``, ``running``, ``paused``, ``completed``, ``failed``,
``cancelled``, ``timed_out``): the seed names no other. Errors are the canonical envelope.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestrator.api.pagination import page_params
from orchestrator.api.serializers import JSONObjectField
from orchestrator.compat.shapes import iso, masked, masked_text, milliseconds, page
from orchestrator.errors import ValidationFailed
from runs.idempotency import idempotent
from runs.models import Run, RunStatus
from runs.selectors import run_get, run_list, run_wait
from runs.services import run_cancel, run_create
from workflows.models import Workflow
from workflows.selectors import workflow_get, workflow_list

TAG = "Seed 003: Orchestrate REST API v3"


def v3_workflow(workflow: Workflow) -> dict:
    return {
        "id": workflow.id,
        "name": workflow.name,
        "description": workflow.description,
        "version": workflow.semantic_version,
        "status": workflow.status,
        "steps": [
            {"id": step["id"], "name": step.get("name") or step["id"], "type": step["type"]}
            for step in workflow.definition.get("steps", [])
        ],
    }


def v3_summary(run: Run) -> dict:
    return {
        "id": run.id,
        "workflowId": run.workflow_id,
        "state": run.status,
        "startedAt": iso(run.started_at),
        "completedAt": iso(run.completed_at),
    }


def v3_execution(run: Run) -> dict:
    definition_steps = run.definition.get("steps", [])
    names = {step["id"]: step.get("name") or step["id"] for step in definition_steps}
    order = {step["id"]: index for index, step in enumerate(definition_steps)}
    step_runs = sorted(run.step_runs.all(), key=lambda step_run: order.get(step_run.step_id, len(order)))
    steps = [
        {
            "stepId": step_run.step_id,
            "name": names.get(step_run.step_id, step_run.step_id),
            "type": step_run.step_type,
            "state": step_run.status,
            "duration": milliseconds(step_run.started_at, step_run.completed_at),
            "startedAt": iso(step_run.started_at),
            "completedAt": iso(step_run.completed_at),
        }
        for step_run in step_runs
    ]
    return {
        "id": run.id,
        "workflowId": run.workflow_id,
        "state": run.status,
        "input": masked(run.inputs),
        "output": masked(run.outputs),
        "error": masked_text(run.error),
        "metadata": run.metadata,
        "steps": steps,
        "startedAt": iso(run.started_at),
        "completedAt": iso(run.completed_at),
    }


class V3ExecuteInput(serializers.Serializer):
    input = JSONObjectField(required=False, default=dict)
    metadata = JSONObjectField(required=False, default=dict)
    wait_seconds = serializers.FloatField(required=False, min_value=0, max_value=300, default=30)

    def get_fields(self) -> dict:
        fields = super().get_fields()
        fields["async"] = serializers.BooleanField(required=False, default=True)  # a Python keyword
        return fields


class V3Step(serializers.Serializer):
    stepId = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    state = serializers.ChoiceField(
        choices=["pending", "queued", "running", "waiting", "completed", "failed", "skipped", "cancelled"]
    )
    duration = serializers.IntegerField(allow_null=True, help_text="milliseconds")
    startedAt = serializers.DateTimeField(allow_null=True)
    completedAt = serializers.DateTimeField(allow_null=True)


class V3Execution(serializers.Serializer):
    id = serializers.CharField()
    workflowId = serializers.CharField()
    state = serializers.ChoiceField(choices=RunStatus.choices)
    input = serializers.JSONField()
    output = serializers.JSONField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    metadata = serializers.JSONField()
    steps = V3Step(many=True)
    startedAt = serializers.DateTimeField(allow_null=True)
    completedAt = serializers.DateTimeField(allow_null=True)


class V3ExecutionSummary(serializers.Serializer):
    id = serializers.CharField()
    workflowId = serializers.CharField()
    state = serializers.ChoiceField(choices=RunStatus.choices)
    startedAt = serializers.DateTimeField(allow_null=True)
    completedAt = serializers.DateTimeField(allow_null=True)


class V3ExecutionList(serializers.Serializer):
    data = V3ExecutionSummary(many=True)


class V3WorkflowStep(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()


class V3Workflow(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    version = serializers.CharField()
    status = serializers.CharField()
    steps = V3WorkflowStep(many=True)


class V3WorkflowList(serializers.Serializer):
    data = V3Workflow(many=True)


PAGING = [OpenApiParameter("limit", int), OpenApiParameter("offset", int)]


class WorkflowListView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="seed003_workflows_list",
        summary="Workflows with their steps, newest first",
        parameters=PAGING,
        responses=V3WorkflowList,
    )
    def get(self, request: Request) -> Response:
        limit, offset = page_params(request)
        workflows = workflow_list(tenant=request.user.tenant).defer(None)  # the steps are listed
        return Response({"data": [v3_workflow(workflow) for workflow in page(workflows, limit, offset)]})


class WorkflowExecuteView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="seed003_workflows_execute",
        summary='Execute a workflow; with "async": false answer once it has ended (up to wait_seconds)',
        request=V3ExecuteInput,
        responses={200: V3Execution, 202: V3Execution},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        examples=[
            OpenApiExample(
                "Seed 003",
                value={
                    "input": {"projectId": "proj_123", "analysisType": "comprehensive"},
                    "async": True,
                    "metadata": {"requestedBy": "user_456"},
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        data = V3ExecuteInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data

        def start() -> Response:
            run = run_create(
                workflow=workflow, inputs=fields["input"], trigger="api", user=request.user, metadata=fields["metadata"]
            )
            return Response(v3_execution(run_get(tenant=request.user.tenant, run_id=run.id)), status=202)

        response = idempotent(request, start)
        if fields["async"] or response.status_code != 202:
            return response
        run = run_wait(tenant=request.user.tenant, run_id=response.data["id"], seconds=fields["wait_seconds"])
        return Response(v3_execution(run), status=200 if run.is_terminal else 202)


class ExecutionListView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="seed003_executions_list",
        summary="Executions of the tenant, newest first",
        parameters=[
            OpenApiParameter("workflowId", str),
            OpenApiParameter("state", str, enum=RunStatus.values),
            *PAGING,
        ],
        responses=V3ExecutionList,
    )
    def get(self, request: Request) -> Response:
        limit, offset = page_params(request)
        state = request.query_params.get("state") or None
        if state is not None and state not in RunStatus.values:
            raise ValidationFailed(
                f"state must be one of {', '.join(RunStatus.values)}.",
                details=[{"field": "state", "message": f"{state!r} is not a valid choice."}],
            )
        runs = run_list(tenant=request.user.tenant, workflow_id=request.query_params.get("workflowId"), status=state)
        return Response({"data": [v3_summary(run) for run in page(runs, limit, offset)]})


class ExecutionDetailView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="seed003_executions_get",
        summary="An execution with its output and each step's duration (ms)",
        responses=V3Execution,
    )
    def get(self, request: Request, execution_id: str) -> Response:
        return Response(v3_execution(run_get(tenant=request.user.tenant, run_id=execution_id)))


class ExecutionCancelView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="seed003_executions_cancel",
        summary="Cancel an execution: 204, empty body (400 when it has already ended)",
        request=None,
        responses={204: None},
    )
    def post(self, request: Request, execution_id: str) -> Response:
        run_cancel(run=run_get(tenant=request.user.tenant, run_id=execution_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
