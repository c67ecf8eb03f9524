"""Seed 004 (the Workflows API v2), base ``/api/v2/workflows``.

Answers ``{"success": true, "<noun>": …}``; lists ``{"success": true, "<plural>": [...], "count": N}``
where ``count`` is the number in the answer (the seed's) and ``total`` the number matching;
errors ``{"success": false, "error": "<message>", "code", "details"}`` with the seed's status
codes: 401 without credentials, 400 for bad input (a PATCH with no valid field, a bad cron, a
run that has already ended), 404 for what does not exist *or belongs to another tenant* (the
seed's 403 would reveal that it exists), 409 for a duplicate name or a workflow that cannot run.

* ``GET /health`` (public): ``{status, service, version, timestamp, checks}``; ``version`` is
  this surface's API version (2.0.0), ``orchestrator_version`` the service's; 503 when the
  database is down.
* ``GET /`` (``status``, ``limit``, ``offset``) and ``POST /`` ``{name, description?,
  definition: {nodes: [...]}, version?}`` → 201; 409 on a duplicate name.
* ``GET``/``PATCH``/``DELETE /{id}``; PATCH takes ``name``, ``description``, ``definition``,
  ``version``, ``status`` (``active`` or ``archived``), ignores other keys, 400 without one.
* ``GET /{id}/schema`` → ``{inputs, outputs}`` JSON Schemas.
* ``POST /{id}/execute`` ``{inputs}`` → 201 ``{run}``; ``Idempotency-Key`` honoured.
* ``GET /{id}/runs`` (``status``, ``limit``, ``offset``), ``GET /{id}/runs/{run_id}``,
  ``DELETE /{id}/runs/{run_id}`` (terminates; 400 when already ended).
* ``GET``/``POST /{id}/schedules``, ``PATCH``/``DELETE /{id}/schedules/{schedule_id}``
  (the canonical schedule object; managing schedules needs the admin role, as everywhere).

A workflow: ``{id, customer_id, name, description, definition, version, status, created_by,
created_at, updated_at}``. ``version`` is the semantic version label (``Workflow.semantic_version``:
"1.0.0" on create, kept as given on PATCH, never bumped by us); the integer definition version
stays the canonical API's. ``definition`` is ``{nodes, inputs, outputs[, settings]}`` with each
node ``{id, type, [name], [action], config, [input_from]}``: ``input_from`` is a string for one
dependency and a list for several, ``action`` is lifted out of ``config``. In lists, as in the
seed, ``definition`` is that object as a JSON string; in every other answer it is the object.

A run: ``{id, workflow_id, customer_id, status, inputs, outputs, error, started_at,
finished_at}``; statuses ``running`` (queued, running or paused), ``completed``, ``failed`` (or
timed out) and ``terminated`` (what the canonical API calls ``cancelled``).

* ``POST /parse`` ``{instruction, context?: {availableTools, organizationId, …}}``: the authoring
  package's parse (``workflow_parse``), answered ``{"success": true, "workflow": {…}, "parseTimeMs"}``
  with the workflow's ``steps`` as this surface's nodes (``action``, ``input_from``), so that
  ``{"definition": {"nodes": steps, "inputs", "outputs"}}`` is what ``POST /`` takes; 400 for an
  instruction under 5 characters, 422 when nothing to do is found in it.
"""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestrator.api.health import HEALTH_STATUSES, health_report
from orchestrator.api.pagination import page_params
from orchestrator.api.serializers import JSONObjectField
from orchestrator.authoring.parse import workflow_parse
from orchestrator.compat.shapes import iso, masked, masked_text, page
from orchestrator.errors import NotFound, ValidationFailed
from orchestrator.models import Role
from runs.idempotency import idempotent
from runs.models import Run, RunStatus
from runs.selectors import run_get, run_list
from runs.services import run_cancel, run_create
from workflows.api.authoring_examples import PARSE_NOT_UNDERSTOOD, PARSE_REQUEST, PARSE_RESPONSE
from workflows.api.authoring_serializers import ParseContextField
from workflows.api.schedules import ScheduleCreateInput, ScheduleOutput, SchedulePatchInput
from workflows.models import Schedule, Workflow, WorkflowStatus
from workflows.schedules import schedule_create, schedule_delete, schedule_get, schedule_list, schedule_update
from workflows.selectors import workflow_get, workflow_io_schema, workflow_list
from workflows.services import workflow_create, workflow_delete, workflow_update

TAG = "Seed 004: Workflows API v2"
SERVICE = "workflows-api-v2"
API_VERSION = "2.0.0"

RUN_STATUS = {
    RunStatus.QUEUED: "running",
    RunStatus.RUNNING: "running",
    RunStatus.PAUSED: "running",
    RunStatus.COMPLETED: "completed",
    RunStatus.FAILED: "failed",
    RunStatus.TIMED_OUT: "failed",
    RunStatus.CANCELLED: "terminated",
}
RUN_STATUS_FILTER = {
    "running": [RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED],
    "completed": [RunStatus.COMPLETED],
    "failed": [RunStatus.FAILED, RunStatus.TIMED_OUT],
    "terminated": [RunStatus.CANCELLED],
}
PATCH_STATUSES = (WorkflowStatus.ACTIVE, WorkflowStatus.ARCHIVED)
NODE_KEYS = ("description", "when", "trigger_rule", "continue_on_error", "retry", "timeout_seconds")


def v2_definition(definition: dict) -> dict:
    nodes = []
    for step in definition.get("steps", []):
        node: dict[str, Any] = {"id": step["id"], "type": step["type"]}
        if step.get("name") and step["name"] != step["id"]:
            node["name"] = step["name"]
        config = dict(step.get("config") or {})
        if isinstance(config.get("action"), str):
            node["action"] = config.pop("action")
        node["config"] = config
        depends_on = step.get("depends_on") or []
        if depends_on:
            node["input_from"] = depends_on[0] if len(depends_on) == 1 else list(depends_on)
        node.update({key: step[key] for key in NODE_KEYS if key in step})
        nodes.append(node)
    shaped = {"nodes": nodes, "inputs": definition.get("inputs", {}), "outputs": definition.get("outputs", {})}
    if definition.get("settings"):
        shaped["settings"] = definition["settings"]
    return shaped


def v2_workflow(workflow: Workflow, *, definition_as_text: bool = False) -> dict:
    definition = v2_definition(workflow.definition)
    return {
        "id": workflow.id,
        "customer_id": workflow.tenant_id,
        "name": workflow.name,
        "description": workflow.description,
        "definition": json.dumps(definition) if definition_as_text else definition,
        "version": workflow.semantic_version,
        "status": workflow.status,
        "created_by": workflow.created_by_id,
        "created_at": iso(workflow.created_at),
        "updated_at": iso(workflow.updated_at),
    }


def v2_run(run: Run) -> dict:
    return {
        "id": run.id,
        "workflow_id": run.workflow_id,
        "customer_id": run.tenant_id,
        "status": RUN_STATUS[run.status],
        "inputs": masked(run.inputs),
        "outputs": masked(run.outputs),
        "error": masked_text(run.error),
        # Submitted is started, to this seed's clients: a run waiting for a slot has no start yet.
        "started_at": iso(run.started_at or run.created_at),
        "finished_at": iso(run.completed_at),
    }


def _definition_checked(value: Any) -> dict:
    if not isinstance(value, dict) or not isinstance(value.get("nodes", value.get("steps")), list):
        raise ValidationFailed(
            "definition must be an object with a nodes array.",
            details=[{"field": "definition", "message": "An object with a nodes array is required."}],
        )
    return value


class V2Error(serializers.Serializer):
    success = serializers.BooleanField(help_text="Always false.")
    error = serializers.CharField(help_text="What went wrong, for a person.")
    code = serializers.CharField(help_text="The canonical API's machine code.")
    details = serializers.JSONField(allow_null=True)


class V2View(APIView):
    """Errors in this seed's envelope: ``{"success": false, "error": "<message>"}`` (plus the
    canonical ``code`` and ``details``), same status codes as the canonical API."""

    openapi_error_serializer = V2Error

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        error = response.data.get("error") if isinstance(response.data, dict) else None
        if isinstance(error, dict):
            response.data = {
                "success": False,
                "error": error.get("message"),
                "code": error.get("code"),
                "details": error.get("details"),
            }
        return response


def _workflow(request: Request, workflow_id: str) -> Workflow:
    return workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)


def _run_of(request: Request, workflow: Workflow, run_id: str) -> Run:
    run = run_get(tenant=request.user.tenant, run_id=run_id)
    if run.workflow_id != workflow.id:
        raise NotFound(f"Run {run_id!r} was not found.")
    return run


def _schedule_of(request: Request, workflow: Workflow, schedule_id: str) -> Schedule:
    schedule = schedule_get(tenant=request.user.tenant, schedule_id=schedule_id)
    if schedule.workflow_id != workflow.id:
        raise NotFound(f"Schedule {schedule_id!r} was not found.")
    return schedule


def _valid(serializer_class: type, data: Any) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- request and answer shapes (for validation and the OpenAPI document) ------------------------


class V2WorkflowCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    definition = JSONObjectField()
    version = serializers.CharField(required=False, max_length=50, default="1.0.0")


class V2WorkflowPatchInput(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    definition = JSONObjectField(required=False)
    version = serializers.CharField(required=False, max_length=50)
    status = serializers.ChoiceField(choices=PATCH_STATUSES, required=False)


class V2ParseInput(serializers.Serializer):
    instruction = serializers.CharField(min_length=5, max_length=5000, trim_whitespace=True)
    context = ParseContextField(required=False)


class V2ExecuteInput(serializers.Serializer):
    inputs = JSONObjectField(required=False, default=dict)


class V2Workflow(serializers.Serializer):
    id = serializers.CharField()
    customer_id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    definition = serializers.JSONField(help_text="An object; in lists, that object as a JSON string.")
    version = serializers.CharField()
    status = serializers.ChoiceField(choices=WorkflowStatus.choices)
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class V2Run(serializers.Serializer):
    id = serializers.CharField()
    workflow_id = serializers.CharField()
    customer_id = serializers.CharField()
    status = serializers.ChoiceField(choices=list(RUN_STATUS_FILTER))
    inputs = serializers.JSONField()
    outputs = serializers.JSONField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


def _envelope(name: str, **fields: serializers.Field) -> serializers.Serializer:
    return inline_serializer(name, {"success": serializers.BooleanField(), **fields})


MESSAGE = _envelope("V2Message", message=serializers.CharField())
WORKFLOW = _envelope("V2WorkflowEnvelope", workflow=V2Workflow())
RUN = _envelope("V2RunEnvelope", run=V2Run())
SCHEDULE = _envelope("V2ScheduleEnvelope", schedule=ScheduleOutput())
PAGING = [OpenApiParameter("limit", int), OpenApiParameter("offset", int)]


def _listing(name: str, plural: str, item: serializers.Serializer) -> serializers.Serializer:
    return _envelope(name, **{plural: item, "count": serializers.IntegerField(), "total": serializers.IntegerField()})


# --- views ------------------------------------------------------------------------------------------


V2_HEALTH = inline_serializer(
    "V2Health",
    {
        "status": serializers.ChoiceField(choices=HEALTH_STATUSES),
        "service": serializers.CharField(),
        "version": serializers.CharField(),
        "orchestrator_version": serializers.CharField(),
        "timestamp": serializers.DateTimeField(),
        "checks": serializers.DictField(child=serializers.CharField()),
    },
)


class HealthView(V2View):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        tags=[TAG],
        operation_id="v2_workflows_health",
        summary="Service health (public); 503 when the database is down",
        auth=[],
        responses={200: V2_HEALTH, 503: V2_HEALTH},
    )
    def get(self, request: Request) -> Response:
        report, code = health_report()
        body = {
            "status": report["status"],
            "service": SERVICE,
            "version": API_VERSION,
            "orchestrator_version": report["version"],
            "timestamp": report["timestamp"],
            "checks": report["checks"],
        }
        return Response(body, status=code)


def v2_parsed(workflow: dict) -> dict:
    """A parse result with its steps as this surface's nodes; every other field as parse gives it."""
    return {**workflow, "steps": v2_definition({"steps": workflow["steps"]})["nodes"]}


class ParseView(V2View):
    write_role = Role.VIEWER  # parsing saves nothing
    openapi_errors = (404, 422)  # an unknown context.integration_id; nothing to do found in the instruction

    @extend_schema(
        tags=[TAG],
        operation_id="v2_workflows_parse",
        summary="Natural language → a workflow definition (template, llm or rules)",
        description=(
            "The canonical `POST /api/workflows/parse` in this surface's envelope: the workflow's `steps` are "
            "nodes as `POST /api/v2/workflows` takes them (`action`, `input_from`), `source` is `template`, "
            "`llm` or `rules`, and `schedule` (only when the instruction states one) is what "
            "`POST /{id}/schedules` takes. 400 for an instruction under 5 characters, 422 when nothing to do "
            "is found in it."
        ),
        request=V2ParseInput,
        responses={
            200: _envelope("V2ParseEnvelope", workflow=serializers.DictField(), parseTimeMs=serializers.FloatField())
        },
        examples=[
            OpenApiExample("Seed 004", value=PARSE_REQUEST, request_only=True),
            OpenApiExample(
                "Seed 004 parsed by the rules",
                value={
                    "success": True,
                    "workflow": v2_parsed(PARSE_RESPONSE["workflow"]),
                    "parseTimeMs": PARSE_RESPONSE["parse_time_ms"],
                },
                response_only=True,
                status_codes=["200"],
            ),
            OpenApiExample(
                "Nonsense",
                value={
                    "success": False,
                    "error": PARSE_NOT_UNDERSTOOD["error"]["message"],
                    "code": PARSE_NOT_UNDERSTOOD["error"]["code"],
                    "details": PARSE_NOT_UNDERSTOOD["error"]["details"],
                },
                response_only=True,
                status_codes=["422"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        data = _valid(V2ParseInput, request.data)
        parsed = workflow_parse(
            tenant=request.user.tenant, instruction=data["instruction"], context=data.get("context")
        )
        return Response(
            {"success": True, "workflow": v2_parsed(parsed["workflow"]), "parseTimeMs": parsed["parse_time_ms"]}
        )


class WorkflowListCreateView(V2View):
    @extend_schema(
        tags=[TAG],
        operation_id="v2_workflows_list",
        summary="Workflows of the tenant, newest first (definition as a JSON string)",
        parameters=[OpenApiParameter("status", str, enum=WorkflowStatus.values), *PAGING],
        responses=_listing("V2WorkflowList", "workflows", V2Workflow(many=True)),
    )
    def get(self, request: Request) -> Response:
        limit, offset = page_params(request)
        workflows = workflow_list(tenant=request.user.tenant, status=request.query_params.get("status")).defer(None)
        shown = [v2_workflow(w, definition_as_text=True) for w in page(workflows, limit, offset)]
        return Response({"success": True, "workflows": shown, "count": len(shown), "total": workflows.count()})

    @extend_schema(
        tags=[TAG],
        operation_id="v2_workflows_create",
        summary="Create a workflow (409 on a duplicate name)",
        request=V2WorkflowCreateInput,
        responses={201: WORKFLOW},
    )
    def post(self, request: Request) -> Response:
        data = _valid(V2WorkflowCreateInput, request.data)
        workflow = workflow_create(
            user=request.user,
            definition=_definition_checked(data["definition"]),
            name=data["name"],
            description=data["description"],
            semantic_version=data["version"],
        )
        return Response({"success": True, "workflow": v2_workflow(workflow)}, status=status.HTTP_201_CREATED)


class WorkflowDetailView(V2View):
    @extend_schema(tags=[TAG], operation_id="v2_workflows_get", summary="A workflow", responses=WORKFLOW)
    def get(self, request: Request, workflow_id: str) -> Response:
        return Response({"success": True, "workflow": v2_workflow(_workflow(request, workflow_id))})

    @extend_schema(
        tags=[TAG],
        operation_id="v2_workflows_update",
        summary="Update some fields (400 when none is given); status is active or archived",
        request=V2WorkflowPatchInput,
        responses=WORKFLOW,
        examples=[
            OpenApiExample(
                "Seed 004", value={"name": "Weekly Sales & Marketing Report", "status": "active"}, request_only=True
            )
        ],
    )
    def patch(self, request: Request, workflow_id: str) -> Response:
        workflow = _workflow(request, workflow_id)
        data = _valid(V2WorkflowPatchInput, request.data)
        if not data:
            raise ValidationFailed(
                "No valid field to update: give name, description, definition, version or status.",
                details=[{"field": None, "message": "No valid field."}],
            )
        if "definition" in data:
            _definition_checked(data["definition"])
        if "version" in data:
            data["semantic_version"] = data.pop("version")
        workflow = workflow_update(workflow=workflow, user=request.user, **data)
        return Response({"success": True, "workflow": v2_workflow(workflow)})

    @extend_schema(
        tags=[TAG],
        operation_id="v2_workflows_delete",
        summary="Delete a workflow with its runs and schedules",
        responses={200: MESSAGE},
    )
    def delete(self, request: Request, workflow_id: str) -> Response:
        workflow_delete(workflow=_workflow(request, workflow_id))
        return Response({"success": True, "message": "Workflow deleted successfully"})


class WorkflowSchemaView(V2View):
    @extend_schema(
        tags=[TAG],
        operation_id="v2_workflows_schema",
        summary="JSON Schemas of the run input and output",
        responses=_envelope(
            "V2SchemaEnvelope",
            schema=inline_serializer(
                "V2Schema", {"inputs": serializers.DictField(), "outputs": serializers.DictField()}
            ),
        ),
    )
    def get(self, request: Request, workflow_id: str) -> Response:
        return Response({"success": True, "schema": workflow_io_schema(workflow=_workflow(request, workflow_id))})


class WorkflowExecuteView(V2View):
    @extend_schema(
        tags=[TAG],
        operation_id="v2_workflows_execute",
        summary="Start a run (201); archived workflows cannot run (409)",
        request=V2ExecuteInput,
        responses={201: RUN},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        workflow = _workflow(request, workflow_id)
        inputs = _valid(V2ExecuteInput, request.data)["inputs"]

        def start() -> Response:
            run = run_create(workflow=workflow, inputs=inputs, trigger="api", user=request.user)
            return Response({"success": True, "run": v2_run(run)}, status=status.HTTP_201_CREATED)

        return idempotent(request, start)


class RunListView(V2View):
    @extend_schema(
        tags=[TAG],
        operation_id="v2_workflows_runs_list",
        summary="Runs of a workflow, newest first",
        parameters=[OpenApiParameter("status", str, enum=list(RUN_STATUS_FILTER)), *PAGING],
        responses=_listing("V2RunList", "runs", V2Run(many=True)),
    )
    def get(self, request: Request, workflow_id: str) -> Response:
        workflow = _workflow(request, workflow_id)
        wanted = request.query_params.get("status") or None
        if wanted is not None and wanted not in RUN_STATUS_FILTER:
            raise ValidationFailed(
                f"status must be one of {', '.join(RUN_STATUS_FILTER)}.",
                details=[{"field": "status", "message": f"{wanted!r} is not a valid choice."}],
            )
        limit, offset = page_params(request)
        runs = run_list(tenant=request.user.tenant, workflow_id=workflow.id)
        if wanted is not None:
            runs = runs.filter(status__in=RUN_STATUS_FILTER[wanted])
        shown = [v2_run(run) for run in page(runs, limit, offset)]
        return Response({"success": True, "runs": shown, "count": len(shown), "total": runs.count()})


class RunDetailView(V2View):
    @extend_schema(tags=[TAG], operation_id="v2_workflows_runs_get", summary="A run of the workflow", responses=RUN)
    def get(self, request: Request, workflow_id: str, run_id: str) -> Response:
        run = _run_of(request, _workflow(request, workflow_id), run_id)
        return Response({"success": True, "run": v2_run(run)})

    @extend_schema(
        tags=[TAG],
        operation_id="v2_workflows_runs_terminate",
        summary="Terminate a run (400 when it has already ended)",
        responses={200: MESSAGE},
    )
    def delete(self, request: Request, workflow_id: str, run_id: str) -> Response:
        run = _run_of(request, _workflow(request, workflow_id), run_id)
        run_cancel(run=run, reason="Terminated by request.")
        return Response({"success": True, "message": "Workflow run terminated successfully"})


class ScheduleListCreateView(V2View):
    read_role = Role.VIEWER
    write_role = Role.ADMIN

    @extend_schema(
        tags=[TAG],
        operation_id="v2_workflows_schedules_list",
        summary="Schedules of a workflow",
        parameters=PAGING,
        responses=_listing("V2ScheduleList", "schedules", ScheduleOutput(many=True)),
    )
    def get(self, request: Request, workflow_id: str) -> Response:
        schedules = schedule_list(workflow=_workflow(request, workflow_id))
        limit, offset = page_params(request)
        shown = [ScheduleOutput(schedule).data for schedule in page(schedules, limit, offset)]
        return Response({"success": True, "schedules": shown, "count": len(shown), "total": schedules.count()})

    @extend_schema(
        tags=[TAG],
        operation_id="v2_workflows_schedules_create",
        summary="Create a cron schedule (400 for a bad cron or timezone)",
        request=ScheduleCreateInput,
        responses={201: SCHEDULE},
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        workflow = _workflow(request, workflow_id)
        data = _valid(ScheduleCreateInput, request.data)
        data["timezone_name"] = data.pop("timezone")
        schedule = schedule_create(workflow=workflow, user=request.user, **data)
        return Response({"success": True, "schedule": ScheduleOutput(schedule).data}, status=status.HTTP_201_CREATED)


class ScheduleDetailView(V2View):
    read_role = Role.VIEWER
    write_role = Role.ADMIN

    @extend_schema(
        tags=[TAG],
        operation_id="v2_workflows_schedules_update",
        summary="Update a schedule; next_run_at is recomputed",
        request=SchedulePatchInput,
        responses=SCHEDULE,
    )
    def patch(self, request: Request, workflow_id: str, schedule_id: str) -> Response:
        schedule = _schedule_of(request, _workflow(request, workflow_id), schedule_id)
        data = _valid(SchedulePatchInput, request.data)
        return Response({"success": True, "schedule": ScheduleOutput(schedule_update(schedule=schedule, **data)).data})

    @extend_schema(
        tags=[TAG], operation_id="v2_workflows_schedules_delete", summary="Delete a schedule", responses={200: MESSAGE}
    )
    def delete(self, request: Request, workflow_id: str, schedule_id: str) -> Response:
        schedule_delete(schedule=_schedule_of(request, _workflow(request, workflow_id), schedule_id))
        return Response({"success": True, "message": "Schedule deleted successfully"})
