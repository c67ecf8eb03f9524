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


def test_a_worker_killed_in_an_eagerly_claimed_step_loses_no_run(worker_factory, http_server, user):
    """The successor a task claimed for itself (eager dispatch) is durable: killed mid-step, its
    lease expires and the reaper re-queues it for another worker."""
    http_server.routes["/slow"] = lambda attempt, body, headers: (200, {"attempt": attempt}, 4 if attempt == 1 else 0)
    definition = {
        "steps": [
            {"id": "first", "type": "transform", "config": {"value": 1}},
            {
                "id": "slow",
                "type": "http_request",
                "config": {"url": f"{http_server.url}/slow"},
                "depends_on": ["first"],
            },
        ]
    }
    first_worker = worker_factory()
    run = run_create(
        workflow=workflow_create(user=user, definition=definition, name="eager killed"), inputs={}, user=user
    )

    wait_for_request(http_server, "/slow")
    first, slow = (StepRun.objects.get(run=run, step_id=s) for s in ("first", "slow"))
    assert slow.status == "running" and slow.task_id == first.task_id  # claimed by first's task, not queued
    first_worker.kill()

    worker_factory()
    run = wait_for_run(run.id, timeout=60)
    assert run.status == "completed", run.error
    slow.refresh_from_db()
    assert slow.worker_losses == 1 and http_server.count("/slow") == 2
    sequences = list(Event.objects.filter(run=run).order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))


def test_without_eager_dispatch_each_step_is_its_own_task(worker_factory, user):
    worker_factory(extra_env={"ORCHESTRATOR_EAGER_STEPS": "0"})
    steps = [{"id": "a", "type": "transform", "config": {"value": 1}}]
    steps += [{"id": "b", "type": "transform", "config": {"value": 2}, "depends_on": ["a"]}]
    run = run_create(workflow=workflow_create(user=user, definition={"steps": steps}, name="not eager"), inputs={})
    run = wait_for_run(run.id)
    assert run.status == "completed"
    assert len(set(StepRun.objects.filter(run=run).values_list("task_id", flat=True))) == 2


def test_with_eager_dispatch_a_chain_runs_in_one_task_within_its_bound(worker_factory, user):
    worker_factory(extra_env={"ORCHESTRATOR_EAGER_STEPS": "3", "ORCHESTRATOR_EAGER_SECONDS": "60"})
    steps = [{"id": "s0", "type": "transform", "config": {"value": 0}}]
    steps += [
        {"id": f"s{i}", "type": "transform", "config": {"value": i}, "depends_on": [f"s{i - 1}"]} for i in (1, 2, 3, 4)
    ]
    run = run_create(workflow=workflow_create(user=user, definition={"steps": steps}, name="eager"), inputs={})
    run = wait_for_run(run.id)
    assert run.status == "completed"
    tasks = dict(StepRun.objects.filter(run=run).values_list("step_id", "task_id"))
    # s0's task follows three successors (the bound), then s4 goes through the broker.
    assert tasks["s0"] == tasks["s1"] == tasks["s2"] == tasks["s3"] != tasks["s4"]
    started = Event.objects.filter(run=run, type="step_started").count()
    assert started == 5
