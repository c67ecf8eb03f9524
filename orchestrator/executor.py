"""Execute one attempt of one step run, and record its outcome.

1. Claim by compare-and-set: ``queued → running`` only for the attempt the
   message names; zero rows means a duplicate or stale delivery, or a
   cancelled run: do nothing.
2. Render the config over the context (only the steps its templates name),
   execute the step type while a heartbeat renews the lease.
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
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from orchestrator.events import event_record
from orchestrator.execution import FanOut, StartChild, StepContext, StepError, Suspend
from orchestrator.expressions import ExpressionError, evaluate, referenced_steps, render
from orchestrator.redaction import redact, redact_text
from orchestrator.scheduler import branch_skip, graph_of, run_context, run_lock, step_queue, step_settled
from orchestrator.step_types import registry
from runs.models import Run, RunStatus, StepRun, StepStatus

logger = logging.getLogger(__name__)

DEFAULT_RETRY = {"max_attempts": 1}
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
                renewed = StepRun.objects.filter(
                    id=self.step_run_id, status=StepStatus.RUNNING, attempt=self.attempt
                ).update(lease_expires_at=_now() + timedelta(seconds=lease))
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


def _claim(step_run_id: str, attempt: int, task_id: str) -> tuple[Run, StepRun] | None:
    now = _now()
    lease = timedelta(seconds=settings.ORCHESTRATOR_STEP_LEASE_SECONDS)
    with transaction.atomic():
        # The compare-and-set names only this row's own columns: a join (run__status) would
        # make Django emit "id IN (subquery)", which PostgreSQL does not re-check after a
        # concurrent update, so two deliveries could both claim. The run is checked apart.
        run_status = StepRun.objects.filter(id=step_run_id).values_list("run__status", flat=True).first()
        if run_status not in (RunStatus.RUNNING, RunStatus.PAUSED):
            return None
        claimed = StepRun.objects.filter(id=step_run_id, status=StepStatus.QUEUED, attempt=attempt).update(
            status=StepStatus.RUNNING, started_at=now, lease_expires_at=now + lease, task_id=task_id, due_at=None
        )
        if not claimed:
            return None
        step_run = StepRun.objects.select_related("run").get(id=step_run_id)
        run = step_run.run
        event_record(run=run, type="step_started", step_id=step_run.step_id, data={"attempt": attempt})
    return run, step_run


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


def step_run_execute(*, step_run_id: str, attempt: int, task_id: str = "") -> None:
    claimed = _claim(step_run_id, attempt, task_id)
    if claimed is None:
        return
    run, step_run = claimed
    step = step_definition(run, step_run)
    ctx = StepContext(
        run_id=run.id,
        step_run_id=step_run.id,
        step_id=step_run.step_id,
        tenant_id=run.tenant_id,
        workflow_id=run.workflow_id,
        attempt=attempt,
        timeout_seconds=int(step.get("timeout_seconds") or settings.ORCHESTRATOR_DEFAULT_STEP_TIMEOUT),
    )
    try:
        names = _steps_read_by(step)
        context = run_context(run, names)
        if step_run.parent_id is not None:
            context["item"] = (step_run.input or {}).get("item")
            context["index"] = step_run.iteration
        when = step.get("when")
        if when not in (None, "") and not evaluate(when, context):
            _record_skip(run.id, step_run.id, attempt, "when condition is false")
            return
        step_type = registry.get(step["type"])
        if step_type is None or not hasattr(step_type, "execute"):
            raise StepError(f"Step type {step['type']!r} cannot be executed.")
        if not step_type.enabled():
            raise StepError(f"Step type {step['type']!r} is disabled: {step_type.disabled_reason()}")
        raw = step.get("config") or {}
        config = render({k: v for k, v in raw.items() if k not in step_type.raw_config_keys}, context)
        config.update({k: raw[k] for k in step_type.raw_config_keys if k in raw})
        ctx.context = context
        StepRun.objects.filter(id=step_run.id, attempt=attempt).update(input=redact(config))
        with Heartbeat(step_run.id, attempt, ctx):
            result = step_type().execute(ctx, config)
    except StepError as exc:
        _record_failure(run.id, step_run.id, attempt, exc, ctx)
        return
    except ExpressionError as exc:
        _record_failure(run.id, step_run.id, attempt, StepError(f"Template error: {exc}"), ctx)
        return
    except SoftTimeLimitExceeded:
        error = StepError(f"Step timed out after {ctx.timeout_seconds} s.", kind="timeout")
        _record_failure(run.id, step_run.id, attempt, error, ctx)
        return
    except Exception as exc:  # a bug in a step type still fails the step, clearly
        logger.exception("step %s failed unexpectedly", step_run.id)
        _record_failure(run.id, step_run.id, attempt, StepError(f"{type(exc).__name__}: {exc}"), ctx)
        return
    _record_result(run.id, step_run.id, attempt, result, ctx)


def _output_checked(output: Any) -> Any:
    size = len(json.dumps(output, default=str).encode())
    limit = settings.ORCHESTRATOR_MAX_OUTPUT_BYTES
    if size > limit:
        raise StepError(f"Step output is {size} bytes; the limit is {limit} bytes (ORCHESTRATOR_MAX_OUTPUT_BYTES).")
    return json.loads(json.dumps(output, default=str))


def _locked_running(run_id: str, step_run_id: str, attempt: int) -> tuple[Run, StepRun] | None:
    run = run_lock(run_id)
    step_run = StepRun.objects.select_for_update().filter(id=step_run_id).first()
    if step_run is None or step_run.status != StepStatus.RUNNING or step_run.attempt != attempt:
        return None
    return run, step_run


def _logs(ctx: StepContext, existing: str = "") -> str:
    lines = "\n".join(ctx.log_lines)
    return redact_text((existing + "\n" + lines).strip()) if lines else existing


def _record_skip(run_id: str, step_run_id: str, attempt: int, reason: str) -> None:
    with transaction.atomic():
        locked = _locked_running(run_id, step_run_id, attempt)
        if locked is None:
            return
        run, step_run = locked
        step_run.status = StepStatus.SKIPPED
        step_run.completed_at = _now()
        step_run.lease_expires_at = None
        step_run.save(update_fields=["status", "completed_at", "lease_expires_at"])
        event_record(run=run, type="step_skipped", step_id=step_run.step_id, data={"reason": reason})
        _settled(run, step_run)


def _settled(run: Run, step_run: StepRun) -> None:
    if step_run.parent_id is not None:
        from orchestrator.loops import loop_iteration_settled

        loop_iteration_settled(run, step_run)
    else:
        step_settled(run, step_run)


def _record_result(run_id: str, step_run_id: str, attempt: int, result: Any, ctx: StepContext) -> None:
    try:
        with transaction.atomic():
            locked = _locked_running(run_id, step_run_id, attempt)
            if locked is None:
                return
            run, step_run = locked
            now = _now()
            step_run.logs = _logs(ctx, step_run.logs)
            step_run.lease_expires_at = None
            if isinstance(result, Suspend):
                _suspend(run, step_run, result)
                return
            if isinstance(result, FanOut):
                from orchestrator.loops import loop_start

                loop_start(run, step_run, result)
                return
            if isinstance(result, StartChild):
                from orchestrator.subruns import child_start

                child_start(run, step_run, result)
                return
            step_run.output = _output_checked(result)
            step_run.status = StepStatus.COMPLETED
            step_run.completed_at = now
            step_run.error = None
            step_run.save(update_fields=["output", "status", "completed_at", "error", "logs", "lease_expires_at"])
            event_record(
                run=run,
                type="step_completed",
                step_id=step_run.step_id,
                data={"attempt": attempt, "output": step_run.output, "duration_seconds": step_run.duration_seconds},
            )
            step = step_definition(run, step_run)
            if step.get("type") == "condition" and isinstance(step_run.output, dict):
                config = step.get("config") or {}
                not_taken = config.get("else") if step_run.output.get("result") else config.get("then")
                branch_skip(run, list(not_taken or []))
            _settled(run, step_run)
    except StepError as exc:
        _record_failure(run_id, step_run_id, attempt, exc, ctx)


def _suspend(run: Run, step_run: StepRun, suspend: Suspend) -> None:
    step_run.status = StepStatus.WAITING
    step_run.due_at = suspend.due_at
    step_run.wait_signal = suspend.signal
    step_run.output = suspend.output
    step_run.save(update_fields=["status", "due_at", "wait_signal", "output", "logs", "lease_expires_at"])
    data: dict[str, Any] = {"until": suspend.due_at.isoformat() if suspend.due_at else None}
    if suspend.signal:
        data["signal"] = suspend.signal
    event_record(run=run, type="step_waiting", step_id=step_run.step_id, data=data)
    if suspend.signal and run.status == RunStatus.RUNNING:
        run.status = RunStatus.PAUSED
        run.save(update_fields=["status"])
        event_record(run=run, type="run_paused", step_id=step_run.step_id, data={"signal": suspend.signal})


def _record_failure(run_id: str, step_run_id: str, attempt: int, error: StepError, ctx: StepContext) -> None:
    with transaction.atomic():
        locked = _locked_running(run_id, step_run_id, attempt)
        if locked is None:
            return
        run, step_run = locked
        step_failed_or_retry(run, step_run, error, logs=_logs(ctx, step_run.logs))


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
        step_run.save(update_fields=["error", "logs"])
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
    step_run.save(update_fields=["status", "completed_at", "lease_expires_at", "error", "logs", "output"])
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
