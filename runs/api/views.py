"""Thin views over runs/services.py and runs/selectors.py (SPEC 6)."""

from __future__ import annotations

from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestrator.api.pagination import INT_MAX, paginated
from orchestrator.errors import ValidationFailed
from orchestrator.live.events import event_payload
from orchestrator.live.streams import EVENT_TYPES, run_stream_response
from runs.api import serializers as s
from runs.idempotency import idempotent
from runs.models import Run
from runs.selectors import event_list, run_get, run_list, run_step_runs, run_wait
from runs.services import run_cancel, run_create, run_delete, run_resume, run_signal
from workflows.selectors import workflow_get

TAG = ["Runs"]

# One Server-Sent Event as a client reads it: the frame's fields, `data` the event's JSON.
SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "description": "The event type, e.g. step_completed."},
        "id": {"type": "string", "description": "The event's sequence number in its run."},
        "data": {"type": "string", "description": "The event as JSON (an Event object)."},
    },
    "required": ["data"],
}


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
        run = run_wait(tenant=request.user.tenant, run_id=response.data["run"]["id"], seconds=data["wait_seconds"])
        return Response(run_body(run), status=200 if run.is_terminal else 202)


class WorkflowRunListView(APIView):
    @extend_schema(
        tags=TAG,
        summary="Runs of a workflow, newest first",
        operation_id="workflow_runs_list",
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
        names = s.step_names(run)
        return paginated(
            request, run_step_runs(run=run), "logs", lambda sr: s.LogEntryOutput(s.log_entry(sr, names)).data
        )


def _non_negative(raw: str | None, field: str) -> int | None:
    if raw in (None, ""):
        return None
    raw = raw.strip()
    # Bounded: a sequence is a PostgreSQL integer (a larger one reached the query, a 500).
    value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 10 else -1
    if not 0 <= value <= INT_MAX:
        raise ValidationFailed(
            f"{field} must be an event sequence number (0 to {INT_MAX}).",
            details=[{"field": field, "message": "Not a non-negative integer."}],
        )
    return value


def _event_type(request: Request) -> str | None:
    value = request.query_params.get("type") or None
    if value is not None and value not in EVENT_TYPES:
        raise ValidationFailed(
            f"type must be one of {', '.join(EVENT_TYPES)}.",
            details=[{"field": "type", "message": f"{value!r} is not an event type."}],
        )
    return value


def _event_filters(request: Request, *, run_id: str | None) -> dict:
    """``type``, ``since``, and ``after`` (a sequence: only meaningful within one run)."""
    after = _non_negative(request.query_params.get("after"), "after")
    if after is not None and not run_id:
        raise ValidationFailed(
            "after needs run_id: sequences are numbered per run.",
            details=[{"field": "after", "message": "Give run_id as well."}],
        )
    return {"type": _event_type(request), "since": request.query_params.get("since"), "after": after}


EVENT_FILTERS = [
    OpenApiParameter("type", str, enum=list(EVENT_TYPES)),
    OpenApiParameter("since", str, description="ISO 8601: events at or after this time"),
    OpenApiParameter("after", int, description="with a run: only events after this sequence"),
]


class RunEventsView(APIView):
    @extend_schema(
        tags=["Events"],
        summary="The run's events in order",
        parameters=EVENT_FILTERS,
        responses=s.EventListOutput,
    )
    def get(self, request: Request, run_id: str) -> Response:
        run = run_get(tenant=request.user.tenant, run_id=run_id)
        events = event_list(tenant=request.user.tenant, run_id=run.id, **_event_filters(request, run_id=run.id))
        return paginated(request, events, "events", event_payload)


class RunStreamView(APIView):
    """Server-Sent Events (SPEC 8); authentication, roles, rate limit and errors as in the rest of the API."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple:
        # Clients ask for text/event-stream; whatever answers before the stream starts is a JSON envelope.
        return JSONRenderer(), JSONRenderer.media_type

    @extend_schema(
        tags=["Events"],
        summary="Stream the run's events (Server-Sent Events); ends after the run's terminal event",
        description=(
            "Frames `event: <type>` / `id: <sequence>` / `data: <event JSON>`. Stored events after "
            "`Last-Event-ID` (or `?after=`) come first, then live ones, with no gap and no duplicate; "
            "a `: keepalive` comment every 15 s."
        ),
        parameters=[
            OpenApiParameter("after", int, description="replay stored events after this sequence (default 0)"),
            OpenApiParameter("Last-Event-ID", int, OpenApiParameter.HEADER, description="wins over ?after="),
        ],
        responses={(200, "text/event-stream"): SSE_EVENT},
    )
    def get(self, request: Request, run_id: str) -> StreamingHttpResponse:
        run = run_get(tenant=request.user.tenant, run_id=run_id)
        header = request.headers.get("Last-Event-ID")
        after = (
            _non_negative(header, "Last-Event-ID")
            if header
            else _non_negative(request.query_params.get("after"), "after")
        )
        live = isinstance(request._request, ASGIRequest)
        return run_stream_response(tenant_id=run.tenant_id, run_id=run.id, after=after or 0, live=live)


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
        summary="Events of the tenant: oldest first, or in sequence order within one run",
        parameters=[OpenApiParameter("workflow_id", str), OpenApiParameter("run_id", str), *EVENT_FILTERS],
        responses=s.EventListOutput,
    )
    def get(self, request: Request) -> Response:
        run_id = request.query_params.get("run_id") or None
        events = event_list(
            tenant=request.user.tenant,
            run_id=run_id,
            workflow_id=request.query_params.get("workflow_id") or None,
            **_event_filters(request, run_id=run_id),
        )
        return paginated(request, events, "events", event_payload)


class WorkflowEventListView(APIView):
    @extend_schema(
        tags=["Events"],
        summary="Events of every run of a workflow",
        parameters=[OpenApiParameter("run_id", str), *EVENT_FILTERS],
        responses=s.EventListOutput,
    )
    def get(self, request: Request, workflow_id: str) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        run_id = request.query_params.get("run_id") or None
        events = event_list(
            tenant=request.user.tenant, workflow_id=workflow.id, run_id=run_id, **_event_filters(request, run_id=run_id)
        )
        return paginated(request, events, "events", event_payload)
