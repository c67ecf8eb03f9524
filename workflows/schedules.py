"""Schedules (SPEC 9): cron slots, missed-slot policies, and the beat entry kept in step.

django-celery-beat only wakes us up: its PeriodicTask (a CrontabSchedule in the
schedule's timezone) sends ``orchestrator.schedule_fire`` about when a slot is due.
Which slots are due is decided here, with croniter in the schedule's timezone, from
``covered_until`` under a row lock: a tick delivered twice, a retried tick or two
beats at once start one run per slot, and a late tick after downtime sees exactly
the slots it missed.

Choices the SPEC leaves open:
- DST: slots are wall-clock times in the schedule's timezone. A wall time that does
  not exist (spring forward) fires once at the first valid time after it; a wall
  time that happens twice (fall back) fires once, at its first occurrence.
- A workflow that is not active (draft, paused, archived) suspends its schedules:
  a fire marks the due slots handled and starts nothing, so resuming the workflow
  never back-fills the slots that fell while it was paused.
- ``skip`` runs a slot only while it is at most ``SKIP_GRACE`` old; ``queue``
  starts at most ``QUEUE_CAP`` runs (the newest missed slots).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from celery.schedules import crontab
from croniter import croniter
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from orchestrator.errors import DomainError, NotFound, ValidationFailed
from orchestrator.models import Tenant, User
from runs.models import Run, RunTrigger
from runs.services import inputs_validate, run_create
from workflows.models import MissedExecutionPolicy, Schedule, Workflow, WorkflowStatus

logger = logging.getLogger(__name__)

FIRE_TASK = "orchestrator.schedule_fire"
SKIP_GRACE = timedelta(seconds=60)
QUEUE_CAP = 10
# A beat tick may land a moment before its slot (clock granularity); it still counts for that slot.
EARLY_TOLERANCE = timedelta(seconds=2)
_CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


def schedule_problems(*, cron_expression: Any, tz_name: Any, policy: Any) -> list[dict]:
    """Every reason the three fields are unusable, as ``{"field", "message"}`` entries."""
    problems = []
    if not isinstance(cron_expression, str) or len(cron_expression.split()) != 5:
        problems.append({"field": "cron_expression", "message": "Must be a 5-field cron expression."})
    elif too_long := _cron_too_long(cron_expression):
        problems.append({"field": "cron_expression", "message": too_long})
    else:
        fields = cron_expression.split()
        valid = croniter.is_valid(cron_expression)
        if valid:
            try:  # beat parses it too: what croniter takes and celery does not (L, #, 7) is refused here
                crontab(**dict(zip(_CRON_FIELDS, fields, strict=True)))
            except (ValueError, TypeError, KeyError):
                valid = False
        if not valid:
            problems.append({"field": "cron_expression", "message": f"{cron_expression!r} is not a valid cron."})
    if not isinstance(tz_name, str) or not _is_timezone(tz_name):
        problems.append({"field": "timezone", "message": f"{tz_name!r} is not an IANA timezone."})
    if policy not in MissedExecutionPolicy.values:
        problems.append(
            {
                "field": "missed_execution_policy",
                "message": f"Must be one of {', '.join(MissedExecutionPolicy.values)}.",
            }
        )
    return problems


def _cron_too_long(cron_expression: str) -> str | None:
    """The columns that store a cron (ours, and beat's CrontabSchedule per field) are bounded:
    an over-long one was a DataError (500), not a 400."""
    limit = Schedule._meta.get_field("cron_expression").max_length
    if len(" ".join(cron_expression.split())) > limit:
        return f"At most {limit} characters."
    for name, value in zip(_CRON_FIELDS, cron_expression.split(), strict=True):
        column = CrontabSchedule._meta.get_field(name).max_length
        if len(value) > column:
            return f"The {name} field has {len(value)} characters; at most {column}."
    return None


def _is_timezone(name: str) -> bool:
    if name not in available_timezones() and name != "UTC":
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _validate(*, schedule: Schedule) -> None:
    problems = schedule_problems(
        cron_expression=schedule.cron_expression,
        tz_name=schedule.timezone,
        policy=schedule.missed_execution_policy,
    )
    if problems:
        message = problems[0]["message"] if len(problems) == 1 else f"The schedule has {len(problems)} problems."
        raise ValidationFailed(message, details=problems)
    # The inputs go to every run: refuse at once what every run would refuse.
    schedule.inputs = inputs_validate(schema=schedule.workflow.definition.get("inputs") or {}, inputs=schedule.inputs)


def _is_repeated_wall_time(slot: datetime, tz: ZoneInfo) -> bool:
    """The second occurrence of a wall time in a fall-back hour."""
    first = slot.replace(tzinfo=None).replace(tzinfo=tz, fold=0)
    return first.astimezone(UTC) != slot.astimezone(UTC)


def schedule_next_slot(*, schedule: Schedule, after: datetime) -> datetime:
    tz = ZoneInfo(schedule.timezone)
    it = croniter(schedule.cron_expression, after.astimezone(tz))
    while True:
        slot = it.get_next(datetime)
        if not _is_repeated_wall_time(slot, tz):
            return slot.astimezone(UTC)


def schedule_due_slots(*, schedule: Schedule, now: datetime, limit: int = QUEUE_CAP) -> list[datetime]:
    """The newest ``limit`` slots after ``covered_until`` up to ``now`` (+ a little tolerance), oldest first.

    Walked back from now, so a long downtime costs ``limit`` steps, not one per missed slot.
    """
    tz = ZoneInfo(schedule.timezone)
    it = croniter(schedule.cron_expression, (now + EARLY_TOLERANCE).astimezone(tz))
    newest_first: list[datetime] = []
    while len(newest_first) < limit:
        slot = it.get_prev(datetime)
        if slot.astimezone(UTC) <= schedule.covered_until:
            break
        if not _is_repeated_wall_time(slot, tz):
            newest_first.append(slot.astimezone(UTC))
    return newest_first[::-1]


def schedule_get(*, tenant: Tenant, schedule_id: str) -> Schedule:
    found = Schedule.objects.for_tenant(tenant).select_related("workflow", "periodic_task").filter(id=schedule_id)
    schedule = found.first()
    if schedule is None:
        raise NotFound(f"Schedule {schedule_id!r} was not found.")
    return schedule


def schedule_list(*, workflow: Workflow) -> QuerySet[Schedule]:
    return Schedule.objects.filter(tenant_id=workflow.tenant_id, workflow=workflow)


def _periodic_task_sync(*, schedule: Schedule) -> None:
    minute, hour, day_of_month, month_of_year, day_of_week = schedule.cron_expression.split()
    cron, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
        timezone=schedule.timezone,
    )
    task = schedule.periodic_task or PeriodicTask(name=f"workflow-schedule:{schedule.id}", task=FIRE_TASK)
    task.crontab = cron
    task.interval = None
    task.args = json.dumps([schedule.id])
    task.enabled = schedule.enabled
    task.description = f"Workflow {schedule.workflow_id} schedule {schedule.id}"
    task.save()
    schedule.periodic_task = task


@transaction.atomic
def schedule_create(
    *,
    workflow: Workflow,
    user: User | None,
    cron_expression: str,
    timezone_name: str = "UTC",
    inputs: dict | None = None,
    missed_execution_policy: str = MissedExecutionPolicy.SKIP,
    enabled: bool = True,
    now: datetime | None = None,
) -> Schedule:
    now = now or timezone.now()
    schedule = Schedule(
        tenant_id=workflow.tenant_id,
        workflow=workflow,
        cron_expression=" ".join(str(cron_expression).split()),
        timezone=timezone_name,
        inputs=inputs or {},
        missed_execution_policy=missed_execution_policy,
        enabled=enabled,
        created_by=user,
        covered_until=now,
    )
    _validate(schedule=schedule)
    schedule.next_run_at = schedule_next_slot(schedule=schedule, after=now) if enabled else None
    schedule.save()
    _periodic_task_sync(schedule=schedule)
    schedule.save(update_fields=["periodic_task"])
    return schedule


@transaction.atomic
def schedule_update(*, schedule: Schedule, now: datetime | None = None, **changes: Any) -> Schedule:
    """Change some fields; ``next_run_at`` is recomputed. A new cron, timezone or a re-enable starts
    counting slots from now: slots of the old timing, or from while disabled, are not back-filled."""
    now = now or timezone.now()
    schedule = (
        Schedule.objects.select_for_update(of=("self",)).select_related("workflow", "periodic_task").get(id=schedule.id)
    )
    if "timezone_name" in changes:
        changes["timezone"] = changes.pop("timezone_name")
    if "cron_expression" in changes:
        changes["cron_expression"] = " ".join(str(changes["cron_expression"]).split())
    timing_changed = any(
        name in changes and changes[name] != getattr(schedule, name) for name in ("cron_expression", "timezone")
    ) or (changes.get("enabled") is True and not schedule.enabled)
    for name, value in changes.items():
        setattr(schedule, name, value)
    _validate(schedule=schedule)
    if timing_changed:
        schedule.covered_until = max(schedule.covered_until, now)
    after = max(schedule.covered_until, now)
    schedule.next_run_at = schedule_next_slot(schedule=schedule, after=after) if schedule.enabled else None
    _periodic_task_sync(schedule=schedule)
    schedule.save()
    return schedule


@transaction.atomic
def schedule_delete(*, schedule: Schedule) -> None:
    # The post_delete receiver in workflows/models.py removes the PeriodicTask in this transaction.
    schedule.delete()


def _chosen_slots(policy: str, due: list[datetime], now: datetime) -> list[datetime]:
    if not due:
        return []
    if policy == MissedExecutionPolicy.QUEUE:
        return due[-QUEUE_CAP:]
    if policy == MissedExecutionPolicy.RUN_IMMEDIATELY:
        return [due[-1]]  # one run now, for however many slots were missed
    return [due[-1]] if now - due[-1] <= SKIP_GRACE else []


def schedule_fire(*, schedule_id: str, now: datetime | None = None) -> list[Run]:
    """Start the runs due for this schedule at ``now``; safe to call any number of times per slot."""
    now = now or timezone.now()
    started: list[Run] = []
    with transaction.atomic():
        schedule = (
            Schedule.objects.select_for_update(of=("self",)).select_related("workflow").filter(id=schedule_id).first()
        )
        if schedule is None or not schedule.enabled:
            return []
        due = schedule_due_slots(schedule=schedule, now=now)
        workflow = schedule.workflow
        if workflow.status != WorkflowStatus.ACTIVE:
            chosen = []
            if due:
                logger.info("schedule %s: workflow %s is %s; slots dropped", schedule.id, workflow.id, workflow.status)
        else:
            chosen = _chosen_slots(schedule.missed_execution_policy, due, now)
        for slot in chosen:
            try:
                run = run_create(
                    workflow=workflow,
                    inputs=schedule.inputs,
                    trigger=RunTrigger.SCHEDULE,
                    user=schedule.created_by,
                    metadata={"schedule_id": schedule.id, "scheduled_for": slot.isoformat().replace("+00:00", "Z")},
                )
            except DomainError as exc:  # e.g. the workflow's input schema changed since: this slot is lost
                logger.warning("schedule %s slot %s: run not started: %s", schedule.id, slot.isoformat(), exc.message)
                continue
            started.append(run)
            schedule.last_run_at = slot
        if due:
            schedule.covered_until = max(due[-1], schedule.covered_until)
        schedule.next_run_at = schedule_next_slot(schedule=schedule, after=max(schedule.covered_until, now))
        schedule.save(update_fields=["covered_until", "last_run_at", "next_run_at", "updated_at"])
    return started
