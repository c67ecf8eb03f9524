"""sub_workflow steps: the step waits (no worker held) while a child run runs."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from orchestrator.errors import DomainError
from orchestrator.live.events import event_record
from orchestrator.step_types.execution import StartChild, StepError
from runs.models import Run, RunStatus, StepRun, StepStatus


def child_start(run: Run, step_run: StepRun, start: StartChild) -> None:
    from runs.services import run_create
    from workflows.models import Workflow

    workflow = Workflow.objects.for_tenant(run.tenant).filter(id=start.workflow_id).first()
    if workflow is None:
        raise StepError(f"Workflow {start.workflow_id!r} was not found in this tenant.")
    if workflow.id == run.workflow_id and run.parent_step_run_id:
        raise StepError("A workflow may not start itself from a sub-workflow step more than one level deep.")
    try:
        child = run_create(
            workflow=workflow,
            inputs=start.inputs,
            trigger="api",
            user=None,
            metadata={"parent_run_id": run.id, "parent_step_id": step_run.step_id},
            parent_step_run=step_run if start.wait else None,
        )
    except DomainError as exc:
        raise StepError(f"Could not start the sub-workflow: {exc.message}") from exc
    if not start.wait:
        step_run.status = StepStatus.COMPLETED
        step_run.output = {"run_id": child.id, "status": child.status}
        step_run.completed_at = timezone.now()
        step_run.save(update_fields=["status", "output", "completed_at", "logs", "lease_expires_at"])
        event_record(run=run, type="step_completed", step_id=step_run.step_id, data={"output": step_run.output})
        from orchestrator.engine.scheduler import step_settled

        step_settled(run, step_run)
        return
    step_run.status = StepStatus.WAITING
    step_run.output = {"run_id": child.id}
    step_run.save(update_fields=["status", "output", "logs", "lease_expires_at"])
    event_record(run=run, type="step_waiting", step_id=step_run.step_id, data={"child_run_id": child.id})


def child_finished(*, child_run_id: str) -> None:
    """The child ended: its parent step completes with its outputs, or fails."""
    from orchestrator.engine.executor import step_complete_waiting, step_failed_or_retry
    from orchestrator.engine.scheduler import run_lock

    child = Run.objects.filter(id=child_run_id).only("parent_step_run_id", "status").first()
    if child is None or child.parent_step_run_id is None:
        return
    parent_step = StepRun.objects.filter(id=child.parent_step_run_id).only("run_id").first()
    if parent_step is None:
        return
    with transaction.atomic():
        run = run_lock(parent_step.run_id)
        step_run = StepRun.objects.select_for_update(no_key=True).get(id=parent_step.id)
        child = Run.objects.get(id=child_run_id)
        if step_run.status != StepStatus.WAITING:
            return
        if child.status == RunStatus.COMPLETED:
            step_complete_waiting(run, step_run, child.outputs)
            return
        # waiting → running so that the shared failure path (retry or fail) applies
        StepRun.objects.filter(id=step_run.id).update(status=StepStatus.RUNNING)
        step_run.status = StepStatus.RUNNING
        error = StepError(f"Sub-workflow run {child.id} ended {child.status}: {child.error or ''}".strip())
        step_failed_or_retry(run, step_run, error)


def child_finished_unexpectedly(*, child_run_id: str, exc: BaseException) -> None:
    """Telling the parent kept failing on something other than an outage: the waiting
    parent step and its run fail with the error rather than wait forever."""
    from orchestrator.engine.executor import step_run_fail_unexpected

    parent_step_run_id = Run.objects.filter(id=child_run_id).values_list("parent_step_run_id", flat=True).first()
    if parent_step_run_id:
        step_run_fail_unexpected(
            step_run_id=parent_step_run_id, exc=exc, statuses=(StepStatus.WAITING, StepStatus.RUNNING)
        )
