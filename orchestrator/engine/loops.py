"""Loop steps: iterations are step runs of their loop, fanned out as tasks.

The loop's own step run stays ``running`` without a lease (no worker holds it)
while at most ``max_concurrency`` iterations are queued at once. Each settling
iteration, under the run lock, queues the next one; the last one completes the
loop with the ordered list of outputs. ``fail_fast`` cancels the rest on the
first failure.
"""

from __future__ import annotations

from django.utils import timezone

from orchestrator.engine.scheduler import step_queue, step_settled
from orchestrator.live.events import event_record
from orchestrator.step_types.execution import FanOut
from runs.models import STEP_TERMINAL, Run, StepRun, StepStatus


def loop_start(run: Run, loop_run: StepRun, fan_out: FanOut) -> None:
    loop_run.output = None
    loop_run.save(update_fields=["output", "logs", "lease_expires_at"])
    config = {"max_concurrency": fan_out.max_concurrency, "fail_fast": fan_out.fail_fast}
    StepRun.objects.filter(id=loop_run.id).update(input={**(loop_run.input or {}), "_loop": config})
    if not fan_out.items:
        _loop_finish(run, loop_run, [], [])
        return
    iterations = StepRun.objects.bulk_create(
        [
            StepRun(
                run_id=run.id,
                step_id=f"{loop_run.step_id}[{index}]",
                step_type=fan_out.step.get("type", ""),
                parent=loop_run,
                iteration=index,
                input={"item": item},
            )
            for index, item in enumerate(fan_out.items)
        ]
    )
    for iteration in iterations[: max(1, fan_out.max_concurrency)]:
        step_queue(run, iteration)


def _loop_finish(run: Run, loop_run: StepRun, outputs: list, failures: list[StepRun]) -> None:
    loop_run.completed_at = timezone.now()
    loop_run.output = outputs
    if failures:
        loop_run.status = StepStatus.FAILED
        first = failures[0]
        loop_run.error = f"Iteration {first.iteration} failed: {first.error or first.status}"
        event_type, data = "step_failed", {"error": loop_run.error}
    else:
        loop_run.status = StepStatus.COMPLETED
        event_type, data = "step_completed", {"output": outputs}
    loop_run.save(update_fields=["status", "completed_at", "output", "error"])
    event_record(run=run, type=event_type, step_id=loop_run.step_id, data=data)
    step_settled(run, loop_run)


def loop_iteration_settled(run: Run, iteration: StepRun) -> None:
    """Under the run lock: queue the next iteration, or finish the loop."""
    loop_run = StepRun.objects.select_for_update(no_key=True).get(id=iteration.parent_id)
    if loop_run.status != StepStatus.RUNNING:
        return  # the loop already failed fast or was cancelled
    settings = (loop_run.input or {}).get("_loop", {})
    siblings = list(StepRun.objects.filter(parent_id=loop_run.id).order_by("iteration"))
    if iteration.status == StepStatus.FAILED and settings.get("fail_fast", True):
        StepRun.objects.filter(parent_id=loop_run.id).exclude(status__in=STEP_TERMINAL).update(
            status=StepStatus.CANCELLED, completed_at=timezone.now(), error="Cancelled: another iteration failed."
        )
        _loop_finish(run, loop_run, [s.output for s in siblings], [iteration])
        return
    active = sum(1 for s in siblings if s.status in (StepStatus.QUEUED, StepStatus.RUNNING))
    pending = [s for s in siblings if s.status == StepStatus.PENDING]
    for next_iteration in pending[: max(0, int(settings.get("max_concurrency", 10)) - active)]:
        step_queue(run, next_iteration)
    if all(s.status in STEP_TERMINAL for s in siblings):
        failures = [s for s in siblings if s.status != StepStatus.COMPLETED]
        _loop_finish(run, loop_run, [s.output for s in siblings], failures)
