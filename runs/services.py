"""Starting, admitting, cancelling, resuming, signalling and deleting runs."""

from __future__ import annotations

import copy
import logging
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models.fields.json import KT
from django.utils import timezone
from jsonschema import Draft202012Validator

from orchestrator.engine.retries import error_summary, is_transient
from orchestrator.engine.scheduler import graph_of, run_after_end, run_begin, run_lock, steps_cancel
from orchestrator.errors import Conflict, ValidationFailed
from orchestrator.ids import new_ids
from orchestrator.input_limits import value_check
from orchestrator.live.events import event_record, events_buffered
from orchestrator.models import User
from orchestrator.security.redaction import redact_text
from runs.models import RUN_TERMINAL, Run, RunStatus, RunTrigger, StepRun, StepStatus
from runs.statements import row_insert, tenant_lock
from workflows.models import Workflow, WorkflowStatus

logger = logging.getLogger(__name__)

ACTIVE_RUN_STATUSES = (RunStatus.RUNNING, RunStatus.PAUSED)
HAND_TRIGGERS = (RunTrigger.MANUAL, RunTrigger.API, RunTrigger.RESUME)


def _apply_defaults(schema: dict, value: Any) -> Any:
    if not isinstance(schema, dict) or not isinstance(value, dict):
        return value
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        if name not in value and "default" in prop:
            value[name] = copy.deepcopy(prop["default"])
        elif name in value:
            value[name] = _apply_defaults(prop, value[name])
    return value


def inputs_validate(*, schema: dict, inputs: Any) -> dict:
    """Defaults applied, then every violation of the workflow's ``inputs`` schema → 400."""
    if not isinstance(inputs, dict):
        raise ValidationFailed("The run input must be a JSON object.")
    # Before anything copies it: the engine deep-copies and renders the input at every step.
    value_check(inputs, "input")
    inputs = _apply_defaults(schema or {}, copy.deepcopy(inputs))
    if schema:
        errors = sorted(Draft202012Validator(schema).iter_errors(inputs), key=lambda e: list(e.absolute_path))
        if errors:
            details = [
                {"field": "input" + "".join(f".{p}" for p in e.absolute_path), "message": e.message} for e in errors
            ]
            raise ValidationFailed(
                details[0]["message"] if len(details) == 1 else f"The input has {len(details)} problems.",
                details=details,
            )
    return inputs


def _check_runnable(workflow: Workflow, trigger: str) -> None:
    if workflow.status == WorkflowStatus.ARCHIVED:
        raise Conflict(f"Workflow {workflow.id} is archived; it cannot run.")
    if trigger in HAND_TRIGGERS:
        if workflow.status not in (WorkflowStatus.DRAFT, WorkflowStatus.ACTIVE):
            raise Conflict(f"Workflow {workflow.id} is {workflow.status}; only draft and active workflows run.")
    elif workflow.status != WorkflowStatus.ACTIVE:
        raise Conflict(f"Workflow {workflow.id} is {workflow.status}; only active workflows take {trigger} triggers.")


def _workflow_limit(value: Any) -> int:
    """A definition's ``settings.max_concurrent_runs`` (as read by ``KT``: text), else the default."""
    try:
        limit = int(float(value))
    except (TypeError, ValueError):
        limit = 0
    return limit or settings.WORKFLOW_MAX_CONCURRENT_RUNS


@transaction.atomic
def run_create(
    *,
    workflow: Workflow,
    inputs: Any,
    trigger: str = RunTrigger.MANUAL,
    user: User | None = None,
    metadata: dict | None = None,
    parent_step_run: StepRun | None = None,
) -> Run:
    """A new run: queued, then started at once when a slot is free (FIFO otherwise)."""
    _check_runnable(workflow, trigger)
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise ValidationFailed(
                "metadata must be a JSON object.", details=[{"field": "metadata", "message": "Must be an object."}]
            )
        value_check(metadata, "metadata")
    definition = workflow.definition
    inputs = inputs_validate(schema=definition.get("inputs") or {}, inputs=inputs if inputs is not None else {})
    steps = definition.get("steps", [])
    run = Run(
        tenant_id=workflow.tenant_id,
        workflow=workflow,
        workflow_version=workflow.version,
        definition=definition,
        trigger=trigger,
        inputs=inputs,
        metadata=metadata or {},
        created_by=user,
        parent_step_run=parent_step_run,
        steps_remaining=len(steps),
    )
    row_insert(run)
    run._fresh_roots = step_runs_insert(run, steps)
    # Nobody else sees this run before commit: its events (run_queued, run_started) are written
    # at the end with one statement, and admission works on this object (no read back).
    with events_buffered(run):
        event_record(run=run, type="run_queued", data={"trigger": trigger, "workflow_version": run.workflow_version})
        runs_admit(tenant_id=run.tenant_id, fresh=run)
    return run


def step_runs_insert(run: Run, steps: list[dict]) -> list[StepRun]:
    """A fresh run's step rows, pending; answers its roots (steps without dependencies) as
    they are now, so that starting it reads none of them back. PostgreSQL: one ``INSERT …
    SELECT FROM unnest(…)`` with four array parameters, which for a 10,000-step run is several
    times faster than ``bulk_create``'s 10,000-row VALUES list (one parameter per column per
    row). Other databases (SQLite, embedded): ``bulk_create``."""
    if not steps:
        return []
    if connection.vendor != "postgresql":
        rows = [
            StepRun(run=run, step_id=s["id"], step_type=s["type"], deps_total=len(s.get("depends_on", [])))
            for s in steps
        ]
        StepRun.objects.bulk_create(rows, batch_size=500)
        return [row for row in rows if not row.deps_total]
    ids = new_ids("sr", len(steps))
    table = StepRun._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, run_id, step_id, step_type, status, attempt, worker_losses, logs, task_id, "
            "wait_signal, deps_total, deps_settled, deps_succeeded, deps_failed, branch_skipped) "
            "SELECT t.id, %s, t.step_id, t.step_type, %s, 0, 0, '', '', '', t.deps, 0, 0, 0, false "
            "FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[], %s::int[]) AS t(id, step_id, step_type, deps)",
            [
                run.id,
                StepStatus.PENDING.value,
                ids,
                [s["id"] for s in steps],
                [s["type"] for s in steps],
                [len(s.get("depends_on", [])) for s in steps],
            ],
        )
    return [
        StepRun(id=step_run_id, run_id=run.id, step_id=s["id"], step_type=s["type"], status=StepStatus.PENDING)
        for step_run_id, s in zip(ids, steps, strict=True)
        if not s.get("depends_on")
    ]


@transaction.atomic(savepoint=False)  # nested in run_create: its transaction, no savepoint round trips
def runs_admit(*, tenant_id: str, fresh: Run | None = None) -> list[str]:
    """Start queued runs first-in first-out while the tenant and their workflows have slots.

    The tenant row lock serializes admission per tenant; tenants never wait on
    each other, so none starves another. A run start waits for it too: it is held for a
    few statements (a start's count, its begin, its events), and a start that did not wait
    would leave its run queued for an admission task, one more task per start under load.
    ``fresh``: the run this transaction just created (no one else can see it yet), worked
    on in place; when no other run of the tenant waits and there is room, it starts after
    one counting statement.
    """
    tenant_lock(tenant_id)
    tenant_limit = settings.ORCHESTRATOR_TENANT_MAX_CONCURRENT_RUNS
    if fresh is not None and _fresh_fits(fresh, tenant_limit):
        return [fresh.id] if _begin_or_fail(fresh) else []
    active = Run.objects.filter(tenant_id=tenant_id, status__in=ACTIVE_RUN_STATUSES)
    tenant_active = active.count()
    if tenant_active >= tenant_limit:
        return []
    # Only the limit is read out of each definition, not the definitions (a big one costs to parse).
    queued = list(
        Run.objects.filter(tenant_id=tenant_id, status=RunStatus.QUEUED)
        .order_by("created_at", "id")
        .annotate(run_limit=KT("definition__settings__max_concurrent_runs"))
        .values("id", "workflow_id", "run_limit")[: tenant_limit * 2]
    )
    per_workflow: dict[str, int] = {}
    started: list[str] = []
    for candidate in queued:
        if tenant_active >= tenant_limit:
            break
        workflow_id = candidate["workflow_id"]
        if workflow_id not in per_workflow:
            per_workflow[workflow_id] = active.filter(workflow_id=workflow_id).count()
        if per_workflow[workflow_id] >= _workflow_limit(candidate["run_limit"]):
            continue  # this workflow is full; a later run of another workflow may start
        run = fresh if fresh is not None and candidate["id"] == fresh.id else run_lock(candidate["id"])
        if run.status != RunStatus.QUEUED:
            continue
        if not _begin_or_fail(run):
            continue
        per_workflow[workflow_id] += 1
        tenant_active += 1
        started.append(run.id)
    return started


def _fresh_fits(run: Run, tenant_limit: int) -> bool:
    """No other run of the tenant is queued (FIFO), and the tenant and the workflow have a slot:
    one statement over the tenant's unfinished runs (the (tenant, status) index)."""
    active = ", ".join(["%s"] * len(ACTIVE_RUN_STATUSES))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(SUM(CASE WHEN status IN ({active}) THEN 1 ELSE 0 END), 0), "
            f"COALESCE(SUM(CASE WHEN status IN ({active}) AND workflow_id = %s THEN 1 ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN status = %s AND id <> %s THEN 1 ELSE 0 END), 0) "
            f"FROM {Run._meta.db_table} WHERE tenant_id = %s AND status IN ({active}, %s)",
            [*ACTIVE_RUN_STATUSES, *ACTIVE_RUN_STATUSES, run.workflow_id, RunStatus.QUEUED, run.id, run.tenant_id]
            + [*ACTIVE_RUN_STATUSES, RunStatus.QUEUED],
        )
        tenant_active, workflow_active, queued_before = cursor.fetchone()
    limit = _workflow_limit((run.definition.get("settings") or {}).get("max_concurrent_runs"))
    return not queued_before and tenant_active < tenant_limit and workflow_active < limit


def _begin_or_fail(run: Run) -> bool:
    """``run_begin`` in a savepoint: a run that cannot begin fails alone. Answers whether it began."""
    buffer = getattr(run, "_event_buffer", None)
    buffered, sequence = (len(buffer) if buffer is not None else 0), run.event_sequence
    try:
        with transaction.atomic():
            run_begin(run)
    except Exception as exc:
        if is_transient(exc):
            raise  # the whole admission is tried again (its task retries; a request answers 503)
        if buffer is not None:  # the rolled-back start's events were never written
            del buffer[buffered:]
            run.event_sequence = sequence
        # A bug or a value the database refuses: left queued, the run would block its
        # tenant's FIFO for good.
        run_fail_to_start(run_id=run.id, exc=exc, run=run if buffer is not None else None)
        return False
    return True


def run_fail_to_start(*, run_id: str, exc: BaseException, run: Run | None = None) -> None:
    """Under the tenant's admission: a queued run whose start raised something other than an
    outage fails with that error, its steps cancelled. ``run``: the locked (or fresh) row."""
    run = run or run_lock(run_id)
    message = redact_text(f"Internal error while starting the run: {error_summary(exc)}")
    steps_cancel(run, "Cancelled: the run could not start.")
    run.status = RunStatus.FAILED
    run.completed_at = timezone.now()
    run.error = message
    run.save(update_fields=["status", "completed_at", "error"])
    event_record(run=run, type="run_failed", data={"status": run.status, "duration_seconds": None, "error": message})
    run_after_end(run)
    logger.error("run %s could not start: %s", run_id, message, exc_info=exc)


def _revoke_on_commit(task_ids: list[str]) -> None:
    if task_ids:
        from config.celery import app

        # Only a speed-up: the cancelled rows already stop the work.
        transaction.on_commit(lambda: app.control.revoke(task_ids))


@transaction.atomic
def run_cancel(*, run: Run, reason: str = "Cancelled by request.") -> Run:
    run = run_lock(run.id)
    if run.status in RUN_TERMINAL:
        raise ValidationFailed(f"Run {run.id} is already {run.status}.", code="run_terminal")
    task_ids = steps_cancel(run, reason)
    run.status = RunStatus.CANCELLED
    run.completed_at = timezone.now()
    run.error = reason
    run.save(update_fields=["status", "completed_at", "error"])
    event_record(run=run, type="run_cancelled", data={"reason": reason})
    run_after_end(run)
    _revoke_on_commit(task_ids)
    for child in Run.objects.filter(parent_step_run__run_id=run.id).exclude(status__in=RUN_TERMINAL):
        run_cancel(run=child, reason=f"Parent run {run.id} was cancelled.")
    return run


@transaction.atomic
def run_signal(*, run: Run, payload: Any, step_id: str | None = None) -> Run:
    """Continue a step waiting for a signal; the payload becomes its output."""
    from orchestrator.engine.executor import step_complete_waiting

    value_check(payload, "signal")  # it becomes a step output, copied downstream
    run = run_lock(run.id)
    waiting = (
        StepRun.objects.select_for_update(no_key=True)
        .filter(run_id=run.id, status=StepStatus.WAITING, parent__isnull=True)
        .exclude(wait_signal="")
    )
    still_waiting = waiting.count()  # every signal wait of the run, whichever this one continues
    if step_id:
        waiting = waiting.filter(step_id=step_id)
    step_run = waiting.order_by("id").first()
    if step_run is None:
        raise Conflict(f"Run {run.id} has no step waiting for a signal.")
    if run.status == RunStatus.PAUSED and still_waiting == 1:
        run.status = RunStatus.RUNNING
        run.save(update_fields=["status"])
        event_record(run=run, type="run_resumed", step_id=step_run.step_id, data={"signal": step_run.wait_signal})
    step_complete_waiting(run, step_run, payload)
    run.refresh_from_db()
    return run


def _downstream(graph: Any, roots: set[str]) -> set[str]:
    seen, stack = set(roots), list(roots)
    while stack:
        for child in graph.dependants.get(stack.pop(), ()):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return seen


@transaction.atomic
def run_resume(*, run: Run, user: User | None = None, from_step: str | None = None) -> Run:
    """A new run (trigger ``resume``) re-running ``from_step`` and everything downstream,
    or, without it, every step that did not complete and everything downstream;
    the other steps keep their stored outputs."""
    if run.status not in RUN_TERMINAL:
        raise Conflict(f"Run {run.id} is {run.status}; only a finished run can be resumed from a step.")
    graph = graph_of(run)
    old = {sr.step_id: sr for sr in StepRun.objects.filter(run_id=run.id, parent__isnull=True)}
    if from_step is not None:
        if from_step not in graph.steps:
            raise ValidationFailed(f"Run {run.id} has no step {from_step!r}.")
        rerun = _downstream(graph, {from_step})
    else:
        rerun = _downstream(graph, {sid for sid, sr in old.items() if sr.status != StepStatus.COMPLETED})
    if not rerun:
        raise Conflict(f"Run {run.id} completed every step; name one with from_step to run it again.")
    workflow = run.workflow
    _check_runnable(workflow, RunTrigger.RESUME)
    new = Run.objects.create(
        tenant_id=run.tenant_id,
        workflow=workflow,
        workflow_version=run.workflow_version,
        definition=run.definition,
        trigger=RunTrigger.RESUME,
        inputs=run.inputs,
        metadata={**run.metadata, "resumed_from": run.id, "from_step": from_step},
        created_by=user,
        steps_remaining=len(rerun),
    )
    rows = []
    for sid, step in graph.steps.items():
        previous = old.get(sid)
        if sid not in rerun and previous is not None:
            rows.append(
                StepRun(
                    run=new,
                    step_id=sid,
                    step_type=step["type"],
                    status=previous.status,
                    attempt=previous.attempt,
                    input=previous.input,
                    output=previous.output,
                    error=previous.error,
                    logs=previous.logs,
                    started_at=previous.started_at,
                    completed_at=previous.completed_at,
                    deps_total=len(step.get("depends_on", [])),
                    deps_settled=len(step.get("depends_on", [])),
                )
            )
            continue
        deps = step.get("depends_on", [])
        settled = [d for d in deps if d not in rerun]
        ok = sum(
            1
            for d in settled
            if old[d].status == StepStatus.COMPLETED
            or (old[d].status == StepStatus.FAILED and graph.steps[d].get("continue_on_error"))
        )
        failed = sum(
            1
            for d in settled
            if old[d].status == StepStatus.CANCELLED
            or (old[d].status == StepStatus.FAILED and not graph.steps[d].get("continue_on_error"))
        )
        rows.append(
            StepRun(
                run=new,
                step_id=sid,
                step_type=step["type"],
                deps_total=len(deps),
                deps_settled=len(settled),
                deps_succeeded=ok,
                deps_failed=failed,
            )
        )
    StepRun.objects.bulk_create(rows)
    event_record(run=new, type="run_queued", data={"trigger": RunTrigger.RESUME, "resumed_from": run.id})
    runs_admit(tenant_id=new.tenant_id)
    new.refresh_from_db()
    return new


@transaction.atomic
def run_delete(*, run: Run) -> None:
    run = run_lock(run.id)
    if run.status not in RUN_TERMINAL:
        raise Conflict(f"Run {run.id} is {run.status}; cancel it before deleting it.")
    run.delete()


@transaction.atomic
def runs_delete_finished(*, workflow: Workflow) -> tuple[int, int]:
    """Delete every finished run of a workflow (seed 002's "delete execution logs") with its step
    runs and events: ``(deleted, still_active)``. Active runs are left alone: deleting one under
    the engine's feet is what ``run_delete``'s 409 prevents; cancel them first."""
    runs = Run.objects.filter(tenant_id=workflow.tenant_id, workflow_id=workflow.id)
    finished = list(runs.filter(status__in=RUN_TERMINAL).values_list("id", flat=True))
    Run.objects.filter(id__in=finished).delete()
    return len(finished), runs.exclude(status__in=RUN_TERMINAL).count()
