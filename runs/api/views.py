"""Thin views over runs/services.py and runs/selectors.py (SPEC 6)."""

from __future__ import annotations

import time

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestrator.api.pagination import paginated
from orchestrator.events import event_payload
from orchestrator.redaction import redact, redact_text
from runs.api import serializers as s
from runs.idempotency import idempotent
from runs.models import RUN_TERMINAL, Run
from runs.selectors import event_list, run_get, run_list, run_step_runs
from runs.services import run_cancel, run_create, run_delete, run_resume, run_signal
from workflows.selectors import workflow_get

TAG = ["Runs"]


def _valid(serializer_class: type, data: object) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def run_body(run: Run) -> dict:
    return {"run": s.RunOutput(run).data}


class WorkflowRunView(APIView):
    @extend_schema(
        tags=TAG,
        summary="Start a run; answers 202 at once",
        request=s.RunStartInput,
        responses={202: s.RunStartedOutput},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        examples=[
            OpenApiExample(
                "Run", value={"input_data": {"dataset_id": "ds_123"}, "trigger": "manual"}, request_only=True
            )
        ],
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        data = _valid(s.RunStartInput, request.data)

        def start() -> Response:
            run = run_create(
                workflow=workflow,
                inputs=data.get("input_data", {}),
                trigger=data["trigger"],
                user=request.user,
                metadata=data.get("metadata"),
            )
            return Response({"run_id": run.id}, status=status.HTTP_202_ACCEPTED)

        return idempotent(request, start)


class WorkflowExecuteView(APIView):
    @extend_schema(
        tags=TAG,
        summary='Start a run; with "async": false wait for its end (up to wait_seconds)',
        request=s.ExecuteInput,
        responses={200: s.RunEnvelope, 202: s.RunEnvelope},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        examples=[
            OpenApiExample(
                "Execute",
                value={"input_data": {"user_query": "hello"}, "async": True, "metadata": {"requestedBy": "user_456"}},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        data = _valid(s.ExecuteInput, request.data)

        def start() -> Response:
            run = run_create(
                workflow=workflow,
                inputs=data["run_input"],
                trigger="api",
                user=request.user,
                metadata=data.get("metadata"),
            )
            return Response(run_body(run_get(tenant=request.user.tenant, run_id=run.id)), status=202)

        response = idempotent(request, start)
        if data["async"] or response.status_code != 202:
            return response
        run_id = response.data["run"]["id"]
        deadline = time.monotonic() + data["wait_seconds"]
        while time.monotonic() < deadline:
            if Run.objects.filter(id=run_id, status__in=RUN_TERMINAL).exists():
                break
            time.sleep(0.05)
        run = run_get(tenant=request.user.tenant, run_id=run_id)
        return Response(run_body(run), status=200 if run.is_terminal else 202)


class WorkflowRunListView(APIView):
    @extend_schema(
        tags=TAG,
        summary="Runs of a workflow, newest first",
        parameters=[OpenApiParameter("status", str), OpenApiParameter("trigger", str)],
        responses=s.RunListOutput,
    )
    def get(self, request: Request, workflow_id: str) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        runs = run_list(
            tenant=request.user.tenant,
            workflow_id=workflow.id,
            status=request.query_params.get("status"),
            trigger=request.query_params.get("trigger"),
        )
        return paginated(request, runs, "runs", lambda r: s.RunSummaryOutput(r).data)


class RunListView(APIView):
    @extend_schema(
        tags=TAG,
        summary="Every run of the tenant, newest first",
        parameters=[
            OpenApiParameter("workflow_id", str),
            OpenApiParameter("status", str),
            OpenApiParameter("trigger", str),
            OpenApiParameter("since", str, description="ISO 8601"),
            OpenApiParameter("until", str, description="ISO 8601"),
        ],
        responses=s.RunListOutput,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        runs = run_list(
            tenant=request.user.tenant,
            workflow_id=params.get("workflow_id"),
            status=params.get("status"),
            trigger=params.get("trigger"),
            since=params.get("since"),
            until=params.get("until"),
        )
        return paginated(request, runs, "runs", lambda r: s.RunSummaryOutput(r).data)


class RunDetailView(APIView):
    @extend_schema(tags=TAG, summary="A run with its step runs", responses=s.RunEnvelope)
    def get(self, request: Request, run_id: str) -> Response:
        return Response(run_body(run_get(tenant=request.user.tenant, run_id=run_id)))

    @extend_schema(tags=TAG, summary="Delete a finished run (409 while it runs)", responses={204: None})
    def delete(self, request: Request, run_id: str) -> Response:
        run_delete(run=run_get(tenant=request.user.tenant, run_id=run_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RunStatusView(APIView):
    @extend_schema(tags=TAG, summary="A run's status and each step's", responses=s.RunStatusOutput)
    def get(self, request: Request, run_id: str) -> Response:
        run = run_get(tenant=request.user.tenant, run_id=run_id)
        node_statuses = {sr.step_id: sr.status for sr in run.step_runs.all()}
        return Response({"id": run.id, "status": run.status, "node_statuses": node_statuses})


class RunLogsView(APIView):
    @extend_schema(tags=TAG, summary="Per-step log entries, secrets redacted", responses=s.LogListOutput)
    def get(self, request: Request, run_id: str) -> Response:
        run = run_get(tenant=request.user.tenant, run_id=run_id)
        names = {step["id"]: step.get("name") or step["id"] for step in run.definition.get("steps", [])}

        def entry(sr) -> dict:
            duration = sr.duration_seconds
            return {
                "step_id": sr.step_id,
                "step_name": names.get(sr.step_id, sr.step_id),
                "step_type": sr.step_type,
                "status": sr.status,
                "attempt": sr.attempt,
                "input": redact(sr.input),
                "output": redact(sr.output),
                "error": redact_text(sr.error) if sr.error else None,
                "logs": redact_text(sr.logs or ""),
                "started_at": sr.started_at,
                "completed_at": sr.completed_at,
                "duration_ms": int(duration * 1000) if duration is not None else None,
            }

        return paginated(request, run_step_runs(run=run), "logs", lambda sr: s.LogEntryOutput(entry(sr)).data)


def _after(request: Request) -> int | None:
    raw = request.query_params.get("after")
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        from orchestrator.errors import ValidationFailed

        raise ValidationFailed("after must be an event sequence number.")


class RunEventsView(APIView):
    @extend_schema(
        tags=["Events"],
        summary="The run's events in order",
        parameters=[OpenApiParameter("after", int, description="only events after this sequence")],
        responses=s.EventListOutput,
    )
    def get(self, request: Request, run_id: str) -> Response:
        run = run_get(tenant=request.user.tenant, run_id=run_id)
        events = event_list(tenant=request.user.tenant, run_id=run.id, after=_after(request))
        return paginated(request, events, "events", event_payload)


class RunCancelView(APIView):
    @extend_schema(
        tags=TAG, summary="Cancel a run (400 when already finished)", request=s.CancelInput, responses=s.RunEnvelope
    )
    def post(self, request: Request, run_id: str) -> Response:
        run = run_get(tenant=request.user.tenant, run_id=run_id)
        data = _valid(s.CancelInput, request.data or {})
        run_cancel(run=run, **({"reason": data["reason"]} if "reason" in data else {}))
        return Response(run_body(run_get(tenant=request.user.tenant, run_id=run_id)))


class RunResumeView(APIView):
    @extend_schema(
        tags=TAG,
        summary="Resume: re-run from a step (a new run), or continue a step waiting for a signal",
        request=s.ResumeInput,
        responses={200: s.RunEnvelope, 202: s.RunEnvelope},
        examples=[
            OpenApiExample("From a step", value={"from_step": "notify"}, request_only=True),
            OpenApiExample("Signal", value={"signal": {"approved": True}}, request_only=True),
        ],
    )
    def post(self, request: Request, run_id: str) -> Response:
        run = run_get(tenant=request.user.tenant, run_id=run_id)
        data = _valid(s.ResumeInput, request.data or {})
        if "signal" in data:
            run = run_signal(run=run, payload=data["signal"], step_id=data.get("from_step"))
            return Response(run_body(run_get(tenant=request.user.tenant, run_id=run.id)))
        new = run_resume(run=run, user=request.user, from_step=data.get("from_step"))
        return Response(run_body(run_get(tenant=request.user.tenant, run_id=new.id)), status=202)


class EventListView(APIView):
    @extend_schema(
        tags=["Events"],
        summary="Events of the tenant",
        parameters=[
            OpenApiParameter("workflow_id", str),
            OpenApiParameter("run_id", str),
            OpenApiParameter("type", str),
            OpenApiParameter("since", str, description="ISO 8601"),
        ],
        responses=s.EventListOutput,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        events = event_list(
            tenant=request.user.tenant,
            run_id=params.get("run_id"),
            workflow_id=params.get("workflow_id"),
            type=params.get("type"),
            since=params.get("since"),
        )
        return paginated(request, events, "events", event_payload)


class WorkflowEventListView(APIView):
    @extend_schema(tags=["Events"], summary="Events of every run of a workflow", responses=s.EventListOutput)
    def get(self, request: Request, workflow_id: str) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        events = event_list(
            tenant=request.user.tenant,
            workflow_id=workflow.id,
            type=request.query_params.get("type"),
            since=request.query_params.get("since"),
        )
        return paginated(request, events, "events", event_payload)
