"""Celery tasks: thin, named, take IDs, safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="orchestrator.step_execute", bind=True, acks_late=True, ignore_result=True)
def step_execute(self, step_run_id: str, attempt: int, run_id: str | None = None) -> None:
    from orchestrator.engine.executor import step_run_execute

    # run_id saves a lookup; messages from before it was sent still work without it.
    step_run_execute(step_run_id=step_run_id, attempt=attempt, task_id=self.request.id or "", run_id=run_id)


@shared_task(name="orchestrator.runs_admit", acks_late=True, ignore_result=True)
def runs_admit(tenant_id: str) -> None:
    from runs.services import runs_admit as admit

    admit(tenant_id=tenant_id)


@shared_task(name="orchestrator.run_child_finished", acks_late=True, ignore_result=True)
def run_child_finished(child_run_id: str) -> None:
    from orchestrator.engine.subruns import child_finished

    child_finished(child_run_id=child_run_id)


@shared_task(name="orchestrator.sweep", acks_late=True, ignore_result=True, soft_time_limit=50, time_limit=60)
def sweep() -> None:
    """Every second or two (beat): due retries, finished waits, overdue runs."""
    from orchestrator.engine.sweeper import sweep_due

    sweep_due()


@shared_task(name="orchestrator.reap", acks_late=True, ignore_result=True, soft_time_limit=50, time_limit=60)
def reap() -> None:
    """Every few seconds (beat): steps whose worker died, lost messages."""
    from orchestrator.engine.sweeper import reap_expired

    reap_expired()
