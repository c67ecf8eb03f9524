"""A real worker with beat on django-celery-beat's DatabaseScheduler starts a scheduled run."""

from __future__ import annotations

import time

from runs.models import Run
from tests.engine.conftest import wait_for_run
from workflows.schedules import schedule_create


def test_an_every_minute_schedule_starts_a_real_run(worker_factory, local_workflow, admin_user):
    schedule = schedule_create(
        workflow=local_workflow, user=admin_user, cron_expression="* * * * *", inputs={"source": "beat"}
    )
    worker = worker_factory(scheduler="django_celery_beat.schedulers:DatabaseScheduler")
    deadline = time.monotonic() + 100  # the next minute boundary, plus beat's sync interval
    run = None
    while run is None and time.monotonic() < deadline:
        run = Run.objects.filter(workflow=local_workflow, trigger="schedule").first()
        time.sleep(0.5)
    assert run is not None, worker.output()[-4000:]
    assert run.metadata["schedule_id"] == schedule.id and run.metadata["scheduled_for"].endswith(":00Z")
    assert run.inputs == {"source": "beat"}
    assert wait_for_run(run.id).status == "completed"
    schedule.refresh_from_db()
    assert schedule.last_run_at is not None and schedule.next_run_at > schedule.last_run_at
