"""The engine on SQLite with the in-process broker and worker: what `make run` gives a new user.

Each test drives the served copy over HTTP; the steps call a local HTTP server standing in
for the outside world. The same behaviours run against PostgreSQL + Redis in tests/engine/.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pytest

from tests.embedded.conftest import ENGINE_ENV, Api, statuses, steps_of
from tests.served import ServedCopy

pytestmark = [pytest.mark.embedded, pytest.mark.slow]


def http_step(step_id: str, url: str, **extra) -> dict:
    return {"id": step_id, "type": "http_request", "config": {"method": "GET", "url": url}, **extra}


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_a_chain_runs_in_order_with_outputs_and_gap_free_events(api: Api):
    run = api.wait(
        api.start(
            [
                {"id": "a", "type": "transform", "config": {"value": 1}},
                {"id": "b", "type": "transform", "config": {"value": "{{ steps.a.output + 1 }}"}, "depends_on": ["a"]},
                {"id": "c", "type": "transform", "config": {"value": "{{ steps.b.output + 1 }}"}, "depends_on": ["b"]},
            ]
        )
    )
    assert run["status"] == "completed", run
    assert run["outputs"] == {"c": 3}
    events = api.events(run["id"])
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert [e["type"] for e in events if e["type"] == "step_completed"] == ["step_completed"] * 3
    assert events[0]["type"] == "run_queued" and events[-1]["type"] == "run_completed"


def test_a_fan_out_runs_in_parallel_and_fans_in_once(api: Api, http_server):
    http_server.routes["/slow"] = (200, {"ok": True}, 1.0)
    steps = [{"id": "root", "type": "transform", "config": {"value": 0}}]
    steps += [http_step(f"f{i}", f"{http_server.url}/slow", depends_on=["root"]) for i in range(5)]
    steps.append(
        {
            "id": "join",
            "type": "transform",
            "config": {"value": "{{ [steps.f0.output.status_code, steps.f4.output.status_code] }}"},
            "depends_on": [f"f{i}" for i in range(5)],
        }
    )
    run = api.wait(api.start(steps))
    assert run["status"] == "completed", run
    assert run["outputs"] == {"join": [200, 200]}
    assert http_server.count("/slow") == 5
    spans = [(_at(s["started_at"]), _at(s["completed_at"])) for sid, s in steps_of(run).items() if sid[0] == "f"]
    # the in-process pool runs I/O steps side by side (4 threads: at least two of the five overlap)
    assert any(a[0] < b[1] and b[0] < a[1] for i, a in enumerate(spans) for b in spans[i + 1 :]), spans
    assert [e["type"] for e in api.events(run["id"])].count("step_started") == 7


def test_a_condition_skips_the_branch_not_taken_and_skips_spread(api: Api):
    run = api.wait(
        api.start(
            [
                {
                    "id": "check",
                    "type": "condition",
                    "config": {"expression": "input.ok", "then": ["yes"], "else": ["no"]},
                },
                {"id": "yes", "type": "transform", "config": {"value": "took then"}, "depends_on": ["check"]},
                {"id": "no", "type": "transform", "config": {"value": "took else"}, "depends_on": ["check"]},
                {"id": "after_no", "type": "transform", "config": {"value": 1}, "depends_on": ["no"]},
            ],
            inputs={"ok": True},
        )
    )
    assert run["status"] == "completed", run
    assert statuses(run) == {"check": "completed", "yes": "completed", "no": "skipped", "after_no": "skipped"}
    assert steps_of(run)["check"]["output"] == {"result": True, "branch": "then"}


def test_a_loop_fans_out_its_items_in_order(api: Api):
    loop = {
        "id": "each",
        "type": "loop",
        "config": {
            "items": "{{ input.names }}",
            "max_concurrency": 2,
            "step": {"type": "transform", "config": {"value": "{{ index }}:{{ item }}"}},
        },
    }
    run = api.wait(api.start([loop], inputs={"names": ["a", "b", "c", "d", "e"]}))
    assert run["status"] == "completed", run
    assert steps_of(run)["each"]["output"] == ["0:a", "1:b", "2:c", "3:d", "4:e"]


def test_a_wait_for_seconds_is_a_row_the_sweeper_finishes(api: Api):
    run_id = api.start(
        [
            {"id": "pause", "type": "wait", "config": {"seconds": 2}},
            {"id": "after", "type": "transform", "config": {"value": 1}, "depends_on": ["pause"]},
        ]
    )
    api.wait_step(run_id, "pause", ("waiting",))  # no worker holds it meanwhile
    run = api.wait(run_id)
    assert run["status"] == "completed", run
    pause = steps_of(run)["pause"]
    assert (_at(pause["completed_at"]) - _at(pause["started_at"])).total_seconds() >= 2
    assert "waited_until" in pause["output"]


def test_a_signal_wait_pauses_until_resumed_with_a_payload(api: Api):
    run_id = api.start(
        [
            {"id": "approve", "type": "wait", "config": {"signal": "approval"}},
            {
                "id": "done",
                "type": "transform",
                "config": {"value": "{{ steps.approve.output.ok }}"},
                "depends_on": ["approve"],
            },
        ]
    )
    paused = api.wait(run_id, statuses=("paused",))
    assert statuses(paused) == {"approve": "waiting", "done": "pending"}
    api.call("POST", f"/api/workflows/runs/{run_id}/resume", 200, json={"signal": {"ok": True}})
    run = api.wait(run_id)
    assert run["status"] == "completed", run
    assert run["outputs"] == {"done": True}
    types = [e["type"] for e in api.events(run_id)]
    assert "run_paused" in types and "run_resumed" in types


def test_retries_back_off_then_succeed_through_countdowns_and_due_rows(api: Api, http_server):
    http_server.routes["/flaky"] = lambda attempt, body, headers: (503, {}) if attempt < 3 else (200, {"n": attempt})
    # 0.2 s is a broker countdown; 1.5 s (over ORCHESTRATOR_SWEEP_THRESHOLD_SECONDS=1) a row the sweeper dispatches
    short = {"max_attempts": 3, "backoff": "fixed", "initial_interval_seconds": 0.2, "retry_on": ["5xx"]}
    run = api.wait(api.start([http_step("call", f"{http_server.url}/flaky", retry=short)]))
    assert run["status"] == "completed", run
    assert steps_of(run)["call"]["attempt"] == 3 and http_server.count("/flaky") == 3

    http_server.routes["/flaky2"] = lambda attempt, body, headers: (503, {}) if attempt < 2 else (200, {})
    long = {"max_attempts": 2, "backoff": "fixed", "initial_interval_seconds": 3, "retry_on": ["5xx"]}
    run = api.wait(api.start([http_step("call", f"{http_server.url}/flaky2", retry=long)]))
    assert run["status"] == "completed", run
    retrying = [e for e in api.events(run["id"]) if e["type"] == "step_retrying"]
    assert len(retrying) == 1 and retrying[0]["data"]["delay_seconds"] > 1


def test_cancel_while_a_step_runs_stops_everything(api: Api, http_server):
    answered = threading.Event()

    def slow(attempt, body, headers):
        time.sleep(2)
        answered.set()
        return (200, {})

    http_server.routes["/slow"] = slow
    run_id = api.start(
        [
            http_step("slow", f"{http_server.url}/slow"),
            {"id": "next", "type": "transform", "config": {"value": 1}, "depends_on": ["slow"]},
        ]
    )
    api.wait_step(run_id, "slow", ("running",))
    cancelled = api.call("POST", f"/api/workflows/runs/{run_id}/cancel", 200, json={"reason": "not needed"})
    assert cancelled["run"]["status"] == "cancelled"
    assert api.call("POST", f"/api/workflows/runs/{run_id}/cancel", 400)["error"]["code"] == "run_terminal"
    # The call still answers afterwards; its outcome must not be recorded over the cancel.
    assert answered.wait(15)
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        run = api.get(run_id)
        assert run["status"] == "cancelled"
        assert statuses(run) == {"slow": "cancelled", "next": "cancelled"}
        time.sleep(0.1)
    assert [e["type"] for e in api.events(run_id)][-1] == "run_cancelled"


def test_resume_from_a_step_reruns_it_and_reuses_the_rest(api: Api, http_server):
    http_server.routes["/flaky"] = lambda attempt, body, headers: (500, {}) if attempt == 1 else (200, {"n": 2})
    failed = api.wait(
        api.start(
            [
                http_step("first", f"{http_server.url}/once"),
                http_step("second", f"{http_server.url}/flaky", depends_on=["first"]),
            ]
        )
    )
    assert failed["status"] == "failed", failed
    new = api.call("POST", f"/api/workflows/runs/{failed['id']}/resume", 202, json={"from_step": "second"})["run"]
    resumed = api.wait(new["id"])
    assert resumed["status"] == "completed" and resumed["trigger"] == "resume", resumed
    assert resumed["metadata"] == {"resumed_from": failed["id"], "from_step": "second"}
    assert http_server.count("/once") == 1 and http_server.count("/flaky") == 2


def test_a_sub_workflow_ends_with_the_childs_outputs(api: Api):
    child = api.workflow([{"id": "double", "type": "transform", "config": {"value": "{{ input.n * 2 }}"}}])
    run = api.wait(
        api.start([{"id": "call", "type": "sub_workflow", "config": {"workflow_id": child, "input": {"n": 21}}}])
    )
    assert run["status"] == "completed", run
    assert steps_of(run)["call"]["output"] == {"double": 42}


def test_a_step_over_its_timeout_fails_and_a_run_over_its_timeout_times_out(api: Api, http_server):
    http_server.routes["/hang"] = (200, {}, 5)
    run = api.wait(api.start([http_step("slow", f"{http_server.url}/hang", timeout_seconds=1)]))
    assert run["status"] == "failed" and "timed out" in steps_of(run)["slow"]["error"], run

    run = api.wait(
        api.start([{"id": "pause", "type": "wait", "config": {"seconds": 30}}], settings={"timeout_seconds": 1})
    )
    assert run["status"] == "timed_out", run
    assert statuses(run) == {"pause": "cancelled"}


def test_queued_runs_start_first_in_first_out_as_slots_free(api: Api):
    """One slot: a run waiting for a signal holds it (paused counts as active) until signalled."""
    workflow = api.workflow(
        [{"id": "gate", "type": "wait", "config": {"signal": "go"}}], settings={"max_concurrent_runs": 1}
    )
    runs = [api.run(workflow) for _ in range(3)]
    for position, run_id in enumerate(runs):
        api.wait(run_id, statuses=("paused",))
        assert [api.get(r)["status"] for r in runs[position + 1 :]] == ["queued"] * (2 - position)
        api.call("POST", f"/api/workflows/runs/{run_id}/resume", 200, json={"signal": {}})
    finished = [api.wait(r) for r in runs]
    assert [r["status"] for r in finished] == ["completed"] * 3
    assert _at(finished[0]["completed_at"]) <= _at(finished[1]["started_at"])
    assert _at(finished[1]["completed_at"]) <= _at(finished[2]["started_at"])


def test_a_step_whose_server_was_killed_is_reaped_after_a_restart(http_server):
    """A power cut mid-step: `make run` SIGKILLed while a step runs, then started again on the
    same SQLite file. The step's lease expires, the reaper re-queues it, the run completes."""
    called = threading.Event()

    def slow_first_time(attempt, body, headers):
        called.set()
        return (200, {"attempt": attempt}, 30 if attempt == 1 else 0)

    http_server.routes["/slow"] = slow_first_time
    copy = ServedCopy(env=ENGINE_ENV)
    try:
        api = Api(copy.start().url, copy.printed_key())
        run_id = api.start(
            [
                http_step("call", f"{http_server.url}/slow"),
                {
                    "id": "after",
                    "type": "transform",
                    "config": {"value": "{{ steps.call.output.body.attempt }}"},
                    "depends_on": ["call"],
                },
            ]
        )
        assert called.wait(30), "the step never called out"
        copy.kill()
        assert copy.group_alive() == []
        api = Api(copy.start().url, copy.printed_key())
        run = api.wait(run_id, timeout=90)
        assert run["status"] == "completed", run
        assert run["outputs"] == {"after": 2}
        lost = [e for e in api.events(run_id) if e["type"] == "step_retrying"]
        assert [e["data"]["kind"] for e in lost] == ["worker_lost"]
    finally:
        copy.remove()


def test_a_schedule_fires_a_run_at_its_next_minute(api: Api):
    """The schedule clock (django-celery-beat's database scheduler, in-process) fires the
    schedule made with the leg's first test (conftest ``api``); the run has trigger "schedule"."""
    deadline = time.monotonic() + 90
    while not (runs := api.call("GET", f"/api/workflows/{api.scheduled}/runs")["runs"]):
        assert time.monotonic() < deadline, "no scheduled run within 90 s"
        time.sleep(0.5)
    run = api.wait(runs[-1]["id"])
    assert run["trigger"] == "schedule" and run["status"] == "completed" and run["outputs"] == {"a": 7}, run
