"""Execute one attempt of one step run, and record its outcome.

1. Claim by compare-and-set under the run's row lock: ``queued → running`` only
   for the attempt the message names; another status or attempt means a
   duplicate or stale delivery, or a cancelled run: do nothing.
2. Render the config over the context (only the steps its templates name) and
   execute the step type; I/O-bound types run outside any transaction while a
   heartbeat renews the lease, pure ``inline`` types inside the claim.
3. Record output and transition in one transaction under the run's row lock,
   again by compare-and-set on (running, attempt): a step the reaper already
   re-queued, or a cancelled one, records nothing.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from orchestrator.definitions.expressions import ExpressionError, evaluate, referenced_steps, render
from orchestrator.engine.retries import call_retrying, error_summary, is_transient
from orchestrator.engine.scheduler import (
    branch_skip,
    graph_of,
    run_after_end,
    run_context,
    run_lock,
    run_step_lock,
    step_queue,
    step_settled,
    steps_cancel,
)
from orchestrator.live.events import event_record, events_buffered
from orchestrator.live.publisher import published
from orchestrator.security.redaction import redact, redact_text
from orchestrator.step_types import registry
from orchestrator.step_types.execution import FanOut, StartChild, StepContext, StepError, Suspend
from runs.models import RUN_TERMINAL, Run, RunStatus, StepRun, StepStatus
from runs.statements import row_update

logger = logging.getLogger(__name__)

DEFAULT_RETRY = {"max_attempts": 1}
EVENTS_WAIT_SECONDS = 0.02  # at most, between eagerly run steps
RETRYABLE_BY_DEFAULT = ["network", "timeout", "5xx", "429"]


def _now():
    return timezone.now()


def step_definition(run: Run, step_run: StepRun) -> dict:
    """The step's definition; a loop iteration runs its loop's inner ``step``."""
    graph = graph_of(run)
    if step_run.parent_id is None:
        return graph.steps[step_run.step_id]
    loop_step_id = step_run.step_id.rsplit("[", 1)[0]
    loop = graph.steps[loop_step_id]
    inner = dict(loop["config"].get("step") or {})
    inner.setdefault("id", step_run.step_id)
    inner.setdefault("retry", loop.get("retry"))
    inner.setdefault("timeout_seconds", loop.get("timeout_seconds"))
    return inner


def _retry_delay(policy: dict, attempt: int) -> float:
    """Backoff for the retry after ``attempt``, with full jitter on top of half of it."""
    initial = float(policy.get("initial_interval_seconds", 1))
    maximum = float(policy.get("max_interval_seconds", 60))
    backoff = policy.get("backoff", "exponential")
    if backoff == "fixed":
        base = initial
    elif backoff == "linear":
        base = initial * attempt
    else:
        base = initial * (2 ** (attempt - 1))
    base = min(base, maximum)
    return base / 2 + random.uniform(0, base / 2)


class Heartbeat:
    """Renews the lease while the step runs; notices cancellation."""

    def __init__(self, step_run_id: str, attempt: int, ctx: StepContext) -> None:
        self.step_run_id, self.attempt, self.ctx = step_run_id, attempt, ctx
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="step-heartbeat", daemon=True)

    def _beat(self) -> None:
        lease = settings.ORCHESTRATOR_STEP_LEASE_SECONDS
        try:
            while not self.stop.wait(max(0.5, lease / 3)):
                try:
                    renewed = StepRun.objects.filter(
                        id=self.step_run_id, status=StepStatus.RUNNING, attempt=self.attempt
                    ).update(lease_expires_at=_now() + timedelta(seconds=lease))
                except Exception as exc:
                    if not is_transient(exc):
                        raise
                    # The database is away for a moment: keep beating, or the step would look
                    # like a dead worker's once it is back.
                    logger.warning("heartbeat of %s: %s", self.step_run_id, error_summary(exc))
                    connection.close()
                    continue
                if not renewed:  # cancelled, or the reaper took the step back
                    self.ctx.cancelled.set()
                    return
        except Exception:
            logger.warning("heartbeat failed for %s", self.step_run_id, exc_info=True)
        finally:
            connection.close()

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()


_STEP_PATH = re.compile(r"steps\s*(?:\.\s*([A-Za-z_][\w-]*)|\[\s*['\"]([^'\"]+)['\"]\s*\])")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _steps_read_by(step: dict) -> set[str]:
    """The steps whose rows a step's context needs: its dependencies, what its templates
    name, and ``steps.x`` paths in plain strings (JMESPath, condition fields)."""
    names = set(step.get("depends_on") or []) | referenced_steps([step.get("config"), step.get("when")])
    for text in _strings(step.get("config")):
        if "steps" in text:
            names.update(a or b for a, b in _STEP_PATH.findall(text))
    return names


@dataclass
class Outcome:
    """What executing a step came to: a result (output or instruction), a failure, or a skip."""

    result: Any = None
    error: StepError | None = None
    skip_reason: str | None = None


def step_run_execute(*, step_run_id: str, attempt: int, task_id: str = "", run_id: str | None = None) -> None:
    """Claim, execute and record one attempt; then the successor this task claimed eagerly, if any.

    Steps of an ``inline`` type (pure computations: transform, condition, wait)
    run inside the claiming transaction: claim, output, events and propagation
    commit together, one round of locks and one commit. Other types commit the
    claim first, run outside any transaction with a heartbeat, then record.

    Eager successors (``ORCHESTRATOR_EAGER_STEPS``): when recording a step makes
    successors ready, the recording transaction may claim one of them for this task
    (``running``, with a lease and its ``step_started`` event, durably) and this task
    runs it next, without a broker round trip; the others are queued as before. A
    worker killed after that commit leaves the claimed step ``running`` with a lease
    that expires, and the reaper re-queues it as any other. The chain a task follows is
    bounded by a count and by seconds (``EagerChain``).
    """
    run_id = run_id or StepRun.objects.filter(id=step_run_id).values_list("run_id", flat=True).first()
    if run_id is None:
        return
    chain = EagerChain.for_task(task_id)
    claimed = False
    while True:
        next_step = _attempt(step_run_id, attempt, task_id, run_id, chain, claimed=claimed)
        if next_step is None:
            return
        step_run_id, attempt = next_step
        claimed = True
        published(timeout=EVENTS_WAIT_SECONDS)  # the last step's events go out live


class EagerChain:
    """How far one task may follow eagerly claimed successors: at most ``steps`` of them and
    ``seconds`` since the task began, and only steps whose timeout fits the message's soft
    time limit (an eager step runs under the limit of the message that started the task)."""

    def __init__(self, task_id: str, steps: int, seconds: float, soft_limit: float | None) -> None:
        self.task_id, self.steps_left, self.soft_limit = task_id, steps, soft_limit
        self.until = time.monotonic() + seconds
        self.next: tuple[str, int] | None = None
        # What the steps this task settled left for the template context, by step ID: a
        # settled step's row never changes again, so the successor needs not read it back.
        self.known: dict[str, dict[str, Any]] = {}

    @classmethod
    def for_task(cls, task_id: str) -> EagerChain | None:
        steps = settings.ORCHESTRATOR_EAGER_STEPS
        if steps <= 0 or not task_id:
            return None
        soft_limit = None
        try:
            from celery import current_task

            limits = getattr(current_task.request, "timelimit", None) if current_task else None
            if limits and limits[1]:
                soft_limit = float(limits[1])
        except Exception:  # outside a worker: no message limit to respect
            soft_limit = None
        return cls(task_id, steps, settings.ORCHESTRATOR_EAGER_SECONDS, soft_limit)

    def open(self) -> bool:
        return self.next is None and self.steps_left > 0 and time.monotonic() < self.until

    def accepts(self, timeout_seconds: int) -> bool:
        return self.soft_limit is None or timeout_seconds <= self.soft_limit

    def take(self, step_run: StepRun) -> None:
        self.next = (step_run.id, step_run.attempt)
        self.steps_left -= 1


def _attempt(
    step_run_id: str, attempt: int, task_id: str, run_id: str, chain: EagerChain | None, *, claimed: bool
) -> tuple[str, int] | None:
    """One attempt of one step; answers the successor claimed for this task, if any.
    ``claimed``: the step was claimed eagerly for this task (already ``running``)."""
    if chain is not None:
        chain.next = None
    with transaction.atomic():
        # The run's lock first, as every other transition of a run takes it (cancel, sweeper,
        # reaper): taking the step's row first would deadlock against them. One statement.
        run, step_run = run_step_lock(run_id, step_run_id)
        if run is None or run.status not in (RunStatus.RUNNING, RunStatus.PAUSED):
            return None
        # Compare-and-set under the row lock: a duplicate or stale delivery finds another
        # status or attempt and does nothing.
        if step_run.attempt != attempt:
            return None
        if claimed:
            if step_run.status != StepStatus.RUNNING or step_run.task_id != task_id:
                return None  # the reaper took it back, or the run was cancelled
        elif step_run.status != StepStatus.QUEUED:
            return None
        now = _now()
        step = step_definition(run, step_run)
        step_type = registry.get(step["type"])
        ctx = _context_for(run, step_run, step, attempt)
        with events_buffered(run):
            if not claimed:
                step_run.status = StepStatus.RUNNING
                step_run.started_at = now
                step_run.due_at = None
                step_run.task_id = task_id
                event_record(run=run, type="step_started", step_id=step_run.step_id, data={"attempt": attempt})
            if getattr(step_type, "inline", False):
                if claimed:
                    step_run.started_at = now  # when it began to run, not when it was claimed
                run._eager = chain
                _apply(run, step_run, step, _execute(run, step_run, step, step_type, ctx, chain), ctx)
                return chain.next if chain is not None else None
            if not claimed:
                step_run.lease_expires_at = now + timedelta(seconds=settings.ORCHESTRATOR_STEP_LEASE_SECONDS)
                row_update(step_run, ["status", "started_at", "due_at", "task_id", "lease_expires_at"])
    with Heartbeat(step_run.id, attempt, ctx):
        outcome = _execute(run, step_run, step, step_type, ctx, chain)
        # Recorded while the heartbeat still renews the lease: retrying through a database
        # outage must not look like a dead worker to the reaper (which would run it again).
        try:
            return call_retrying(
                lambda: _record(run_id, step_run, attempt, step, outcome, ctx, chain),
                what=f"recording step {step_run.id}",
            )
        except Exception as exc:
            if is_transient(exc):
                raise  # the task is sent again; the reaper takes the step back if that fails too
            step_run_fail_unexpected(step_run_id=step_run.id, attempt=attempt, exc=exc)
            return None


def _record(
    run_id: str,
    step_run: StepRun,
    attempt: int,
    step: dict,
    outcome: Outcome,
    ctx: StepContext,
    chain: EagerChain | None,
) -> tuple[str, int] | None:
    """One transaction: the outcome of a step run outside the claim; safe to run again.
    Answers the successor claimed for this task, if any."""
    if chain is not None:
        chain.next = None  # a rolled-back try claimed nothing
    with transaction.atomic():
        run, locked = run_step_lock(run_id, step_run.id)
        # The reaper may have re-queued the step, or the run was cancelled: record nothing.
        if locked is None or locked.status != StepStatus.RUNNING or locked.attempt != attempt:
            return None
        locked.input = step_run.input
        run._eager = chain
        with events_buffered(run):
            _apply(run, locked, step, outcome, ctx)
    return chain.next if chain is not None else None


def step_run_fail_unexpected(
    *,
    step_run_id: str,
    exc: BaseException,
    attempt: int | None = None,
    statuses: tuple[str, ...] = (StepStatus.QUEUED, StepStatus.RUNNING),
) -> bool:
    """Claiming or recording this step kept raising something that is not a database or
    broker outage (a bug, or a value the database refuses): the step fails with that error
    and its run fails with it, unfinished steps cancelled, so the run ends and frees its
    slot instead of staying ``running``. Plain UPDATEs only, so that the error met while
    recording is not met again here. Answers whether it changed anything."""
    message = redact_text(f"Internal error, after retries: {error_summary(exc)}")
    with transaction.atomic():
        run_id = StepRun.objects.filter(id=step_run_id).values_list("run_id", flat=True).first()
        if run_id is None:
            return False
        run = run_lock(run_id)
        if run.status in RUN_TERMINAL:
            return False
        locked = StepRun.objects.select_for_update(no_key=True).filter(id=step_run_id)
        step_run = locked.only("step_id", "status", "attempt").first()
        if step_run is None or step_run.status not in statuses or (attempt is not None and step_run.attempt != attempt):
            return False  # another delivery got further meanwhile
        now = _now()
        StepRun.objects.filter(id=step_run_id).update(
            status=StepStatus.FAILED, error=message, completed_at=now, lease_expires_at=None, due_at=None
        )
        event_record(
            run=run,
            type="step_failed",
            step_id=step_run.step_id,
            data={"attempt": step_run.attempt, "error": message, "kind": "internal"},
        )
        task_ids = steps_cancel(run, f"Cancelled: step '{step_run.step_id}' failed with an internal error.")
        run.status = RunStatus.FAILED
        run.completed_at = now
        run.error = f"Step '{step_run.step_id}' failed: {message}"
        run.save(update_fields=["status", "completed_at", "error"])
        event_record(
            run=run,
            type="run_failed",
            data={"status": run.status, "duration_seconds": run.duration_seconds, "error": run.error},
        )
        run_after_end(run)
        if task_ids:
            from config.celery import app

            transaction.on_commit(lambda: app.control.revoke(task_ids))
    logger.error("step %s of run %s failed: %s", step_run_id, run_id, message)
    return True


def _context_for(run: Run, step_run: StepRun, step: dict, attempt: int) -> StepContext:
    return StepContext(
        run_id=run.id,
        step_run_id=step_run.id,
        step_id=step_run.step_id,
        tenant_id=run.tenant_id,
        workflow_id=run.workflow_id,
        attempt=attempt,
        timeout_seconds=int(step.get("timeout_seconds") or settings.ORCHESTRATOR_DEFAULT_STEP_TIMEOUT),
    )


def _execute(
    run: Run, step_run: StepRun, step: dict, step_type: Any, ctx: StepContext, chain: EagerChain | None = None
) -> Outcome:
    """Render the config over the context and execute; never raises for a step's own failure.
    The rendered (redacted) config is kept on ``step_run.input`` and saved with the outcome."""
    try:
        context = run_context(run, _steps_read_by(step), known=chain.known if chain is not None else None)
        if step_run.parent_id is not None:
            context["item"] = (step_run.input or {}).get("item")
            context["index"] = step_run.iteration
        when = step.get("when")
        if when not in (None, "") and not evaluate(when, context):
            return Outcome(skip_reason="when condition is false")
        if step_type is None or not hasattr(step_type, "execute"):
            raise StepError(f"Step type {step['type']!r} cannot be executed.")
        if not step_type.enabled():
            raise StepError(f"Step type {step['type']!r} is disabled: {step_type.disabled_reason()}")
        raw = step.get("config") or {}
        config = render({k: v for k, v in raw.items() if k not in step_type.raw_config_keys}, context)
        config.update({k: raw[k] for k in step_type.raw_config_keys if k in raw})
        ctx.context = context
        if step_run.parent_id is None:
            step_run.input = redact(config)
        return Outcome(result=step_type().execute(ctx, config))
    except StepError as exc:
        return Outcome(error=exc)
    except ExpressionError as exc:
        return Outcome(error=StepError(f"Template error: {exc}"))
    except SoftTimeLimitExceeded:
        return Outcome(error=StepError(f"Step timed out after {ctx.timeout_seconds} s.", kind="timeout"))
    except Exception as exc:  # a bug in a step type still fails the step, clearly
        logger.exception("step %s failed unexpectedly", step_run.id)
        return Outcome(error=StepError(f"{type(exc).__name__}: {exc}"))


def _output_checked(output: Any) -> Any:
    size = len(json.dumps(output, default=str).encode())
    limit = settings.ORCHESTRATOR_MAX_OUTPUT_BYTES
    if size > limit:
        raise StepError(f"Step output is {size} bytes; the limit is {limit} bytes (ORCHESTRATOR_MAX_OUTPUT_BYTES).")
    return json.loads(json.dumps(output, default=str))


def _logs(ctx: StepContext, existing: str = "") -> str:
    lines = "\n".join(ctx.log_lines)
    return redact_text((existing + "\n" + lines).strip()) if lines else existing


def _settled(run: Run, step_run: StepRun) -> None:
    chain = getattr(run, "_eager", None)
    if chain is not None and step_run.parent_id is None:
        chain.known[step_run.step_id] = {"output": step_run.output, "status": step_run.status, "error": step_run.error}
    if step_run.parent_id is not None:
        from orchestrator.engine.loops import loop_iteration_settled

        loop_iteration_settled(run, step_run)
    else:
        step_settled(run, step_run)


def _apply(run: Run, step_run: StepRun, step: dict, outcome: Outcome, ctx: StepContext) -> None:
    """Under the run lock, with the step ``running`` for this attempt: record the outcome."""
    step_run.logs = _logs(ctx, step_run.logs)
    step_run.lease_expires_at = None
    claim_fields = ["status", "started_at", "due_at", "task_id", "input", "logs", "lease_expires_at"]
    if outcome.skip_reason is not None:
        step_run.status = StepStatus.SKIPPED
        step_run.completed_at = _now()
        row_update(step_run, [*claim_fields, "completed_at"])
        event_record(run=run, type="step_skipped", step_id=step_run.step_id, data={"reason": outcome.skip_reason})
        _settled(run, step_run)
        return
    result, error = outcome.result, outcome.error
    if error is None and not isinstance(result, (Suspend, FanOut, StartChild)):
        try:
            result = _output_checked(result)
        except StepError as exc:
            error = exc
    if error is not None:
        row_update(step_run, claim_fields)
        step_failed_or_retry(run, step_run, error)
        return
    if isinstance(result, Suspend):
        row_update(step_run, claim_fields)
        _suspend(run, step_run, result)
        return
    if isinstance(result, (FanOut, StartChild)):
        from orchestrator.engine.loops import loop_start
        from orchestrator.engine.subruns import child_start

        row_update(step_run, claim_fields)
        buffered, sequence = len(run._event_buffer), run.event_sequence
        try:
            with transaction.atomic():  # a savepoint: a refused start leaves nothing half-written
                (loop_start if isinstance(result, FanOut) else child_start)(run, step_run, result)
        except StepError as exc:  # e.g. the child workflow is not in this tenant
            del run._event_buffer[buffered:]  # and none of its events
            run.event_sequence = sequence
            step_failed_or_retry(run, step_run, exc)
        return
    step_run.output = result
    step_run.status = StepStatus.COMPLETED
    step_run.completed_at = _now()
    step_run.error = None
    row_update(step_run, [*claim_fields, "output", "completed_at", "error"])
    event_record(
        run=run,
        type="step_completed",
        step_id=step_run.step_id,
        data={"attempt": step_run.attempt, "output": step_run.output, "duration_seconds": step_run.duration_seconds},
    )
    if step.get("type") == "condition" and isinstance(result, dict):
        config = step.get("config") or {}
        not_taken = config.get("else") if result.get("result") else config.get("then")
        branch_skip(run, list(not_taken or []))
    _settled(run, step_run)


def _suspend(run: Run, step_run: StepRun, suspend: Suspend) -> None:
    step_run.status = StepStatus.WAITING
    step_run.due_at = suspend.due_at
    step_run.wait_signal = suspend.signal
    step_run.output = suspend.output
    row_update(step_run, ["status", "due_at", "wait_signal", "output", "logs", "lease_expires_at"])
    data: dict[str, Any] = {"until": suspend.due_at.isoformat() if suspend.due_at else None}
    if suspend.signal:
        data["signal"] = suspend.signal
    event_record(run=run, type="step_waiting", step_id=step_run.step_id, data=data)
    if suspend.signal and run.status == RunStatus.RUNNING:
        run.status = RunStatus.PAUSED
        run.save(update_fields=["status"])
        event_record(run=run, type="run_paused", step_id=step_run.step_id, data={"signal": suspend.signal})


def step_failed_or_retry(run: Run, step_run: StepRun, error: StepError, *, logs: str | None = None) -> None:
    """Under the run lock: re-queue within the retry policy, else fail the step."""
    step = step_definition(run, step_run)
    policy = {**DEFAULT_RETRY, **(step.get("retry") or {})}
    retry_on = policy.get("retry_on") or RETRYABLE_BY_DEFAULT
    message = redact_text(error.message)
    if logs is not None:
        step_run.logs = logs
    step_run.error = message
    if step_run.attempt < int(policy["max_attempts"]) and error.kind in retry_on:
        delay = _retry_delay(policy, step_run.attempt)
        row_update(step_run, ["error", "logs"])
        event_record(
            run=run,
            type="step_retrying",
            step_id=step_run.step_id,
            data={
                "attempt": step_run.attempt,
                "next_attempt": step_run.attempt + 1,
                "delay_seconds": round(delay, 3),
                "error": message,
                "kind": error.kind,
            },
        )
        step_queue(run, step_run, delay_seconds=delay)
        return
    step_run.status = StepStatus.FAILED
    step_run.completed_at = _now()
    step_run.lease_expires_at = None
    if error.output is not None:
        step_run.output = error.output
    row_update(step_run, ["status", "completed_at", "lease_expires_at", "error", "logs", "output"])
    event_record(
        run=run,
        type="step_failed",
        step_id=step_run.step_id,
        data={"attempt": step_run.attempt, "error": message, "kind": error.kind},
    )
    _settled(run, step_run)


def step_complete_waiting(run: Run, step_run: StepRun, output: Any) -> bool:
    """Under the run lock: a waiting step (wait, signal, sub-run) completes with ``output``."""
    updated = StepRun.objects.filter(id=step_run.id, status=StepStatus.WAITING).update(
        status=StepStatus.COMPLETED, output=output, completed_at=_now(), due_at=None
    )
    if not updated:
        return False
    step_run.refresh_from_db()
    event_record(run=run, type="step_completed", step_id=step_run.step_id, data={"output": output})
    _settled(run, step_run)
    return True
