"""Celery tasks: thin, named, take IDs, safe to run twice.

Every task is ``task_guarded`` (engine/retries.py): a database or broker error sends it
again after a backoff, so an outage delays work but loses none; any other exception is
retried a few times, then the step concerned (and its run) fails with it. ``errors`` is
that count, carried by the task's own retries.
"""

from __future__ import annotations

from celery import shared_task

from orchestrator.engine.retries import task_guarded


def _step_failed_unexpectedly(step_run_id: str, attempt: int, run_id: str | None = None, *, exc: Exception) -> None:
    from orchestrator.engine.executor import step_run_fail_unexpected

    step_run_fail_unexpected(step_run_id=step_run_id, attempt=attempt, exc=exc)


@shared_task(name="orchestrator.step_execute", bind=True, acks_late=True, ignore_result=True)
@task_guarded(on_exhausted=_step_failed_unexpectedly)
def step_execute(self, step_run_id: str, attempt: int, run_id: str | None = None, errors: int = 0) -> None:
    from orchestrator.engine.executor import step_run_execute

    # run_id saves a lookup; messages from before it was sent still work without it.
    step_run_execute(step_run_id=step_run_id, attempt=attempt, task_id=self.request.id or "", run_id=run_id)


@shared_task(name="orchestrator.runs_admit", bind=True, acks_late=True, ignore_result=True)
@task_guarded()
def runs_admit(self, tenant_id: str, errors: int = 0) -> None:
    from runs.services import runs_admit as admit

    admit(tenant_id=tenant_id)


def _child_failed_unexpectedly(child_run_id: str, *, exc: Exception) -> None:
    from orchestrator.engine.subruns import child_finished_unexpectedly

    child_finished_unexpectedly(child_run_id=child_run_id, exc=exc)


@shared_task(name="orchestrator.run_child_finished", bind=True, acks_late=True, ignore_result=True)
@task_guarded(on_exhausted=_child_failed_unexpectedly)
def run_child_finished(self, child_run_id: str, errors: int = 0) -> None:
    from orchestrator.engine.subruns import child_finished

    child_finished(child_run_id=child_run_id)


# The clock's tasks are not retried: the next tick (a second or a few later) does the same work.


@shared_task(name="orchestrator.sweep", acks_late=True, ignore_result=True, soft_time_limit=50, time_limit=60)
def sweep() -> None:
    """Every second or two (beat): due retries, finished waits, overdue runs."""
    from orchestrator.engine.sweeper import sweep_due

    sweep_due()


@shared_task(name="orchestrator.reap", acks_late=True, ignore_result=True, soft_time_limit=50, time_limit=60)
def reap() -> None:
    """Every few seconds (beat): steps whose worker died, lost messages, lost admissions."""
    from orchestrator.engine.sweeper import reap_expired

    reap_expired()
