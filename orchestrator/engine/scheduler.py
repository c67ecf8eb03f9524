"""The DAG scheduler: advance a run when a step settles.

Every function here runs inside a transaction that holds the run's row lock
(``run_lock``), so concurrent step completions of one run are serialized:
fan-in needs no chord, and exactly one completion sees a dependant become
ready. Dispatches happen on commit (a task sent before commit would find the
row unchanged).

Trigger rules are decided once all of a step's dependencies have settled:

* ``all_success`` (default): every dependency succeeded;
* ``all_done``: every dependency settled, whatever the outcome;
* ``none_failed``: no dependency failed (skipped ones are fine);
* ``one_success``: at least one succeeded;
* ``one_failed``: at least one failed (error handlers).

A rule that cannot be met skips the step, and skipping is itself a settlement,
so skips spread downstream by the same rules. A failed step with
``continue_on_error`` counts as a success for its dependants and for the run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from orchestrator.definitions.expressions import ExpressionError, render
from orchestrator.live.events import event_record
from runs.models import STEP_TERMINAL, Run, RunStatus, RunTrigger, StepRun, StepStatus
from runs.statements import row_update, step_outputs, steps_queued, tenant_lock, with_held_writes

logger = logging.getLogger(__name__)

TRIGGER_RULES = ("all_success", "all_done", "none_failed", "one_success", "one_failed")


@dataclass(frozen=True)
class Graph:
    steps: dict[str, dict]
    dependants: dict[str, tuple[str, ...]]
    sinks: tuple[str, ...] = field(default=())
    settings: dict = field(default_factory=dict)  # the definition's settings (timeout_seconds, …)


_graphs: dict[tuple[str, int], Graph] = {}


def graph_build(definition: dict) -> Graph:
    steps = {s["id"]: s for s in definition.get("steps", [])}
    dependants: dict[str, list[str]] = {sid: [] for sid in steps}
    for sid, step in steps.items():
        for dep in step.get("depends_on", []):
            dependants.setdefault(dep, []).append(sid)
    sinks = tuple(sid for sid, deps in dependants.items() if not deps)
    return Graph(
        steps=steps,
        dependants={k: tuple(v) for k, v in dependants.items()},
        sinks=sinks,
        settings=definition.get("settings") or {},
    )


def graph_of(run: Run) -> Graph:
    """The run's DAG. A run runs its workflow's definition at one version, and a version's
    definition never changes (every edit makes a new one), so the graph is cached per
    (workflow, version) in the process: the runs of a workflow share it, and a run's
    definition (large, deferred by ``run_lock``) is read once per process and version."""
    key = (run.workflow_id, run.workflow_version)
    graph = _graphs.get(key)
    if graph is None:
        graph = graph_build(run.definition)
        if len(_graphs) > 256:
            _graphs.clear()
        _graphs[key] = graph
    return graph


def run_lock(run_id: str) -> Run:
    """The run's row lock, which serializes every transition of one run. The definition
    (large, immutable) is left out: ``graph_of`` caches it per process."""
    return Run.objects.select_for_update(no_key=True).defer("definition").get(id=run_id)


_RUN_LOCK_COLUMNS = [f.column for f in Run._meta.concrete_fields if f.name != "definition"]
_STEP_COLUMNS = [f.column for f in StepRun._meta.concrete_fields]


def run_step_lock(run_id: str, step_run_id: str) -> tuple[Run | None, StepRun | None]:
    """``run_lock`` and the step's row lock in one statement (PostgreSQL): one round trip
    instead of two. The run's row is locked before the step's (the order of the FROM list,
    which PostgreSQL's row marks follow), as every other transition takes them. ``(None,
    None)`` when either row is gone. Other databases: the two reads, under the database's
    write lock."""
    if connection.vendor != "postgresql":
        run = Run.objects.select_for_update(no_key=True).defer("definition").filter(id=run_id).first()
        step_run = StepRun.objects.select_for_update(no_key=True).filter(id=step_run_id).first() if run else None
        return (run, step_run) if step_run is not None else (None, None)
    run_cols = ", ".join(f"r.{c}" for c in _RUN_LOCK_COLUMNS)
    step_cols = ", ".join(f"s.{c}" for c in _STEP_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {run_cols}, {step_cols} FROM {Run._meta.db_table} r JOIN {StepRun._meta.db_table} s "
            "ON s.run_id = r.id WHERE r.id = %s AND s.id = %s FOR NO KEY UPDATE",
            [run_id, step_run_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None, None
    split = len(_RUN_LOCK_COLUMNS)
    run = Run.from_db(connection.alias, _RUN_LOCK_ATTNAMES, _from_db(Run, _RUN_LOCK_ATTNAMES, row[:split]))
    step_run = StepRun.from_db(connection.alias, _STEP_ATTNAMES, _from_db(StepRun, _STEP_ATTNAMES, row[split:]))
    return run, step_run


_RUN_LOCK_ATTNAMES = [f.attname for f in Run._meta.concrete_fields if f.name != "definition"]
_STEP_ATTNAMES = [f.attname for f in StepRun._meta.concrete_fields]


def _from_db(model: type, attnames: list[str], values: tuple) -> list:
    """Raw cursor values as the ORM gives them: Django reads jsonb as text and parses it in the field."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    return [
        fields[name].from_db_value(value, None, connection)
        if isinstance(value, str) and fields[name].get_internal_type() == "JSONField"
        else value
        for name, value in zip(attnames, values, strict=True)
    ]


def _rule_met(rule: str, step_run: StepRun) -> bool:
    total, ok, failed = step_run.deps_total, step_run.deps_succeeded, step_run.deps_failed
    if rule == "all_done":
        return True
    if rule == "none_failed":
        return failed == 0
    if rule == "one_success":
        return ok >= 1
    if rule == "one_failed":
        return failed >= 1
    return ok == total  # all_success


def step_dispatch(step_run: StepRun, *, countdown: float | None = None) -> None:
    """Send "execute step run X, attempt N" once the transaction commits."""
    steps_dispatch([step_run], countdown=countdown)


def steps_dispatch(step_runs: list[StepRun], *, countdown: float | None = None) -> None:
    """Send one message per step once the transaction commits, all through one producer
    (one connection taken from the pool for the batch, not one per message)."""
    from orchestrator.engine.tasks import step_execute

    default = settings.ORCHESTRATOR_DEFAULT_STEP_TIMEOUT
    messages = [
        (s.id, s.attempt, s.run_id, getattr(s, "_timeout", None) or default) for s in step_runs if s is not None
    ]
    if not messages:
        return

    def send() -> None:
        sent = 0
        try:
            with step_execute.app.producer_or_acquire() as producer:
                for step_run_id, attempt, run_id, timeout in messages:
                    # The soft limit raises inside the step (a "timeout" error the retry policy sees).
                    step_execute.apply_async(
                        (step_run_id, attempt, run_id),
                        countdown=countdown,
                        soft_time_limit=timeout,
                        time_limit=timeout + 30,
                        producer=producer,
                    )
                    sent += 1
        except Exception:
            # The broker stayed away through the publish retries (CELERY_TASK_PUBLISH_RETRY_POLICY):
            # the unsent steps become due rows, which the sweeper dispatches as soon as it can.
            logger.warning("could not send %d step(s); the sweeper will", len(messages) - sent, exc_info=True)
            for step_run_id, attempt, _run_id, _timeout in messages[sent:]:
                StepRun.objects.filter(id=step_run_id, status=StepStatus.QUEUED, attempt=attempt).update(
                    dispatched_at=None, due_at=timezone.now()
                )

    # robust: one send that fails does not skip the other sends of the same commit.
    transaction.on_commit(send, robust=True)


def _step_timeout(run: Run, step_run: StepRun) -> int:
    step = graph_of(run).steps.get(step_run.step_id) if step_run.parent_id is None else None
    return int((step or {}).get("timeout_seconds") or settings.ORCHESTRATOR_DEFAULT_STEP_TIMEOUT)


def steps_queue_now(run: Run, step_runs: list[StepRun]) -> None:
    """Ready steps → queued with their next attempt, in one UPDATE; each dispatched on commit.
    A 1,000-wide fan-out is one statement, not a thousand."""
    if not step_runs:
        return
    step_runs = _claim_eager(run, step_runs)
    if not step_runs:
        return
    now = timezone.now()
    steps_queued([s.id for s in step_runs], now)
    for step_run in step_runs:
        step_run.status = StepStatus.QUEUED
        step_run.attempt += 1
        step_run.dispatched_at = now
        step_run._timeout = _step_timeout(run, step_run)
    steps_dispatch(step_runs)


def _claim_eager(run: Run, step_runs: list[StepRun]) -> list[StepRun]:
    """In the transaction recording a step for a task that may follow a successor (the
    executor's ``EagerChain`` on ``run._eager``): claim one ready step for that task, durably
    (``running``, its lease, its ``step_started`` event), instead of queueing it. Answers the
    steps left to queue."""
    chain = getattr(run, "_eager", None)
    if chain is None or not chain.open():
        return step_runs
    step_run = next((s for s in step_runs if chain.accepts(_step_timeout(run, s))), None)
    if step_run is None:
        return step_runs
    now = timezone.now()
    lease = now + timedelta(seconds=settings.ORCHESTRATOR_STEP_LEASE_SECONDS)
    # Under the run lock the row's attempt is the one just read back with the counters.
    step_run.status = StepStatus.RUNNING
    step_run.attempt += 1
    step_run.started_at = now
    step_run.task_id = chain.task_id
    step_run.lease_expires_at = lease
    step_run.due_at = None
    step_run.dispatched_at = now
    row_update(step_run, ("status", "attempt", "started_at", "task_id", "lease_expires_at", "due_at", "dispatched_at"))
    event_record(run=run, type="step_started", step_id=step_run.step_id, data={"attempt": step_run.attempt})
    chain.take(step_run)
    return [s for s in step_runs if s is not step_run]


def step_queue(run: Run, step_run: StepRun, *, delay_seconds: float = 0.0) -> None:
    """pending/running → queued with the next attempt; dispatched now or by the sweeper."""
    now = timezone.now()
    step_run.status = StepStatus.QUEUED
    step_run.attempt += 1
    step_run.lease_expires_at = None
    step_run._timeout = _step_timeout(run, step_run)
    if delay_seconds > settings.ORCHESTRATOR_SWEEP_THRESHOLD_SECONDS:
        # Long delays are rows with a due time, never a broker ETA (Redis redelivers those).
        step_run.due_at = now + timedelta(seconds=delay_seconds)
        step_run.dispatched_at = None
    else:
        step_run.due_at = None
        step_run.dispatched_at = now
        step_dispatch(step_run, countdown=delay_seconds or None)
    step_run.save(update_fields=["status", "attempt", "lease_expires_at", "due_at", "dispatched_at"])


def _skip(run: Run, step_run: StepRun, reason: str, worklist: list[StepRun]) -> None:
    step_run.status = StepStatus.SKIPPED
    step_run.completed_at = timezone.now()
    step_run.error = None
    step_run.save(update_fields=["status", "completed_at", "error"])
    event_record(run=run, type="step_skipped", step_id=step_run.step_id, data={"reason": reason})
    worklist.append(step_run)


def _decide(run: Run, step_run: StepRun, worklist: list[StepRun], ready: list[StepRun]) -> None:
    """A pending step whose dependencies all settled: ready to queue, or skipped."""
    step = graph_of(run).steps[step_run.step_id]
    if step_run.branch_skipped:
        _skip(run, step_run, "branch not taken", worklist)
        return
    rule = step.get("trigger_rule", "all_success")
    if not _rule_met(rule, step_run):
        _skip(run, step_run, f"trigger rule {rule} not met", worklist)
        return
    ready.append(step_run)


def _counts_as_success(run: Run, step_run: StepRun) -> bool:
    if step_run.status == StepStatus.COMPLETED:
        return True
    step = graph_of(run).steps.get(step_run.step_id, {})
    return step_run.status == StepStatus.FAILED and bool(step.get("continue_on_error"))


def _counts_as_failure(run: Run, step_run: StepRun) -> bool:
    if step_run.status == StepStatus.CANCELLED:
        return True
    return step_run.status == StepStatus.FAILED and not _counts_as_success(run, step_run)


_BUMP_COLUMNS = ("id", "run_id", "step_id", "step_type", "parent_id", "status", "attempt", "deps_total",
                 "deps_settled", "deps_succeeded", "deps_failed", "branch_skipped")  # fmt: skip


def _bump_dependants(run: Run, dependants: tuple[str, ...], ok: int, failed: int) -> list[StepRun]:
    """Count one settled dependency into each dependant; answer the ones now ready."""
    if connection.vendor == "postgresql":
        rows = _bump_returning(run, dependants, ok, failed)
    else:
        rows = _bump_portable(run, dependants, ok, failed)
    return [s for s in rows if s.status == StepStatus.PENDING and s.deps_settled == s.deps_total]


def _bump_returning(run: Run, dependants: tuple[str, ...], ok: int, failed: int) -> list[StepRun]:
    """PostgreSQL: one round trip, the step IDs as one array parameter, carrying the
    transition's held row writes (the settled step's own, typically)."""
    table = StepRun._meta.db_table
    match = "step_id = %s" if len(dependants) == 1 else "step_id = ANY(%s)"  # see _step_ids_q
    targets = set(dependants)
    with connection.cursor() as cursor:
        cursor.execute(
            *with_held_writes(
                f"UPDATE {table} SET deps_settled = deps_settled + 1, deps_succeeded = deps_succeeded + %s, "
                f"deps_failed = deps_failed + %s WHERE run_id = %s AND parent_id IS NULL AND {match} "
                f"RETURNING {', '.join(_BUMP_COLUMNS)}",
                [ok, failed, run.id, dependants[0] if len(dependants) == 1 else list(dependants)],
                # A held write of one of these rows (or of a row whose step is unknown) goes first.
                lambda model, step_id: model is StepRun and (step_id is None or step_id in targets),
            )
        )
        rows = cursor.fetchall()
    return [StepRun.from_db(connection.alias, _BUMP_COLUMNS, row) for row in rows]


def _bump_portable(run: Run, dependants: tuple[str, ...], ok: int, failed: int) -> list[StepRun]:
    """Other databases (SQLite, embedded): an ORM UPDATE, then the rows read back. The caller's
    transaction holds the database's write lock (SQLite runs BEGIN IMMEDIATE), so nothing moves
    between the two statements."""
    rows = StepRun.objects.filter(_step_ids_q(dependants), run_id=run.id, parent__isnull=True).order_by()
    rows.update(
        deps_settled=F("deps_settled") + 1,
        deps_succeeded=F("deps_succeeded") + ok,
        deps_failed=F("deps_failed") + failed,
    )
    return list(rows.only(*_BUMP_COLUMNS))


def _propagate(run: Run, worklist: list[StepRun]) -> None:
    """Settle each step of the worklist into its dependants' counters; decide the ready ones."""
    graph = graph_of(run)
    ready: list[StepRun] = []
    while worklist:
        settled = worklist.pop()
        run.steps_remaining -= 1
        dependants = graph.dependants.get(settled.step_id, ())
        if not dependants:
            continue
        ok = int(_counts_as_success(run, settled))
        failed = int(_counts_as_failure(run, settled))
        for step_run in _bump_dependants(run, dependants, ok, failed):
            _decide(run, step_run, worklist, ready)
    steps_queue_now(run, ready)
    if hasattr(run, "_event_buffer"):
        run._steps_remaining_dirty = run.steps_remaining  # written with the buffered events
    else:
        Run.objects.filter(id=run.id).update(steps_remaining=run.steps_remaining)
    if run.steps_remaining <= 0 and run.status in (RunStatus.RUNNING, RunStatus.PAUSED):
        run_finish(run)


def branch_skip(run: Run, step_ids: list[str]) -> None:
    """A condition chose a branch: the steps of the other one will be skipped."""
    if step_ids:
        StepRun.objects.filter(_step_ids_q(step_ids), run_id=run.id, parent__isnull=True).update(branch_skipped=True)


def step_settled(run: Run, step_run: StepRun) -> None:
    """``step_run`` just reached a terminal status (saved by the caller)."""
    _propagate(run, [step_run])


def run_begin(run: Run) -> None:
    """queued → running: the roots are decided."""
    now = timezone.now()
    timeout = graph_of(run).settings.get("timeout_seconds")  # cached: the definition is not read again
    run.status = RunStatus.RUNNING
    run.started_at = run.started_at or now
    run.deadline_at = now + timedelta(seconds=int(timeout)) if timeout else None
    row_update(run, ["status", "started_at", "deadline_at"])
    event_record(run=run, type="run_started", data={"workflow_version": run.workflow_version})
    worklist: list[StepRun] = []
    ready: list[StepRun] = []
    if run.trigger == RunTrigger.RESUME:
        # The re-run steps whose dependencies all kept their earlier outcome.
        roots = StepRun.objects.filter(
            run_id=run.id, parent__isnull=True, status=StepStatus.PENDING, deps_settled=F("deps_total")
        ).only(*_BUMP_COLUMNS)
    elif getattr(run, "_fresh_roots", None) is not None:
        roots = run._fresh_roots  # created by this transaction (run_create): as inserted
    else:
        # A fresh run: the steps without dependencies, known from the graph; only their rows are
        # read (the (run, step_id) index), whatever the size of the run.
        root_ids = [sid for sid, step in graph_of(run).steps.items() if not step.get("depends_on")]
        roots = StepRun.objects.filter(_step_ids_q(root_ids), run_id=run.id, parent__isnull=True).only(*_BUMP_COLUMNS)
    for step_run in roots:
        _decide(run, step_run, worklist, ready)
    steps_queue_now(run, ready)
    if worklist or run.steps_remaining <= 0:
        _propagate(run, worklist)


def run_context(
    run: Run, step_ids: set[str] | None = None, *, known: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The template context: ``input``, ``steps.<id>.output|status``, ``run``.

    ``step_ids`` limits which steps are loaded (a step only reads what its
    templates name), which keeps a 1,000-step fan-in cheap. ``known``: rows of settled
    steps already in hand (those this task settled), which are not read again.
    """
    if step_ids is None:
        # No ORDER BY: the model's default ordering joins the run's table and sorts, for a dict.
        rows = StepRun.objects.filter(run_id=run.id, parent__isnull=True).order_by()
        steps = {
            r.step_id: {"output": r.output, "status": r.status, "error": r.error}
            for r in rows.only("step_id", "output", "status", "error")
        }
    else:
        known = {sid: known[sid] for sid in step_ids if sid in known} if known else {}
        steps = {**known, **step_outputs(run.id, step_ids - known.keys())} if len(known) < len(step_ids) else known
    return {
        "input": run.inputs,
        "steps": steps,
        "run": {"id": run.id, "workflow_id": run.workflow_id, "trigger": run.trigger, "metadata": run.metadata},
    }


def _step_ids_q(step_ids: set[str] | list[str] | tuple[str, ...]) -> Q:
    """``step_id`` among these. One is an equality, which PostgreSQL always matches on both
    columns of the (run, step_id) index; ``IN`` lists it may match on the run alone and
    filter every step row of the run when its statistics are stale (a fresh, fast-growing
    table), so a step's reads would grow with the size of its run."""
    ids = list(step_ids)
    return Q(step_id=ids[0]) if len(ids) == 1 else Q(step_id__in=ids)  # [] matches nothing, unqueried


def run_outputs(run: Run) -> Any:
    graph = graph_of(run)
    templates = run.definition.get("outputs") or {}
    context = run_context(run)
    if templates:
        try:
            return render(templates, context)
        except ExpressionError as exc:
            return {"_error": f"Could not render outputs: {exc}"}
    return {sid: context["steps"].get(sid, {}).get("output") for sid in graph.sinks}


def run_finish(run: Run) -> None:
    """Every step settled: completed, or failed if a step failed without continue_on_error."""
    now = timezone.now()
    failures = [
        sr
        for sr in StepRun.objects.filter(
            run_id=run.id, parent__isnull=True, status__in=[StepStatus.FAILED, StepStatus.CANCELLED]
        )
        if _counts_as_failure(run, sr)
    ]
    run.outputs = run_outputs(run)
    run.completed_at = now
    if failures:
        run.status = RunStatus.FAILED
        first = failures[0]
        run.error = f"Step '{first.step_id}' failed: {first.error or first.status}"
    else:
        run.status = RunStatus.COMPLETED
        run.error = None
    run.save(update_fields=["status", "outputs", "completed_at", "error"])
    event_record(
        run=run,
        type="run_completed" if run.status == RunStatus.COMPLETED else "run_failed",
        data={"status": run.status, "duration_seconds": run.duration_seconds, "error": run.error},
    )
    run_after_end(run)


def run_after_end(run: Run) -> None:
    """A run ended (any terminal status): free its slot; tell a waiting parent step."""
    from orchestrator.engine.tasks import run_child_finished, runs_admit

    tenant_id, run_id, parent = run.tenant_id, run.id, run.parent_step_run_id
    # robust: a broker that stays away past the publish retries is logged, not raised into the
    # committed transition; the reaper re-sends admission for runs left queued (sweeper._admit_lost).
    transaction.on_commit(lambda: _admission_after_end(tenant_id, runs_admit), robust=True)
    if parent:
        transaction.on_commit(lambda: run_child_finished.delay(run_id), robust=True)


def _admission_after_end(tenant_id: str, runs_admit: Any) -> None:
    """A run of the tenant ended (committed): admission is sent only when a run of the tenant
    waits, which one short read decides, instead of an admission task per ended run. The
    read first takes a lock that admission's excludes, so every admission (or run start)
    that counted this run as active has committed, and a run it left queued is seen. It
    waits a few milliseconds at most behind a start, and holds nothing else meanwhile: this
    runs after the run's own commit."""
    try:
        with transaction.atomic():
            held = tenant_lock(tenant_id, share=True)
            if held and not Run.objects.filter(tenant_id=tenant_id, status=RunStatus.QUEUED).exists():
                return
    except Exception:  # the database is away a moment: send admission, as without the read
        logger.debug("admission check after a run's end failed", exc_info=True)
    runs_admit.delay(tenant_id)


def steps_cancel(run: Run, reason: str) -> list[str]:
    """Every unfinished step of the run → cancelled; returns the Celery task IDs to revoke."""
    now = timezone.now()
    active = StepRun.objects.filter(run_id=run.id).exclude(status__in=STEP_TERMINAL)
    task_ids = [t for t in active.filter(status=StepStatus.RUNNING).values_list("task_id", flat=True) if t]
    active.update(
        status=StepStatus.CANCELLED,
        completed_at=now,
        error=reason,
        lease_expires_at=None,
        due_at=None,
    )
    return task_ids
