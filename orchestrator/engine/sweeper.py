"""The periodic side of the engine (beat): rows with a due time, and expired leases.

Long waits, long backoffs and run timeouts are rows in PostgreSQL, never broker
ETAs (Redis redelivers a task whose ETA outlives its visibility timeout). Each
action is a compare-and-set under the run lock, so two sweepers at once, or a
sweep racing a worker, change a row once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orchestrator.engine.scheduler import run_after_end, run_lock, step_dispatch, step_queue, steps_cancel
from orchestrator.live.events import event_record
from orchestrator.step_types.execution import StepError
from runs.models import RUN_TERMINAL, Run, RunStatus, StepRun, StepStatus

logger = logging.getLogger(__name__)
BATCH = 500


def _dispatch_due(now) -> int:
    count = 0
    due = StepRun.objects.filter(status=StepStatus.QUEUED, due_at__lte=now, dispatched_at__isnull=True)
    for step_run in due.only("id", "attempt", "run_id", "step_id")[:BATCH]:
        with transaction.atomic():
            if StepRun.objects.filter(
                id=step_run.id, status=StepStatus.QUEUED, attempt=step_run.attempt, dispatched_at__isnull=True
            ).update(dispatched_at=now):
                step_dispatch(step_run)
                count += 1
    return count


def _finish_waits(now) -> int:
    """Waits whose time came: ``seconds``/``until`` waits, and signal waits whose ``timeout`` passed first."""
    from orchestrator.engine.executor import step_complete_waiting

    count = 0
    due = StepRun.objects.filter(status=StepStatus.WAITING, due_at__lte=now)
    for step_run in due.only("id", "run_id")[:BATCH]:
        with transaction.atomic():
            run = run_lock(step_run.run_id)
            locked = StepRun.objects.select_for_update(no_key=True).get(id=step_run.id)
            if locked.status != StepStatus.WAITING or not locked.due_at or locked.due_at > now:
                continue
            if locked.wait_signal:
                _signal_timed_out(run, locked)
                output = {"timed_out": True, "signal": locked.wait_signal, "waited_until": locked.due_at.isoformat()}
            else:
                output = {**(locked.output or {}), "waited_until": locked.due_at.isoformat()}
            count += step_complete_waiting(run, locked, output)
    return count


def _signal_timed_out(run: Run, step_run: StepRun) -> None:
    """As a signal would (runs/services.run_signal): the run resumes once no other signal wait holds it."""
    others = StepRun.objects.filter(
        run_id=run.id, status=StepStatus.WAITING, parent__isnull=True, wait_signal__gt=""
    ).exclude(id=step_run.id)
    if run.status == RunStatus.PAUSED and not others.exists():
        run.status = RunStatus.RUNNING
        run.save(update_fields=["status"])
        event_record(
            run=run,
            type="run_resumed",
            step_id=step_run.step_id,
            data={"signal": step_run.wait_signal, "timed_out": True},
        )


def run_time_out(run_id: str) -> bool:
    with transaction.atomic():
        run = run_lock(run_id)
        if run.status in RUN_TERMINAL:
            return False
        task_ids = steps_cancel(run, "Run timed out.")
        run.status = RunStatus.TIMED_OUT
        run.completed_at = timezone.now()
        run.error = "Run exceeded its timeout_seconds."
        run.save(update_fields=["status", "completed_at", "error"])
        event_record(run=run, type="run_timed_out", data={"error": run.error})
        run_after_end(run)
        _revoke_on_commit(task_ids)
    return True


def _revoke_on_commit(task_ids: list[str]) -> None:
    if not task_ids:
        return
    from config.celery import app

    # Only a speed-up: the cancelled rows already stop the work.
    transaction.on_commit(lambda: app.control.revoke(task_ids))


def _time_out_runs(now) -> int:
    overdue = Run.objects.filter(status__in=[RunStatus.RUNNING, RunStatus.PAUSED], deadline_at__lte=now).values_list(
        "id", flat=True
    )
    return sum(run_time_out(run_id) for run_id in list(overdue[:BATCH]))


def sweep_due() -> dict[str, int]:
    now = timezone.now()
    return {"dispatched": _dispatch_due(now), "waits_finished": _finish_waits(now), "timed_out": _time_out_runs(now)}


def _reap_step(step_run_id: str, now) -> bool:
    """A running step whose lease expired: its worker died (SIGKILL, OOM, lost host).

    That is not the step failing, so it is re-queued up to
    ORCHESTRATOR_MAX_WORKER_LOSSES times whatever its retry policy; after that
    the retry policy decides, as for a network error.
    """
    from orchestrator.engine.executor import step_failed_or_retry

    with transaction.atomic():
        step_run = StepRun.objects.filter(id=step_run_id).only("run_id").first()
        if step_run is None:
            return False
        run = run_lock(step_run.run_id)
        locked = StepRun.objects.select_for_update(no_key=True).get(id=step_run_id)
        if locked.status != StepStatus.RUNNING or not locked.lease_expires_at or locked.lease_expires_at > now:
            return False
        message = "The worker running this step stopped responding (lease expired)."
        if locked.worker_losses < settings.ORCHESTRATOR_MAX_WORKER_LOSSES:
            locked.worker_losses += 1
            locked.error = message
            locked.save(update_fields=["worker_losses", "error"])
            event_record(
                run=run,
                type="step_retrying",
                step_id=locked.step_id,
                data={
                    "attempt": locked.attempt,
                    "next_attempt": locked.attempt + 1,
                    "delay_seconds": 0,
                    "error": message,
                    "kind": "worker_lost",
                },
            )
            step_queue(run, locked)
        else:
            step_failed_or_retry(run, locked, StepError(message, kind="network"))
    return True


def _redispatch_lost(now) -> int:
    cutoff = now - timedelta(seconds=settings.ORCHESTRATOR_REDISPATCH_AFTER_SECONDS)
    lost = StepRun.objects.filter(status=StepStatus.QUEUED, dispatched_at__lte=cutoff).only("id", "attempt")
    count = 0
    for step_run in lost[:BATCH]:
        with transaction.atomic():
            if StepRun.objects.filter(
                id=step_run.id, status=StepStatus.QUEUED, attempt=step_run.attempt, dispatched_at__lte=cutoff
            ).update(dispatched_at=now):
                step_dispatch(step_run)
                count += 1
    return count


def _admit_lost(now) -> int:
    """Tenants with a run queued for a while: admission is sent again. A run waits ``queued``
    until another run of its tenant ends and sends ``runs_admit``; if that message was lost
    (its task gave up through a long outage) nothing else would ever start it. A tenant at
    its limit admits nothing, at the cost of one query."""
    from orchestrator.engine.tasks import runs_admit

    cutoff = now - timedelta(seconds=settings.ORCHESTRATOR_REDISPATCH_AFTER_SECONDS / 10)
    tenants = (
        Run.objects.filter(status=RunStatus.QUEUED, created_at__lte=cutoff)
        .order_by()
        .values_list("tenant_id", flat=True)
        .distinct()[:BATCH]
    )
    tenant_ids = list(tenants)
    for tenant_id in tenant_ids:
        runs_admit.delay(tenant_id)
    return len(tenant_ids)


def _child_ends_lost(now) -> int:
    """Sub-runs that ended a while ago while their parent step still waits: the message that
    tells the parent (``run_child_finished``) was lost; it is sent again (it acts once)."""
    from orchestrator.engine.tasks import run_child_finished

    cutoff = now - timedelta(seconds=settings.ORCHESTRATOR_REDISPATCH_AFTER_SECONDS / 10)
    ended = Run.objects.filter(
        parent_step_run__status=StepStatus.WAITING, status__in=RUN_TERMINAL, completed_at__lte=cutoff
    ).values_list("id", flat=True)
    child_ids = list(ended[:BATCH])
    for child_id in child_ids:
        run_child_finished.delay(child_id)
    return len(child_ids)


def reap_expired() -> dict[str, int]:
    now = timezone.now()
    expired = StepRun.objects.filter(status=StepStatus.RUNNING, lease_expires_at__lt=now).values_list("id", flat=True)
    reaped = sum(_reap_step(step_run_id, now) for step_run_id in list(expired[:BATCH]))
    return {
        "reaped": reaped,
        "redispatched": _redispatch_lost(now),
        "admissions": _admit_lost(now),
        "child_ends": _child_ends_lost(now),
    }
