"""Fault tests: a worker SIGKILLed mid-step, and a step task delivered twice."""

from __future__ import annotations

import pytest

from orchestrator.engine.tasks import step_execute
from runs.models import Event, StepRun
from runs.services import run_create
from tests.engine.conftest import wait_for_request, wait_for_run, wait_for_step
from tests.factories import TenantFactory, UserFactory
from workflows.services import workflow_create

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def user():
    return UserFactory(tenant=TenantFactory())


def _chain(server_url: str) -> dict:
    return {
        "steps": [
            {"id": "slow", "type": "http_request", "config": {"url": f"{server_url}/slow"}},
            {"id": "down1", "type": "http_request", "config": {"url": f"{server_url}/down1"}, "depends_on": ["slow"]},
            {"id": "down2", "type": "http_request", "config": {"url": f"{server_url}/down2"}, "depends_on": ["down1"]},
        ]
    }


def test_a_worker_killed_mid_step_loses_no_run(worker_factory, http_server, user):
    http_server.routes["/slow"] = lambda attempt, body, headers: (200, {"attempt": attempt}, 4 if attempt == 1 else 0)
    first = worker_factory()
    workflow = workflow_create(user=user, definition=_chain(http_server.url), name="killed")
    run = run_create(workflow=workflow, inputs={}, user=user)

    wait_for_step(run.id, "slow", ("running",))
    wait_for_request(http_server, "/slow")
    first.kill()

    worker_factory()
    run = wait_for_run(run.id, timeout=60)
    assert run.status == "completed", run.error
    assert http_server.count("/down1") == 1 and http_server.count("/down2") == 1
    slow = StepRun.objects.get(run=run, step_id="slow")
    assert slow.status == "completed" and slow.worker_losses == 1
    sequences = list(Event.objects.filter(run=run).order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))


def test_a_step_task_delivered_twice_runs_once(worker, http_server, user):
    http_server.routes["/slow"] = (200, {"ok": True}, 1)
    workflow = workflow_create(user=user, definition=_chain(http_server.url), name="twice")
    run = run_create(workflow=workflow, inputs={}, user=user)
    slow = StepRun.objects.get(run=run, step_id="slow")
    # The broker redelivers the same message: the same step run, the same attempt.
    step_execute.apply_async((slow.id, slow.attempt))
    step_execute.apply_async((slow.id, slow.attempt))
    run = wait_for_run(run.id, timeout=30)
    assert run.status == "completed"
    assert http_server.count("/slow") == 1
    assert http_server.count("/down1") == 1 and http_server.count("/down2") == 1
    started = Event.objects.filter(run=run, type="step_started", step_id="slow").count()
    completed = Event.objects.filter(run=run, type="step_completed", step_id="slow").count()
    assert started == 1 and completed == 1


def test_a_late_message_for_a_finished_step_does_nothing(worker, http_server, user):
    workflow = workflow_create(user=user, definition=_chain(http_server.url), name="stale")
    run = wait_for_run(run_create(workflow=workflow, inputs={}, user=user).id)
    slow = StepRun.objects.get(run=run, step_id="slow")
    late = step_execute.apply_async((slow.id, slow.attempt))
    worker.wait_for_task(late.id)
    assert http_server.count("/slow") == 1
    assert Event.objects.filter(run=run, type="step_started").count() == 3
