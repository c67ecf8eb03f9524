"""The fire service with a controlled clock: slots, DST, missed-slot policies, one run per slot."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from runs.models import Run
from workflows.models import Schedule
from workflows.schedules import QUEUE_CAP, schedule_create, schedule_fire, schedule_update


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def scheduled_for(runs) -> list[str]:
    return [r.metadata["scheduled_for"] for r in runs]


def hourly_fires(schedule: Schedule, start: datetime, hours: int) -> list[Run]:
    """A beat tick one second after every hour: what an hourly-checking beat would do."""
    started = []
    for h in range(hours):
        started += schedule_fire(schedule_id=schedule.id, now=start + timedelta(hours=h, seconds=1))
    return started


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Spring forward (2026-03-08): 09:00 EST is 14:00 UTC, 09:00 EDT is 13:00 UTC.
        ("2026-03-07T00:00:00", ["2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z", "2026-03-09T13:00:00Z"]),
        # Fall back (2026-11-01).
        ("2026-10-31T00:00:00", ["2026-10-31T13:00:00Z", "2026-11-01T14:00:00Z", "2026-11-02T14:00:00Z"]),
    ],
)
def test_daily_9am_new_york_fires_at_9_local_once_a_day_across_dst(local_workflow, admin_user, start, expected):
    schedule = schedule_create(
        workflow=local_workflow,
        user=admin_user,
        cron_expression="0 9 * * *",
        timezone_name="America/New_York",
        now=at(start),
    )
    runs = hourly_fires(schedule, at(start), 72)
    assert scheduled_for(runs) == expected
    assert all(r.trigger == "schedule" and r.metadata["schedule_id"] == schedule.id for r in runs)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (("2026-03-02T14:00:00", "2026-03-02T14:00:00Z"), ("2026-03-09T13:00:00", "2026-03-09T13:00:00Z")),
        (("2026-10-26T13:00:00", "2026-10-26T13:00:00Z"), ("2026-11-02T14:00:00", "2026-11-02T14:00:00Z")),
    ],
)
def test_monday_9am_new_york_before_and_after_a_dst_change(local_workflow, admin_user, before, after):
    first_slot, second_slot = at(before[0]), at(after[0])
    schedule = schedule_create(
        workflow=local_workflow,
        user=admin_user,
        cron_expression="0 9 * * 1",
        timezone_name="America/New_York",
        now=first_slot - timedelta(days=1),
    )
    assert schedule.next_run_at == first_slot
    runs = schedule_fire(schedule_id=schedule.id, now=first_slot + timedelta(seconds=1))
    assert scheduled_for(runs) == [before[1]]
    schedule.refresh_from_db()
    assert schedule.last_run_at == first_slot
    assert schedule.next_run_at == second_slot
    # A tick at the other UTC offset's 09:00 (an hour early) starts nothing; the right one starts one run.
    assert schedule_fire(schedule_id=schedule.id, now=second_slot - timedelta(hours=1) + timedelta(seconds=1)) == []
    runs = schedule_fire(schedule_id=schedule.id, now=second_slot + timedelta(seconds=1))
    assert scheduled_for(runs) == [after[1]]
    assert schedule_fire(schedule_id=schedule.id, now=second_slot + timedelta(hours=1, seconds=1)) == []
    assert scheduled_for(Run.objects.filter(trigger="schedule").order_by("created_at")) == [before[1], after[1]]


def test_a_repeated_wall_time_fires_once(local_workflow, admin_user):
    start = at("2026-10-31T12:00:00")
    schedule = schedule_create(
        workflow=local_workflow,
        user=admin_user,
        cron_expression="30 1 * * *",
        timezone_name="America/New_York",
        now=start,
    )
    runs = []
    for minute in range(0, 48 * 60, 15):
        runs += schedule_fire(schedule_id=schedule.id, now=start + timedelta(minutes=minute, seconds=1))
    # 01:30 EDT on 2026-11-01 (05:30Z) runs; 01:30 EST an hour later is the same wall time: not again.
    assert scheduled_for(runs) == ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("skip", []),
        ("run_immediately", ["2026-05-04T13:00:00Z"]),
        ("queue", ["2026-05-04T11:00:00Z", "2026-05-04T12:00:00Z", "2026-05-04T13:00:00Z"]),
    ],
)
def test_missed_policies_after_three_hours_down(local_workflow, admin_user, policy, expected):
    schedule = schedule_create(
        workflow=local_workflow,
        user=admin_user,
        cron_expression="0 * * * *",
        missed_execution_policy=policy,
        now=at("2026-05-04T09:30:00"),
    )
    on_time = schedule_fire(schedule_id=schedule.id, now=at("2026-05-04T10:00:01"))
    assert scheduled_for(on_time) == ["2026-05-04T10:00:00Z"]
    # Down from 10:00:01 to 13:30: the 11:00, 12:00 and 13:00 slots were missed.
    late = schedule_fire(schedule_id=schedule.id, now=at("2026-05-04T13:30:00"))
    assert scheduled_for(late) == expected
    assert schedule_fire(schedule_id=schedule.id, now=at("2026-05-04T13:30:05")) == []
    schedule.refresh_from_db()
    assert schedule.next_run_at == at("2026-05-04T14:00:00")
    assert schedule.last_run_at == at(expected[-1][:-1] if expected else "2026-05-04T10:00:00")
    assert Run.objects.filter(trigger="schedule").count() == 1 + len(expected)


def test_skip_still_runs_a_slot_caught_within_the_grace(local_workflow, admin_user):
    schedule = schedule_create(
        workflow=local_workflow, user=admin_user, cron_expression="0 * * * *", now=at("2026-05-04T09:30:00")
    )
    runs = schedule_fire(schedule_id=schedule.id, now=at("2026-05-04T12:00:30"))
    assert scheduled_for(runs) == ["2026-05-04T12:00:00Z"]


def test_queue_is_capped(local_workflow, admin_user):
    schedule = schedule_create(
        workflow=local_workflow,
        user=admin_user,
        cron_expression="* * * * *",
        missed_execution_policy="queue",
        now=at("2026-05-04T09:00:00"),
    )
    runs = schedule_fire(schedule_id=schedule.id, now=at("2026-05-04T10:00:00.5"))
    assert len(runs) == QUEUE_CAP
    assert scheduled_for(runs)[-1] == "2026-05-04T10:00:00Z"


def test_the_same_slot_fired_twice_starts_one_run(local_workflow, admin_user):
    schedule = schedule_create(
        workflow=local_workflow, user=admin_user, cron_expression="*/5 * * * *", now=at("2026-05-04T09:01:00")
    )
    first = schedule_fire(schedule_id=schedule.id, now=at("2026-05-04T09:05:00.2"))
    again = schedule_fire(schedule_id=schedule.id, now=at("2026-05-04T09:05:00.2"))
    retried = schedule_fire(schedule_id=schedule.id, now=at("2026-05-04T09:06:30"))
    assert (len(first), again, retried) == (1, [], [])
    # A tick a moment early (beat's clock) still counts for its slot, once.
    early = schedule_fire(schedule_id=schedule.id, now=at("2026-05-04T09:09:59.5"))
    assert scheduled_for(early) == ["2026-05-04T09:10:00Z"]
    assert schedule_fire(schedule_id=schedule.id, now=at("2026-05-04T09:10:00.5")) == []


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_fires_of_one_slot_start_one_run(tenant, admin_user, local_workflow):
    schedule = schedule_create(
        workflow=local_workflow, user=admin_user, cron_expression="*/5 * * * *", now=at("2026-05-04T09:01:00")
    )
    barrier = threading.Barrier(2)
    results: list = []

    def fire() -> None:
        try:
            barrier.wait()
            results.append(schedule_fire(schedule_id=schedule.id, now=at("2026-05-04T09:05:01")))
        finally:
            connection.close()

    threads = [threading.Thread(target=fire) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r) for r in results) == [0, 1]
    assert Run.objects.filter(trigger="schedule").count() == 1


def test_a_paused_workflow_suspends_its_schedule_without_back_fill(local_workflow, admin_user):
    schedule = schedule_create(
        workflow=local_workflow, user=admin_user, cron_expression="0 * * * *", missed_execution_policy="queue",
        now=at("2026-05-04T09:30:00"),
    )  # fmt: skip
    local_workflow.status = "paused"
    local_workflow.save(update_fields=["status"])
    assert schedule_fire(schedule_id=schedule.id, now=at("2026-05-04T10:00:01")) == []
    assert schedule_fire(schedule_id=schedule.id, now=at("2026-05-04T11:00:01")) == []
    local_workflow.status = "active"
    local_workflow.save(update_fields=["status"])
    runs = schedule_fire(schedule_id=schedule.id, now=at("2026-05-04T12:00:01"))
    assert scheduled_for(runs) == ["2026-05-04T12:00:00Z"]
    assert Run.objects.count() == 1


def test_a_disabled_or_deleted_schedule_fires_nothing(local_workflow, admin_user):
    schedule = schedule_create(
        workflow=local_workflow, user=admin_user, cron_expression="0 * * * *", now=at("2026-05-04T09:30:00")
    )
    schedule_update(schedule=schedule, enabled=False, now=at("2026-05-04T09:40:00"))
    assert schedule_fire(schedule_id=schedule.id, now=at("2026-05-04T10:00:01")) == []
    # Re-enabled: counting starts again from now, the slot while disabled is not back-filled.
    schedule_update(schedule=schedule, enabled=True, now=at("2026-05-04T10:30:00"))
    assert schedule_fire(schedule_id=schedule.id, now=at("2026-05-04T10:30:01")) == []
    assert len(schedule_fire(schedule_id=schedule.id, now=at("2026-05-04T11:00:01"))) == 1
    assert schedule_fire(schedule_id="sched_unknown", now=at("2026-05-04T11:00:01")) == []
