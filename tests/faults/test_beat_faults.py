"""Beat stopped across schedule slots and restarted, for each missed-execution policy, and
two beats at once (SPEC 9, 15): one run per slot, never two.

Real beats (django-celery-beat's DatabaseScheduler) and a real worker. Downtime is set
up without waiting out real minutes: while beat is stopped, the schedule's bookkeeping
and beat's own (``PeriodicTask.last_run_at``) are put back to how they stood five
minutes ago, the last time a beat ticked; the three slots of the schedule lie between
then and now (two to four minutes ago), so they fell while no beat was running.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from runs.models import Run
from tests.factories import TenantFactory, UserFactory
from tests.faults.checks import wait_for_runs
from workflows.models import Schedule
from workflows.schedules import schedule_create
from workflows.services import workflow_create
from workflows.tasks import schedule_fire

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]

SLOTS_AGO = (4, 3, 2)  # minutes
LAST_TICK_AGO = 5


def _missed_slots_schedule(policy: str) -> tuple[Schedule, list[str]]:
    """A schedule whose only slots (today, this year) fell during beat's downtime; answers
    it and its slots as ``scheduled_for`` strings."""
    user = UserFactory(tenant=TenantFactory())
    workflow = workflow_create(
        user=user, definition={"steps": [{"id": "t", "type": "transform", "config": {"value": 1}}]}, name=policy
    )
    now = timezone.now().replace(second=0, microsecond=0)
    slots = [now - timedelta(minutes=ago) for ago in SLOTS_AGO]
    # One cron line needs the slots in one hour: a zone half an hour off UTC keeps them there.
    tz_name = "UTC" if len({slot.hour for slot in slots}) == 1 else "Asia/Kolkata"
    local = [slot.astimezone(ZoneInfo(tz_name)) for slot in slots]
    cron = f"{','.join(str(s.minute) for s in local)} {local[0].hour} {local[0].day} {local[0].month} *"
    last_tick = timezone.now() - timedelta(minutes=LAST_TICK_AGO)
    schedule = schedule_create(
        workflow=workflow, user=user, cron_expression=cron, timezone_name=tz_name, missed_execution_policy=policy,
        now=last_tick,
    )  # fmt: skip
    PeriodicTask.objects.filter(id=schedule.periodic_task_id).update(last_run_at=last_tick)
    return schedule, [slot.isoformat().replace("+00:00", "Z") for slot in slots]


def _fired(worker, schedule_id: str, times: int, after: int = 0) -> None:
    """Until the worker finished ``times`` schedule fires (whatever beat sent them)."""
    for _ in range(times):
        after = worker.wait_for_log(r"Task orchestrator\.schedule_fire\[[\w-]+\] succeeded", after=after, timeout=60)


@pytest.mark.parametrize("policy", ["skip", "run_immediately", "queue"])
def test_a_beat_stopped_across_slots_applies_the_missed_execution_policy_once(stack_factory, policy):
    stack = stack_factory()
    worker = stack.worker()
    beat = stack.beat()
    beat.wait_for_log(r"Sending due task orchestrator-sweep")
    beat.stop()

    schedule, slots = _missed_slots_schedule(policy)
    beat.start(ready=r"beat: Starting\.\.\.")
    beat.wait_for_log(rf"Sending due task workflow-schedule:{schedule.id}", timeout=30)
    _fired(worker, schedule.id, 1)

    runs = list(Run.objects.filter(workflow_id=schedule.workflow_id).order_by("created_at"))
    scheduled_for = [run.metadata["scheduled_for"] for run in runs]
    expected = {"skip": [], "run_immediately": slots[-1:], "queue": slots}[policy]
    assert scheduled_for == expected, (policy, scheduled_for, slots)
    assert all(run.trigger == "schedule" for run in runs)
    wait_for_runs([run.id for run in runs], timeout=30)
    assert all(run.status == "completed" for run in Run.objects.filter(workflow_id=schedule.workflow_id))
    schedule.refresh_from_db()
    assert schedule.covered_until.isoformat().replace("+00:00", "Z") == slots[-1]
    assert schedule.next_run_at > timezone.now()

    # A fire of the same slots again (beat restarted before it saved its tick) starts nothing.
    late = schedule_fire.apply_async((schedule.id,))
    worker.wait_for_log(rf"orchestrator\.schedule_fire\[{late.id}\] succeeded")
    assert Run.objects.filter(workflow_id=schedule.workflow_id).count() == len(expected)


def test_two_beats_at_once_start_one_run_per_slot(stack_factory):
    """Both beats tick at the next minute's slot (real time: at most a minute's wait), so the
    worker gets the slot's fire twice, concurrently; the schedule's row lock keeps it one run."""
    stack = stack_factory()
    worker = stack.worker()
    user = UserFactory(tenant=TenantFactory())
    workflow = workflow_create(
        user=user, definition={"steps": [{"id": "t", "type": "transform", "config": {"value": 1}}]}, name="two beats"
    )
    schedule = schedule_create(
        workflow=workflow, user=user, cron_expression="* * * * *", missed_execution_policy="queue"
    )
    first, second = stack.beat(), stack.beat()
    for beat in (first, second):
        beat.wait_for_log(rf"Sending due task workflow-schedule:{schedule.id}", timeout=150)
    _fired(worker, schedule.id, 2)

    runs = list(Run.objects.filter(workflow=workflow))
    scheduled_for = [run.metadata["scheduled_for"] for run in runs]
    assert len(runs) >= 1 and len(set(scheduled_for)) == len(scheduled_for), scheduled_for
    schedule.refresh_from_db()
    assert schedule.last_run_at.isoformat().replace("+00:00", "Z") == max(scheduled_for)
    wait_for_runs([run.id for run in runs], timeout=30)
    assert set(Run.objects.filter(workflow=workflow).values_list("status", flat=True)) == {"completed"}
