"""Reads of runs, step runs and events, always within one tenant."""

from __future__ import annotations

import time
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils.dateparse import parse_datetime

from orchestrator.errors import NotFound, ValidationFailed
from orchestrator.models import Tenant
from runs.models import RUN_TERMINAL, Event, Run, RunStatus, RunTrigger, StepRun


def _choice(value: str | None, choices: type, field: str) -> str | None:
    if value and value not in choices.values:
        raise ValidationFailed(
            f"{field} must be one of {', '.join(choices.values)}.",
            details=[{"field": field, "message": f"{value!r} is not a valid choice."}],
        )
    return value or None


def _when(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
    except (ValueError, OverflowError):  # well-formed but impossible: 2024-13-45
        parsed = None
    if parsed is None:
        raise ValidationFailed(
            f"{field} must be an ISO 8601 date-time.", details=[{"field": field, "message": "Not a date-time."}]
        )
    return parsed


def _top_level_steps() -> Prefetch:
    return Prefetch("step_runs", queryset=StepRun.objects.filter(parent__isnull=True).order_by("id"))


def run_list(
    *,
    tenant: Tenant,
    workflow_id: str | None = None,
    status: str | None = None,
    trigger: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> QuerySet[Run]:
    qs = Run.objects.for_tenant(tenant).defer("definition")
    if workflow_id:
        qs = qs.filter(workflow_id=workflow_id)
    if _choice(status, RunStatus, "status"):
        qs = qs.filter(status=status)
    if _choice(trigger, RunTrigger, "trigger"):
        qs = qs.filter(trigger=trigger)
    if since_at := _when(since, "since"):
        qs = qs.filter(created_at__gte=since_at)
    if until_at := _when(until, "until"):
        qs = qs.filter(created_at__lte=until_at)
    return qs.prefetch_related(_top_level_steps())


def run_get(*, tenant: Tenant, run_id: str) -> Run:
    run = Run.objects.for_tenant(tenant).filter(id=run_id).prefetch_related(_top_level_steps()).first()
    if run is None:
        raise NotFound(f"Run {run_id!r} was not found.")
    return run


def run_wait(*, tenant: Tenant, run_id: str, seconds: float) -> Run:
    """The run once it has ended, or as it is after ``seconds`` (for ``"async": false`` callers).

    Polls one indexed row: the web process holds no worker and subscribes to nothing.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if Run.objects.filter(id=run_id, status__in=RUN_TERMINAL).exists():
            break
        time.sleep(0.05)
    return run_get(tenant=tenant, run_id=run_id)


def run_step_runs(*, run: Run) -> QuerySet[StepRun]:
    """Every step run of a run, loop iterations included, in execution order."""
    return StepRun.objects.filter(run_id=run.id).order_by("started_at", "id")


def event_list(
    *,
    tenant: Tenant,
    run_id: str | None = None,
    workflow_id: str | None = None,
    type: str | None = None,
    since: str | None = None,
    after: int | None = None,
) -> QuerySet[Event]:
    qs = Event.objects.for_tenant(tenant)
    if run_id:
        qs = qs.filter(run_id=run_id)
    if workflow_id:
        qs = qs.filter(workflow_id=workflow_id)
    if type:
        qs = qs.filter(type=type)
    if since_at := _when(since, "since"):
        qs = qs.filter(timestamp__gte=since_at)
    if after is not None:
        qs = qs.filter(sequence__gt=after)
    return qs.order_by("timestamp", "run_id", "sequence") if not run_id else qs.order_by("sequence")
