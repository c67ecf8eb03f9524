"""The engine end to end: a real worker process, real PostgreSQL and Redis, and
HTTP servers on 127.0.0.1 for the outside world."""

from __future__ import annotations

import uuid

import pytest

from runs.models import Event, Run, StepRun
from runs.services import run_cancel, run_create, run_resume, run_signal
from tests.engine.conftest import wait_for_run, wait_for_step
from tests.factories import TenantFactory, UserFactory
from workflows.services import workflow_create

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def user():
    return UserFactory(tenant=TenantFactory())


def make(user, steps, **definition):
    return workflow_create(user=user, definition={"steps": steps, **definition}, name=f"wf {uuid.uuid4().hex[:10]}")


def start(user, steps, inputs=None, **definition):
    workflow = make(user, steps, **definition)
    return run_create(workflow=workflow, inputs=inputs or {}, user=user)


def statuses(run) -> dict[str, str]:
    return {sr.step_id: sr.status for sr in StepRun.objects.filter(run=run, parent__isnull=True)}


def event_types(run) -> list[str]:
    return list(Event.objects.filter(run=run).order_by("sequence").values_list("type", flat=True))


def http_step(step_id, url, **extra):
    return {"id": step_id, "type": "http_request", "config": {"method": "GET", "url": url}, **extra}


def test_the_seed_flow_runs_its_steps_in_order_with_outputs(worker, http_server, user):
    http_server.routes["/data"] = (200, {"items": [1, 2, 3]})
    run = start(
        user,
        [
            http_step("fetch", f"{http_server.url}/data"),
            {
                "id": "count",
                "type": "transform",
                "config": {"expression": "length(steps.fetch.output.body.items)"},
                "depends_on": ["fetch"],
            },
        ],
    )
    run = wait_for_run(run.id)
    assert run.status == "completed", run.error
    fetch, count = StepRun.objects.get(run=run, step_id="fetch"), StepRun.objects.get(run=run, step_id="count")
    assert fetch.output["status_code"] == 200 and fetch.output["body"] == {"items": [1, 2, 3]}
    assert count.output == 3
    assert run.outputs == {"count": 3}
    assert fetch.duration_seconds is not None
    types = event_types(run)
    assert types[0] == "run_queued" and types[1] == "run_started" and types[-1] == "run_completed"
    sequences = list(Event.objects.filter(run=run).order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))


def test_independent_steps_run_in_parallel_and_fan_in_once(worker, http_server, user):
    http_server.routes["/slow"] = (200, {"ok": True}, 1.0)
    steps = [http_step(f"b{i}", f"{http_server.url}/slow") for i in range(2)]
    steps.append({"id": "join", "type": "transform", "config": {"value": "done"}, "depends_on": ["b0", "b1"]})
    run = wait_for_run(start(user, steps).id)
    assert run.status == "completed"
    b0, b1 = (StepRun.objects.get(run=run, step_id=s) for s in ("b0", "b1"))
    assert b0.started_at < b1.completed_at and b1.started_at < b0.completed_at  # overlapped
    assert event_types(run).count("step_started") == 3


def test_a_skip_spreads_downstream(worker, http_server, user):
    http_server.routes["/bad"] = (500, {})
    steps = [
        http_step("a", f"{http_server.url}/bad"),
        {"id": "b", "type": "transform", "config": {"value": 1}, "depends_on": ["a"]},
        {"id": "c", "type": "transform", "config": {"value": 2}, "depends_on": ["b"]},
        {
            "id": "handler",
            "type": "transform",
            "config": {"value": "handled"},
            "depends_on": ["a"],
            "trigger_rule": "one_failed",
        },
    ]
    run = wait_for_run(start(user, steps).id)
    assert run.status == "failed"
    assert statuses(run) == {"a": "failed", "b": "skipped", "c": "skipped", "handler": "completed"}
    assert "Step 'a' failed" in run.error


def test_when_false_skips_and_continue_on_error_keeps_the_run_green(worker, http_server, user):
    http_server.routes["/bad"] = (500, {})
    steps = [
        {"id": "maybe", "type": "transform", "config": {"value": 1}, "when": "{{ input.go == true }}"},
        http_step("flaky", f"{http_server.url}/bad", continue_on_error=True),
        {"id": "after", "type": "transform", "config": {"value": "ran"}, "depends_on": ["flaky"]},
    ]
    run = wait_for_run(start(user, steps, inputs={"go": False}).id)
    assert statuses(run) == {"maybe": "skipped", "flaky": "failed", "after": "completed"}
    assert run.status == "completed"


def test_a_condition_skips_the_branch_not_taken(worker, user):
    steps = [
        {
            "id": "check",
            "type": "condition",
            "config": {
                "field": "$.deployment.status",
                "operator": "equals",
                "value": "success",
                "then": ["celebrate"],
                "else": ["page"],
            },
        },
        {"id": "celebrate", "type": "transform", "config": {"value": "yay"}, "depends_on": ["check"]},
        {"id": "page", "type": "transform", "config": {"value": "oncall"}, "depends_on": ["check"]},
    ]
    run = wait_for_run(start(user, steps, inputs={"deployment": {"status": "success"}}).id)
    assert statuses(run) == {"check": "completed", "celebrate": "completed", "page": "skipped"}
    assert StepRun.objects.get(run=run, step_id="check").output == {"result": True, "branch": "then"}


def test_retries_with_backoff_then_succeeds(worker, http_server, user):
    http_server.routes["/flaky"] = lambda attempt, body, headers: (503, {}) if attempt < 3 else (200, {"ok": 1})
    retry = {"max_attempts": 3, "backoff": "fixed", "initial_interval_seconds": 0.2, "retry_on": ["5xx"]}
    run = wait_for_run(start(user, [http_step("call", f"{http_server.url}/flaky", retry=retry)]).id)
    assert run.status == "completed"
    call = StepRun.objects.get(run=run, step_id="call")
    assert call.attempt == 3 and http_server.count("/flaky") == 3
    assert event_types(run).count("step_retrying") == 2


def test_a_step_over_its_timeout_fails_with_a_timeout_error(worker, http_server, user):
    http_server.routes["/hang"] = (200, {}, 5)
    run = wait_for_run(start(user, [http_step("slow", f"{http_server.url}/hang", timeout_seconds=1)]).id)
    slow = StepRun.objects.get(run=run, step_id="slow")
    assert run.status == "failed" and slow.status == "failed"
    assert "timed out" in slow.error


def test_an_output_over_the_limit_fails_the_step_clearly(worker, http_server, user, settings):
    http_server.routes["/big"] = (200, {"blob": "x" * 2_000_000})
    run = wait_for_run(start(user, [http_step("big", f"{http_server.url}/big")]).id)
    assert "limit" in StepRun.objects.get(run=run, step_id="big").error


def test_a_loop_fans_out_and_keeps_the_order(worker, http_server, user):
    steps = [
        {
            "id": "each",
            "type": "loop",
            "config": {
                "items": "{{ input.names }}",
                "max_concurrency": 2,
                "step": {"type": "transform", "config": {"value": "{{ index }}:{{ item }}"}},
            },
        },
    ]
    run = wait_for_run(start(user, steps, inputs={"names": ["a", "b", "c", "d", "e"]}).id)
    assert run.status == "completed"
    assert StepRun.objects.get(run=run, step_id="each").output == ["0:a", "1:b", "2:c", "3:d", "4:e"]
    assert StepRun.objects.filter(run=run, parent__isnull=False).count() == 5


def test_a_loop_fails_fast(worker, http_server, user):
    http_server.routes["/bad"] = (400, {})
    steps = [
        {
            "id": "each",
            "type": "loop",
            "config": {
                "items": [1, 2, 3],
                "max_concurrency": 1,
                "fail_fast": True,
                "step": {"type": "http_request", "config": {"url": http_server.url + "/bad"}},
            },
        },
    ]
    run = wait_for_run(start(user, steps).id)
    each = StepRun.objects.get(run=run, step_id="each")
    assert each.status == "failed" and "Iteration 0 failed" in each.error
    assert http_server.count("/bad") == 1


def test_a_wait_holds_no_worker(worker_factory, http_server, user):
    worker_factory(concurrency=1)
    waiting = start(
        user,
        [
            {"id": "pause", "type": "wait", "config": {"seconds": 2}},
            {"id": "after", "type": "transform", "config": {"value": 1}, "depends_on": ["pause"]},
        ],
    )
    quick = start(user, [http_step("ping", f"{http_server.url}/ok")])
    quick = wait_for_run(quick.id, timeout=10)
    assert quick.status == "completed"
    assert Run.objects.get(id=waiting.id).status == "running"
    waited = wait_for_run(waiting.id, timeout=20)
    assert waited.status == "completed"
    pause = StepRun.objects.get(run=waited, step_id="pause")
    assert (pause.completed_at - pause.started_at).total_seconds() >= 2
    assert event_types(waited).count("step_completed") == 2


def test_a_signal_wait_pauses_the_run_until_resumed(worker, user):
    steps = [
        {"id": "approve", "type": "wait", "config": {"signal": "approval"}},
        {
            "id": "after",
            "type": "transform",
            "config": {"value": "{{ steps.approve.output.ok }}"},
            "depends_on": ["approve"],
        },
    ]
    run = start(user, steps)
    wait_for_run(run.id, statuses=("paused",))
    run_signal(run=run, payload={"ok": True})
    run = wait_for_run(run.id)
    assert run.status == "completed"
    assert StepRun.objects.get(run=run, step_id="after").output is True
    assert "run_paused" in event_types(run) and "run_resumed" in event_types(run)


def test_cancel_while_running_stops_everything(worker, http_server, user):
    http_server.routes["/slow"] = (200, {}, 3)
    run = start(
        user,
        [
            http_step("slow", f"{http_server.url}/slow"),
            {"id": "next", "type": "transform", "config": {"value": 1}, "depends_on": ["slow"]},
        ],
    )
    slow = wait_for_step(run.id, "slow", ("running",))
    run_cancel(run=run)
    worker.wait_for_task(slow.task_id)  # the slow call answered; the cancelled step records nothing
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert statuses(run) == {"slow": "cancelled", "next": "cancelled"}
    assert event_types(run)[-1] == "run_cancelled"


def test_cancel_while_queued_never_starts_it(worker, user, settings):
    workflow = make(
        user, [{"id": "pause", "type": "wait", "config": {"seconds": 30}}], settings={"max_concurrent_runs": 1}
    )
    first = run_create(workflow=workflow, inputs={}, user=user)
    second = run_create(workflow=workflow, inputs={}, user=user)
    assert second.status == "queued"
    run_cancel(run=second)
    run_cancel(run=first)
    second.refresh_from_db()
    assert second.status == "cancelled" and second.started_at is None


def test_queued_runs_start_in_order_as_slots_free(worker, user):
    workflow = make(
        user, [{"id": "pause", "type": "wait", "config": {"seconds": 1}}], settings={"max_concurrent_runs": 1}
    )
    runs = [run_create(workflow=workflow, inputs={}, user=user) for _ in range(3)]
    assert [r.status for r in runs] == ["running", "queued", "queued"]
    finished = [wait_for_run(r.id, timeout=30) for r in runs]
    assert all(r.status == "completed" for r in finished)
    assert finished[0].completed_at <= finished[1].started_at and finished[1].completed_at <= finished[2].started_at


def test_resume_from_a_step_reuses_the_other_outputs(worker, http_server, user):
    http_server.routes["/flaky"] = lambda attempt, body, headers: (500, {}) if attempt == 1 else (200, {"n": 2})
    steps = [
        http_step("first", f"{http_server.url}/once"),
        http_step("second", f"{http_server.url}/flaky", depends_on=["first"]),
    ]
    failed = wait_for_run(start(user, steps).id)
    assert failed.status == "failed"
    resumed = run_resume(run=failed, from_step="second")
    resumed = wait_for_run(resumed.id)
    assert resumed.status == "completed" and resumed.trigger == "resume"
    assert http_server.count("/once") == 1 and http_server.count("/flaky") == 2
    assert StepRun.objects.get(run=resumed, step_id="first").output["status_code"] == 200


def test_run_timeout_times_the_run_out(worker, user):
    run = start(user, [{"id": "pause", "type": "wait", "config": {"seconds": 30}}], settings={"timeout_seconds": 1})
    run = wait_for_run(run.id, timeout=15)
    assert run.status == "timed_out"
    assert statuses(run) == {"pause": "cancelled"}


def test_a_sub_workflow_finishes_with_the_childs_outputs(worker, user):
    child = make(user, [{"id": "double", "type": "transform", "config": {"value": "{{ input.n * 2 }}"}}])
    run = start(user, [{"id": "call", "type": "sub_workflow", "config": {"workflow_id": child.id, "input": {"n": 21}}}])
    run = wait_for_run(run.id)
    assert run.status == "completed"
    assert StepRun.objects.get(run=run, step_id="call").output == {"double": 42}


def test_private_addresses_are_refused_without_the_setting(worker_factory, user):
    worker_factory(extra_env={"ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS": "false"})
    steps = [http_step("local", "http://127.0.0.1:9/"), http_step("metadata", "http://169.254.169.254/latest/")]
    run = wait_for_run(start(user, steps).id)
    errors = {sr.step_id: sr.error for sr in StepRun.objects.filter(run=run)}
    assert "Refused" in errors["local"] and "Refused" in errors["metadata"]
