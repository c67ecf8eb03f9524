"""Seed 000 (the executions API): ``/api/executions``, ``/api/executions/{id}``,
``/api/executions/{id}/cancel``.

Its other paths are canonical ones and served by the canonical views:
``POST /api/workflows/{id}/execute`` (takes ``input_data``), ``/api/workflows…`` CRUD (a
definition of ``nodes`` + ``edges`` with ``source``/``target`` loads as it is), ``GET
/api/events``, ``GET /api/workflows/{id}/events``, ``WS /ws/workflows/{id}`` and the node types.

An execution is a run: these answer canonical run objects in the canonical envelope
(``{"runs": [...], "total"}``, ``{"run": {...}}``), the same body a 000 client gets from
``execute``. The seed's ``{"data": …, "status": "success"}`` wrapper is not used: SPEC 14 gives
this surface the canonical objects and envelope.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestrator.api.pagination import paginated
from runs.api.serializers import CancelInput, RunEnvelope, RunListOutput, RunOutput, RunSummaryOutput
from runs.selectors import run_get, run_list
from runs.services import run_cancel

TAG = "Seed 000: executions API"


def _run_body(request: Request, run_id: str) -> dict:
    return {"run": RunOutput(run_get(tenant=request.user.tenant, run_id=run_id)).data}


class ExecutionListView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="seed000_executions_list",
        summary="Executions (runs) of the tenant, newest first",
        parameters=[
            OpenApiParameter("workflow_id", str),
            OpenApiParameter(
                "status", str, enum=["queued", "running", "paused", "completed", "failed", "cancelled", "timed_out"]
            ),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
        responses=RunListOutput,
    )
    def get(self, request: Request) -> Response:
        runs = run_list(
            tenant=request.user.tenant,
            workflow_id=request.query_params.get("workflow_id"),
            status=request.query_params.get("status"),
        )
        return paginated(request, runs, "runs", lambda run: RunSummaryOutput(run).data)


class ExecutionDetailView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="seed000_executions_get",
        summary="An execution: status, step results and outputs",
        responses=RunEnvelope,
    )
    def get(self, request: Request, execution_id: str) -> Response:
        return Response(_run_body(request, execution_id))


class ExecutionCancelView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="seed000_executions_cancel",
        summary="Cancel a running execution (400 when it has already ended)",
        request=CancelInput,
        responses=RunEnvelope,
    )
    def post(self, request: Request, execution_id: str) -> Response:
        run = run_get(tenant=request.user.tenant, run_id=execution_id)
        data = CancelInput(data=request.data or {})
        data.is_valid(raise_exception=True)
        run_cancel(run=run, **data.validated_data)
        return Response(_run_body(request, execution_id))
