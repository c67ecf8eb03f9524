"""The engine's policy branches on a real worker: trigger rules against every kind of
upstream, the claim's attempt check, the per-tenant concurrency cap, retry backoff and
its cap, long backoffs as due rows, and cancelling a loop or a retry in flight.

Each test waits on the thing itself (a row, an event, the worker's log of a task it
finished) before it asserts that something did not happen."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from orchestrator.engine.tasks import step_execute
from runs.models import Event, Run, StepRun
from runs.services import run_cancel, run_create, run_signal
from tests.engine.conftest import wait_for_request, wait_for_run
from tests.factories import TenantFactory, UserFactory
from workflows.services import workflow_create

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]

TENANT_CAP = 2


@pytest.fixture(scope="module")
def shared_worker_env() -> dict:
    # Any backoff over 1 s becomes a due row for the sweeper; a tenant runs two runs at once.
    return {"ORCHESTRATOR_SWEEP_THRESHOLD_SECONDS": "1", "ORCHESTRATOR_TENANT_MAX_CONCURRENT_RUNS": str(TENANT_CAP)}


@pytest.fixture
def user():
    return UserFactory(tenant=TenantFactory())


def make(user, steps, **definition):
    return workflow_create(user=user, definition={"steps": steps, **definition}, name=f"wf {uuid.uuid4().hex[:10]}")


def start(user, steps, inputs=None, **definition) -> Run:
    return run_create(workflow=make(user, steps, **definition), inputs=inputs or {}, user=user)


def http_step(step_id, url, **extra):
    return {"id": step_id, "type": "http_request", "config": {"method": "GET", "url": url}, **extra}


def events(run, type_: str, step_id: str | None = None) -> list[Event]:
    found = Event.objects.filter(run=run, type=type_).order_by("sequence")
    return list(found.filter(step_id=step_id) if step_id else found)


def wait_for_row(step_run_id: str, timeout: float = 15, **expected) -> StepRun:
    """Poll one step run until its fields equal ``expected``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = StepRun.objects.get(id=step_run_id)
        if all(getattr(row, name) == value for name, value in expected.items()):
            return row
        time.sleep(0.05)
    raise AssertionError(f"step run {step_run_id} never reached {expected}")


# --- trigger rules --------------------------------------------------------------------------

RULES = ("all_success", "all_done", "none_failed", "one_success", "one_failed")
# What each rule does with the upstreams named: "ran" or "skipped". A skipped upstream is
# neither a success nor a failure; a failure with continue_on_error counts as a success.
EXPECTED = {
    ("ok",): {"all_success": "ran", "all_done": "ran", "none_failed": "ran", "one_success": "ran", "one_failed": "skipped"},
    ("failed",): {"all_success": "skipped", "all_done": "ran", "none_failed": "skipped", "one_success": "skipped", "one_failed": "ran"},
    ("skipped",): {"all_success": "skipped", "all_done": "ran", "none_failed": "ran", "one_success": "skipped", "one_failed": "skipped"},
    ("tolerated",): {"all_success": "ran", "all_done": "ran", "none_failed": "ran", "one_success": "ran", "one_failed": "skipped"},
    ("ok", "skipped"): {"all_success": "skipped", "all_done": "ran", "none_failed": "ran", "one_success": "ran", "one_failed": "skipped"},
    ("failed", "skipped"): {"all_success": "skipped", "all_done": "ran", "none_failed": "skipped", "one_success": "skipped", "one_failed": "ran"},
    ("ok", "failed"): {"all_success": "skipped", "all_done": "ran", "none_failed": "skipped", "one_success": "ran", "one_failed": "ran"},
    ("tolerated", "skipped"): {"all_success": "skipped", "all_done": "ran", "none_failed": "ran", "one_success": "ran", "one_failed": "skipped"},
}  # fmt: skip


def test_every_trigger_rule_against_skipped_failed_succeeded_and_tolerated_upstreams(shared_worker, user):
    broken = {"value": "{{ input.missing }}"}  # a template error: fails, and is not retried
    upstreams = [
        {"id": "ok", "type": "transform", "config": {"value": 1}},
        {"id": "failed", "type": "transform", "config": broken},
        {"id": "skipped", "type": "transform", "config": {"value": 1}, "when": "{{ input.go == true }}"},
        {"id": "tolerated", "type": "transform", "config": broken, "continue_on_error": True},
    ]
    targets = {
        f"{rule}__{'_'.join(deps)}": (rule, deps) for deps in EXPECTED for rule in RULES
    }  # e.g. none_failed__skipped
    steps = upstreams + [
        {"id": name, "type": "transform", "config": {"value": "ran"}, "depends_on": list(deps), "trigger_rule": rule}
        for name, (rule, deps) in targets.items()
    ]
    run = wait_for_run(start(user, steps, inputs={"go": False}).id)

    status = {sr.step_id: sr.status for sr in StepRun.objects.filter(run=run)}
    assert {s: status[s] for s in ("ok", "failed", "skipped", "tolerated")} == {
        "ok": "completed",
        "failed": "failed",
        "skipped": "skipped",
        "tolerated": "failed",
    }
    outcome = {name: "ran" if status[name] == "completed" else status[name] for name in targets}
    wrong = {name: outcome[name] for name, (rule, deps) in targets.items() if outcome[name] != EXPECTED[deps][rule]}
    assert not wrong, f"these steps went the other way: {wrong}"
    # Only the failure without continue_on_error fails the run.
    assert run.status == "failed" and run.error.startswith("Step 'failed' failed")


# --- the claim --------------------------------------------------------------------------------


def test_a_stale_message_for_an_older_attempt_does_not_run_the_queued_newer_one(shared_worker, http_server, user):
    http_server.routes["/flaky"] = (503, {})
    retry = {"max_attempts": 2, "backoff": "fixed", "initial_interval_seconds": 60, "retry_on": ["5xx"]}
    run = start(user, [http_step("call", http_server.url + "/flaky", retry=retry)])
    call = StepRun.objects.get(run=run, step_id="call")
    # Attempt 1 failed; attempt 2 waits 30-60 s as a due row, not yet sent.
    queued = wait_for_row(call.id, status="queued", attempt=2)
    assert queued.due_at is not None and queued.dispatched_at is None

    # A message for attempt 1 arrives late (redelivered after a lost ack, say).
    stale = step_execute.apply_async((call.id, 1, run.id))
    shared_worker.wait_for_task(stale.id)

    row = StepRun.objects.get(id=call.id)
    assert (row.status, row.attempt, row.due_at, row.dispatched_at) == ("queued", 2, queued.due_at, None)
    assert http_server.count("/flaky") == 1
    assert [e.data["attempt"] for e in events(run, "step_started")] == [1]
    run_cancel(run=run)


# --- the per-tenant concurrency cap ---------------------------------------------------------


def _held(user) -> Run:
    """A run that stays active (paused on a signal) until signalled or cancelled."""
    return start(user, [{"id": "hold", "type": "wait", "config": {"signal": "go"}}])


def test_a_tenant_runs_at_most_its_cap_at_once_and_never_holds_up_another_tenant(shared_worker, settings):
    settings.ORCHESTRATOR_TENANT_MAX_CONCURRENT_RUNS = TENANT_CAP  # admission here and in the worker
    busy, other = UserFactory(tenant=TenantFactory()), UserFactory(tenant=TenantFactory())
    # Each run is of a workflow of its own: no per-workflow limit is what holds them back.
    runs = [_held(busy) for _ in range(4)]
    assert [r.status for r in runs] == ["running", "running", "queued", "queued"]

    # The busy tenant's backlog does not delay another tenant's run.
    elsewhere = start(other, [{"id": "quick", "type": "transform", "config": {"value": 1}}])
    assert elsewhere.status == "running"
    assert wait_for_run(elsewhere.id).status == "completed"
    assert [Run.objects.get(id=r.id).status for r in runs[2:]] == ["queued", "queued"]

    # A slot frees: the oldest queued run starts (admitted by the worker), and only that one.
    wait_for_run(runs[0].id, statuses=("paused",))
    run_cancel(run=runs[0])
    wait_for_run(runs[2].id, statuses=("running", "paused"))
    assert Run.objects.get(id=runs[3].id).status == "queued"
    assert Run.objects.filter(tenant=busy.tenant, status__in=["running", "paused"]).count() == TENANT_CAP

    for run in runs[1:]:
        run_cancel(run=Run.objects.get(id=run.id))


def test_signalling_a_held_run_frees_its_slot_for_the_next_queued_run(shared_worker, settings):
    settings.ORCHESTRATOR_TENANT_MAX_CONCURRENT_RUNS = TENANT_CAP
    user = UserFactory(tenant=TenantFactory())
    runs = [_held(user) for _ in range(TENANT_CAP + 1)]
    assert runs[-1].status == "queued"
    wait_for_run(runs[0].id, statuses=("paused",))
    run_signal(run=Run.objects.get(id=runs[0].id), payload={"ok": True})
    assert wait_for_run(runs[0].id).status == "completed"
    wait_for_run(runs[-1].id, statuses=("running", "paused"))
    for run in runs[1:]:
        run_cancel(run=Run.objects.get(id=run.id))


# --- retry backoff ------------------------------------------------------------------------


def test_exponential_backoff_grows_up_to_max_interval_and_each_retry_waits_its_delay(shared_worker, http_server, user):
    http_server.routes["/down"] = (503, {})
    retry = {
        "max_attempts": 5,
        "backoff": "exponential",
        "initial_interval_seconds": 0.1,
        "max_interval_seconds": 0.25,  # under the module's 1 s sweep threshold: broker countdowns
        "retry_on": ["5xx"],
    }
    run = wait_for_run(start(user, [http_step("call", http_server.url + "/down", retry=retry)]).id)
    assert run.status == "failed" and http_server.count("/down") == 5

    retrying = events(run, "step_retrying", "call")
    delays = [e.data["delay_seconds"] for e in retrying]
    # Bases 0.1, 0.2, then 0.4 and 0.8 capped at 0.25; each delay is between half its base and its base.
    bounds = [(0.05, 0.1), (0.1, 0.2), (0.125, 0.25), (0.125, 0.25)]
    assert len(delays) == 4
    assert all(low <= delay <= high for delay, (low, high) in zip(delays, bounds, strict=True)), delays
    started = events(run, "step_started", "call")
    assert [e.data["attempt"] for e in started] == [1, 2, 3, 4, 5]
    for retried, next_start in zip(retrying, started[1:], strict=True):
        waited = (next_start.timestamp - retried.timestamp).total_seconds()
        assert waited >= retried.data["delay_seconds"] - 0.02, (waited, retried.data)


def test_a_backoff_over_the_sweep_threshold_is_a_due_row_the_sweeper_dispatches(shared_worker, http_server, user):
    http_server.routes["/flaky"] = lambda attempt, body, headers: (503, {}) if attempt == 1 else (200, {"ok": True})
    retry = {"max_attempts": 2, "backoff": "fixed", "initial_interval_seconds": 4, "retry_on": ["5xx"]}
    run = start(user, [http_step("call", http_server.url + "/flaky", retry=retry)])
    call = StepRun.objects.get(run=run, step_id="call")

    queued = wait_for_row(call.id, status="queued", attempt=2)
    (retrying,) = events(run, "step_retrying", "call")
    assert 2 <= retrying.data["delay_seconds"] <= 4  # over the 1 s threshold
    # A row with a due time, not a message in the broker.
    assert queued.dispatched_at is None
    assert abs((queued.due_at - retrying.timestamp).total_seconds() - retrying.data["delay_seconds"]) < 0.5

    run = wait_for_run(run.id)
    assert run.status == "completed" and http_server.count("/flaky") == 2
    done = StepRun.objects.get(id=call.id)
    assert done.dispatched_at >= queued.due_at  # sent by a sweep once due
    second_start = events(run, "step_started", "call")[1]
    assert second_start.data["attempt"] == 2 and second_start.timestamp >= queued.due_at


# --- cancelling work in flight ----------------------------------------------------------------


def test_cancelling_a_run_mid_fan_out_stops_the_loop_and_its_iterations(shared_worker, http_server, user):
    release = threading.Event()

    def held(attempt, body, headers):
        release.wait(20)
        return 200, {"ok": True}

    http_server.routes["/item"] = held
    inner = {
        "type": "http_request",
        "config": {"method": "POST", "url": http_server.url + "/item", "json": {"n": "{{ item }}"}},
    }
    loop = {"id": "each", "type": "loop", "config": {"items": [0, 1, 2, 3, 4, 5], "max_concurrency": 2, "step": inner}}
    run = start(user, [loop, {"id": "after", "type": "transform", "config": {"value": 1}, "depends_on": ["each"]}])

    wait_for_request(http_server, "/item", count=2)
    assert http_server.count("/item") == 2  # two iterations in flight, four pending
    in_flight = list(StepRun.objects.filter(run=run, parent__isnull=False, status="running"))
    assert len(in_flight) == 2 and all(sr.task_id for sr in in_flight)

    run_cancel(run=run)
    release.set()  # the two calls in flight now answer 200
    for iteration in in_flight:
        shared_worker.wait_for_task(iteration.task_id)

    status = {sr.step_id: sr.status for sr in StepRun.objects.filter(run=run)}
    assert status == {"each": "cancelled", "after": "cancelled", **{f"each[{i}]": "cancelled" for i in range(6)}}
    assert http_server.count("/item") == 2  # no further iteration was sent
    assert StepRun.objects.get(run=run, step_id="each").output is None
    assert Event.objects.filter(run=run).order_by("sequence").last().type == "run_cancelled"
    assert not events(run, "step_completed")


def test_cancelling_a_run_whose_step_waits_on_a_retry_never_runs_that_retry(shared_worker, http_server, user):
    http_server.routes["/flaky"] = lambda attempt, body, headers: (503, {}) if attempt == 1 else (200, {"ok": True})
    retry = {"max_attempts": 2, "backoff": "fixed", "initial_interval_seconds": 4, "retry_on": ["5xx"]}
    run = start(user, [http_step("call", http_server.url + "/flaky", retry=retry)])
    call = StepRun.objects.get(run=run, step_id="call")
    queued = wait_for_row(call.id, status="queued", attempt=2)
    assert queued.due_at is not None  # a due row: 2-4 s away

    run_cancel(run=run)
    row = StepRun.objects.get(id=call.id)
    assert (row.status, row.due_at) == ("cancelled", None)

    # Once the retry would have been due, a whole sweep passes, then: nothing ran.
    while timezone.now() <= queued.due_at + timedelta(milliseconds=100):
        time.sleep(0.05)
    shared_worker.wait_for_sweep(after=len(shared_worker.output()))
    assert http_server.count("/flaky") == 1
    assert StepRun.objects.get(id=call.id).status == "cancelled"
    assert [e.data["attempt"] for e in events(run, "step_started")] == [1]
    assert Event.objects.filter(run=run).order_by("sequence").last().type == "run_cancelled"
