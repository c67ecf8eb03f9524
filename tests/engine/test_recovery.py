"""The reaper and the sweeper recover what a worker or the broker lost: a step whose
worker keeps dying fails after ORCHESTRATOR_MAX_WORKER_LOSSES, a message the broker
lost is sent again after ORCHESTRATOR_REDISPATCH_AFTER_SECONDS, and a wait outlives
the worker that started it. Each test starts the workers it needs (no shared worker:
another worker's beat would reap and sweep these rows with other settings)."""

from __future__ import annotations

import uuid

import pytest

from config.celery import app as celery_app
from runs.models import Event, StepRun
from runs.services import run_create
from tests.engine.conftest import QUEUE, wait_for_run, wait_for_step
from tests.factories import TenantFactory, UserFactory
from workflows.services import workflow_create

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def user():
    return UserFactory(tenant=TenantFactory())


def start(user, steps):
    workflow = workflow_create(user=user, definition={"steps": steps}, name=f"wf {uuid.uuid4().hex[:10]}")
    return run_create(workflow=workflow, inputs={}, user=user)


def events(run, step_id: str) -> list[tuple[str, dict]]:
    found = Event.objects.filter(run=run, step_id=step_id).order_by("sequence")
    return [(e.type, e.data) for e in found]


# The script's parent is the pool process executing the step: killing it is a worker lost
# mid-step (as the OOM killer would), while the worker's main process and beat live on.
KILL_MY_WORKER = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"


def test_a_step_whose_worker_keeps_dying_fails_after_max_worker_losses(worker_factory, user, settings):
    settings.ORCHESTRATOR_ENABLE_SCRIPTS = True  # to save the workflow here
    worker_factory(
        isolated=True, extra_env={"ORCHESTRATOR_ENABLE_SCRIPTS": "true", "ORCHESTRATOR_MAX_WORKER_LOSSES": "1"}
    )
    run = start(user, [{"id": "doomed", "type": "script", "config": {"language": "python", "code": KILL_MY_WORKER}}])

    run = wait_for_run(run.id, timeout=60)
    doomed = StepRun.objects.get(run=run, step_id="doomed")
    # The first loss re-queues the step whatever its retry policy; the second is one too many.
    assert (run.status, doomed.status, doomed.attempt, doomed.worker_losses) == ("failed", "failed", 2, 1)
    assert doomed.error == "The worker running this step stopped responding (lease expired)."
    assert [(kind, data.get("attempt"), data.get("kind")) for kind, data in events(run, "doomed")] == [
        ("step_started", 1, None),
        ("step_retrying", 1, "worker_lost"),
        ("step_started", 2, None),
        ("step_failed", 2, "network"),
    ]


def test_a_step_message_the_broker_lost_is_sent_again(worker_factory, http_server, user):
    lost_queue = f"{QUEUE}-lost-{uuid.uuid4().hex[:6]}"
    celery_app.conf.task_default_queue = lost_queue  # worker_factory sets it back at teardown
    run = start(user, [{"id": "call", "type": "http_request", "config": {"url": http_server.url + "/once"}}])
    call = StepRun.objects.get(run=run, step_id="call")
    assert call.status == "queued" and call.dispatched_at is not None
    with celery_app.connection_for_write() as connection:
        assert connection.default_channel.queue_purge(lost_queue) == 1  # the broker loses the message

    worker_factory(queue=lost_queue, extra_env={"ORCHESTRATOR_REDISPATCH_AFTER_SECONDS": "2"})
    run = wait_for_run(run.id, timeout=30)
    assert run.status == "completed"
    assert http_server.count("/once") == 1
    resent = StepRun.objects.get(id=call.id)
    assert resent.attempt == 1  # the same attempt, sent again, not a retry
    assert (resent.dispatched_at - call.dispatched_at).total_seconds() >= 2


def test_a_wait_outlives_the_worker_that_started_it(worker_factory, user):
    first = worker_factory(isolated=True)
    run = start(
        user,
        [
            {"id": "pause", "type": "wait", "config": {"seconds": 3}},
            {"id": "after", "type": "transform", "config": {"value": "done"}, "depends_on": ["pause"]},
        ],
    )
    waiting = wait_for_step(run.id, "pause", ("waiting",))
    first.kill()  # SIGKILL: worker, pool and beat

    worker_factory(isolated=True)
    run = wait_for_run(run.id, timeout=30)
    assert run.status == "completed" and run.outputs == {"after": "done"}
    pause = StepRun.objects.get(run=run, step_id="pause")
    assert pause.output["waited_until"] == waiting.due_at.isoformat()
    assert pause.completed_at >= waiting.due_at
    assert [kind for kind, _ in events(run, "pause")] == ["step_started", "step_waiting", "step_completed"]
    assert [kind for kind, _ in events(run, "after")] == ["step_started", "step_completed"]
