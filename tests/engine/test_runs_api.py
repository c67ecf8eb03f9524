"""The runs API (SPEC 6) over HTTP with DRF's APIClient, while a real worker process
executes the runs against real PostgreSQL and Redis."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from runs.models import Event, IdempotencyKey, Run, StepRun
from tests.conftest import client_for
from tests.engine.conftest import wait_for_run, wait_for_step
from workflows.services import workflow_create, workflow_set_status

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]

RUNS = "/api/workflows/runs"
SPEC_EVENT_TYPES = {
    "run_queued",
    "run_started",
    "step_started",
    "step_completed",
    "step_failed",
    "step_retrying",
    "step_skipped",
    "step_waiting",
    "run_paused",
    "run_resumed",
    "run_completed",
    "run_failed",
    "run_cancelled",
    "run_timed_out",
}
LOG_FIELDS = {
    "step_id",
    "step_name",
    "step_type",
    "status",
    "attempt",
    "input",
    "output",
    "error",
    "logs",
    "started_at",
    "completed_at",
    "duration_ms",
}


def make(user, steps, **definition):
    return workflow_create(user=user, definition={"steps": steps, **definition}, name=f"wf {uuid.uuid4().hex[:10]}")


def http_step(step_id, url, **extra):
    return {"id": step_id, "type": "http_request", "config": {"method": "GET", "url": url}, **extra}


def transform(step_id, value, **extra):
    return {"id": step_id, "type": "transform", "config": {"value": value}, **extra}


def start(client, workflow_id, body=None, **headers) -> str:
    response = client.post(f"/api/workflows/{workflow_id}/run", body or {}, format="json", **headers)
    assert response.status_code == 202, response.content
    return response.json()["run_id"]


def get_run(client, run_id) -> dict:
    response = client.get(f"{RUNS}/{run_id}")
    assert response.status_code == 200, response.content
    return response.json()["run"]


def steps_of(run: dict) -> dict[str, dict]:
    return {sr["step_id"]: sr for sr in run["step_runs"]}


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["message"]
    if code:
        assert error["code"] == code
    return error


# --- start and read -----------------------------------------------------------------------


def test_the_seed_flow_runs_over_http_and_reads_back_with_outputs_and_durations(shared_worker, http_server, api_client):
    """Seed 001: create "Fetch and notify", POST /run → 202 {"run_id"}, GET the run.

    No LLM integration exists, so ``notify`` (agent_task, agent_id agent_123) fails with a
    clear error instead of a fake answer (SPEC 7), and the run fails after ``fetch``.
    """
    http_server.routes["/data"] = (200, {"items": [1, 2, 3]})
    created = api_client.post(
        "/api/workflows",
        {
            "definition": {
                "name": "Fetch and notify",
                "steps": [
                    {
                        "id": "fetch",
                        "type": "http_request",
                        "config": {"method": "GET", "url": http_server.url + "/data"},
                    },
                    {
                        "id": "notify",
                        "type": "agent_task",
                        "config": {"agent_id": "agent_123", "goal": "Summarize the fetched data and post to Slack"},
                        "depends_on": ["fetch"],
                    },
                ],
            },
            "trigger_type": "manual",
            "tags": ["notifications"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    workflow_id = created.json()["id"]

    response = api_client.post(
        f"/api/workflows/{workflow_id}/run",
        {"input_data": {"dataset_id": "ds_123"}, "trigger": "manual"},
        format="json",
    )
    assert response.status_code == 202
    assert list(response.json()) == ["run_id"] and response.json()["run_id"].startswith("run_")
    run_id = response.json()["run_id"]
    wait_for_run(run_id)

    run = get_run(api_client, run_id)
    assert run["id"] == run_id and run["workflow_id"] == workflow_id and run["workflow_version"] == 1
    assert run["trigger"] == "manual" and run["inputs"] == {"dataset_id": "ds_123"}
    assert run["status"] == "failed" and run["error"].startswith("Step 'notify' failed")
    assert run["started_at"] and run["completed_at"] and isinstance(run["duration_seconds"], float)
    steps = steps_of(run)
    fetch, notify = steps["fetch"], steps["notify"]
    assert fetch["status"] == "completed" and fetch["attempt"] == 1 and fetch["error"] is None
    assert fetch["output"]["status_code"] == 200 and fetch["output"]["body"] == {"items": [1, 2, 3]}
    assert fetch["started_at"] and fetch["completed_at"] and fetch["duration_seconds"] >= 0
    assert notify["status"] == "failed" and "agent_123" in notify["error"] and "not found" in notify["error"]
    assert http_server.count("/data") == 1


def test_execute_async_answers_202_with_the_run_object(shared_worker, api_client, member):
    workflow = make(member, [transform("double", "{{ input.n * 2 }}")])
    response = api_client.post(
        f"/api/workflows/{workflow.id}/execute",
        {"inputs": {"n": 21}, "async": True, "metadata": {"requestedBy": "user_456"}},
        format="json",
    )
    assert response.status_code == 202
    run = response.json()["run"]
    assert run["status"] in ("queued", "running") and run["trigger"] == "api"
    assert run["inputs"] == {"n": 21} and run["metadata"] == {"requestedBy": "user_456"}
    assert [sr["step_id"] for sr in run["step_runs"]] == ["double"]
    assert wait_for_run(run["id"]).outputs == {"double": 42}


def test_execute_sync_answers_200_with_the_finished_run_and_its_outputs(shared_worker, api_client, member):
    workflow = make(member, [transform("double", "{{ input.n * 2 }}")], outputs={"answer": "{{ steps.double.output }}"})
    response = api_client.post(
        f"/api/workflows/{workflow.id}/execute", {"input": {"n": 4}, "async": False, "wait_seconds": 15}, format="json"
    )
    assert response.status_code == 200, response.content
    run = response.json()["run"]
    assert run["status"] == "completed" and run["outputs"] == {"answer": 8}
    assert steps_of(run)["double"]["output"] == 8 and run["completed_at"]


def test_execute_sync_longer_than_wait_seconds_answers_202_with_the_running_run(shared_worker, api_client, member):
    """The view waits ``wait_seconds``, then answers 202 with the run as it is (still running)."""
    workflow = make(member, [{"id": "pause", "type": "wait", "config": {"seconds": 30}}])
    began = time.monotonic()
    response = api_client.post(
        f"/api/workflows/{workflow.id}/execute", {"input_data": {}, "async": False, "wait_seconds": 1}, format="json"
    )
    elapsed = time.monotonic() - began
    assert response.status_code == 202, response.content
    run = response.json()["run"]
    assert run["status"] == "running" and run["completed_at"] is None
    assert 1 <= elapsed < 5
    assert api_client.post(f"{RUNS}/{run['id']}/cancel", {}, format="json").status_code == 200


# --- lists --------------------------------------------------------------------------------


def test_run_lists_filter_and_answer_newest_first(shared_worker, api_client, member):
    # A template naming a missing input key fails the step: one workflow, outcome by input.
    first_wf = make(member, [transform("echo", "{{ input.x }}")])
    second_wf = make(member, [transform("echo", "{{ input.x }}")])
    completed = start(api_client, first_wf.id, {"input_data": {"x": 1}})
    wait_for_run(completed)
    middle = timezone.now()
    response = api_client.post(f"/api/workflows/{first_wf.id}/execute", {"input": {}}, format="json")
    failed = response.json()["run"]["id"]
    other = start(api_client, second_wf.id, {"input_data": {"x": 2}})
    assert wait_for_run(failed).status == "failed" and wait_for_run(other).status == "completed"

    def ids(path, **params):
        response = api_client.get(path, params)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"runs", "total"}
        return [r["id"] for r in body["runs"]], body["total"]

    assert ids(RUNS) == ([other, failed, completed], 3)
    assert ids(RUNS, status="failed") == ([failed], 1)
    assert ids(RUNS, trigger="api") == ([failed], 1)
    assert ids(RUNS, trigger="manual") == ([other, completed], 2)
    assert ids(RUNS, workflow_id=second_wf.id) == ([other], 1)
    assert ids(RUNS, since=middle.isoformat()) == ([other, failed], 2)
    assert ids(RUNS, until=middle.isoformat()) == ([completed], 1)
    assert ids(RUNS, workflow_id=first_wf.id, status="completed") == ([completed], 1)
    assert ids(RUNS, limit=1, offset=1) == ([failed], 3)
    assert ids(f"/api/workflows/{first_wf.id}/runs") == ([failed, completed], 2)
    assert ids(f"/api/workflows/{first_wf.id}/runs", status="completed") == ([completed], 1)
    assert ids(f"/api/workflows/{first_wf.id}/runs", trigger="api") == ([failed], 1)

    listed = api_client.get(RUNS, {"status": "failed"}).json()["runs"][0]
    assert listed["workflow_id"] == first_wf.id and listed["trigger"] == "api" and "Template error" in listed["error"]
    assert_error(api_client.get(RUNS, {"status": "bogus"}), 400, "validation_error")
    assert_error(api_client.get(RUNS, {"trigger": "cron"}), 400, "validation_error")
    assert_error(api_client.get(RUNS, {"since": "yesterday"}), 400, "validation_error")
    assert_error(api_client.get(RUNS, {"limit": "-1"}), 400, "validation_error")


# --- status, logs, events -----------------------------------------------------------------


def test_status_logs_and_events_of_a_run_with_secrets_redacted(shared_worker, http_server, api_client, member):
    secret = "s3cr3t-Token-Value-9f8e7d"
    http_server.routes["/secure"] = lambda attempt, body, headers: (
        (200, {"who": "ana"}) if headers.get("Authorization") == f"Bearer {secret}" else (401, {"error": "no"})
    )
    http_server.routes["/missing"] = (404, {"error": "gone"})
    steps = [
        {
            "id": "call",
            "name": "Call the secure API",
            "type": "http_request",
            "config": {
                "method": "GET",
                "url": http_server.url + "/secure",
                "headers": {"Authorization": f"Bearer {secret}", "X-Trace": "t-1"},
                "query": {"api_key": secret},
            },
        },
        {
            "id": "shape",
            "type": "transform",
            "config": {"expression": "steps.call.output.body"},
            "depends_on": ["call"],
        },
        http_step("lookup", http_server.url + "/missing", continue_on_error=True),
        transform("never", 1, when="{{ input.go == true }}"),
    ]
    workflow = make(member, steps)
    run_id = start(api_client, workflow.id, {"input_data": {"go": False}})
    assert wait_for_run(run_id).status == "completed"
    # The real header reached the server: redaction is only in what people see.
    secure = next(r for r in http_server.requests if r["path"].startswith("/secure"))
    assert secure["headers"]["Authorization"] == f"Bearer {secret}" and f"api_key={secret}" in secure["path"]

    status = api_client.get(f"{RUNS}/{run_id}/status").json()
    assert status == {
        "id": run_id,
        "status": "completed",
        "node_statuses": {"call": "completed", "shape": "completed", "lookup": "failed", "never": "skipped"},
    }

    response = api_client.get(f"{RUNS}/{run_id}/logs")
    assert response.status_code == 200
    logs = response.json()
    assert set(logs) == {"logs", "total"} and logs["total"] == 4
    entries = {entry["step_id"]: entry for entry in logs["logs"]}
    assert all(set(entry) == LOG_FIELDS for entry in entries.values())
    call = entries["call"]
    assert call["step_name"] == "Call the secure API" and call["step_type"] == "http_request"
    assert call["status"] == "completed" and call["attempt"] == 1 and call["error"] is None
    assert call["input"]["headers"] == {"Authorization": "[REDACTED]", "X-Trace": "t-1"}
    assert call["input"]["query"] == {"api_key": "[REDACTED]"}
    assert call["output"]["body"] == {"who": "ana"} and isinstance(call["duration_ms"], int)
    assert entries["shape"]["step_name"] == "shape" and entries["shape"]["output"] == {"who": "ana"}
    assert entries["lookup"]["status"] == "failed" and entries["lookup"]["error"].startswith("HTTP 404 from")
    assert entries["never"]["status"] == "skipped"

    events = api_client.get(f"{RUNS}/{run_id}/events").json()
    assert set(events) == {"events", "total"} and events["total"] == len(events["events"])
    sequences = [e["sequence"] for e in events["events"]]
    assert sequences == list(range(1, len(sequences) + 1))
    types = [e["type"] for e in events["events"]]
    assert set(types) <= SPEC_EVENT_TYPES
    assert types[:2] == ["run_queued", "run_started"] and types[-1] == "run_completed"
    assert {"step_started", "step_completed", "step_failed", "step_skipped"} <= set(types)
    first = events["events"][0]
    assert set(first) == {"id", "sequence", "type", "run_id", "workflow_id", "step_id", "timestamp", "data"}
    assert first["id"].startswith("evt_") and first["run_id"] == run_id and first["workflow_id"] == workflow.id
    assert all(e["step_id"] for e in events["events"] if e["type"].startswith("step_"))
    later = api_client.get(f"{RUNS}/{run_id}/events", {"after": 2}).json()["events"]
    assert [e["sequence"] for e in later] == sequences[2:]

    # Nowhere a person reads: logs, events, the run itself.
    for path in (f"{RUNS}/{run_id}/logs", f"{RUNS}/{run_id}/events", f"{RUNS}/{run_id}"):
        assert secret not in api_client.get(path).content.decode(), path
    assert secret not in json.dumps(list(Event.objects.filter(run_id=run_id).values_list("data", flat=True)))


# --- cancel -------------------------------------------------------------------------------


def test_cancel_while_running_then_again_is_400(shared_worker, http_server, api_client, member):
    http_server.routes["/slow"] = (200, {}, 2)
    workflow = make(member, [http_step("slow", http_server.url + "/slow"), transform("next", 1, depends_on=["slow"])])
    run_id = start(api_client, workflow.id)
    slow = wait_for_step(run_id, "slow", ("running",))

    response = api_client.post(f"{RUNS}/{run_id}/cancel", {"reason": "No longer needed."}, format="json")
    assert response.status_code == 200, response.content
    run = response.json()["run"]
    assert run["status"] == "cancelled" and run["error"] == "No longer needed." and run["completed_at"]
    assert {sr["step_id"]: sr["status"] for sr in run["step_runs"]} == {"slow": "cancelled", "next": "cancelled"}

    error = assert_error(api_client.post(f"{RUNS}/{run_id}/cancel", {}, format="json"), 400, "run_terminal")
    assert "already cancelled" in error["message"]
    shared_worker.wait_for_task(slow.task_id)  # the slow call returned: the cancelled step records nothing
    assert {sr.step_id: sr.status for sr in StepRun.objects.filter(run_id=run_id)} == {
        "slow": "cancelled",
        "next": "cancelled",
    }
    assert Event.objects.filter(run_id=run_id).order_by("sequence").last().type == "run_cancelled"


def test_cancel_while_queued_never_starts_the_run(shared_worker, api_client, member):
    workflow = make(
        member, [{"id": "pause", "type": "wait", "config": {"seconds": 30}}], settings={"max_concurrent_runs": 1}
    )
    first = start(api_client, workflow.id)
    second = start(api_client, workflow.id)
    third = start(api_client, workflow.id)
    assert get_run(api_client, second)["status"] == "queued"

    response = api_client.post(f"{RUNS}/{second}/cancel", {}, format="json")
    assert response.status_code == 200
    run = response.json()["run"]
    assert run["status"] == "cancelled" and run["started_at"] is None
    assert [sr["status"] for sr in run["step_runs"]] == ["cancelled"]
    assert api_client.post(f"{RUNS}/{first}/cancel", {}, format="json").status_code == 200
    # The freed slot goes to the next queued run, not to the cancelled one.
    wait_for_run(third, statuses=("running",))
    assert Run.objects.get(id=second).status == "cancelled"
    types = list(Event.objects.filter(run_id=second).order_by("sequence").values_list("type", flat=True))
    assert types == ["run_queued", "run_cancelled"]
    assert_error(api_client.post(f"{RUNS}/{second}/cancel", {}, format="json"), 400)
    assert api_client.post(f"{RUNS}/{third}/cancel", {}, format="json").status_code == 200


# --- resume -------------------------------------------------------------------------------


def test_resume_from_a_step_reuses_the_other_outputs(shared_worker, http_server, api_client, member):
    http_server.routes["/flaky"] = lambda attempt, body, headers: (500, {}) if attempt == 1 else (200, {"n": 2})
    steps = [
        http_step("first", http_server.url + "/once"),
        http_step("second", http_server.url + "/flaky", depends_on=["first"]),
        {
            "id": "third",
            "type": "transform",
            "config": {"expression": "steps.second.output.body.n"},
            "depends_on": ["second"],
        },
    ]
    workflow = make(member, steps)
    failed_id = start(api_client, workflow.id)
    failed = wait_for_run(failed_id)
    assert failed.status == "failed"
    original_first = StepRun.objects.get(run_id=failed_id, step_id="first")

    response = api_client.post(f"{RUNS}/{failed_id}/resume", {"from_step": "second"}, format="json")
    assert response.status_code == 202, response.content
    resumed = response.json()["run"]
    assert resumed["id"] != failed_id and resumed["trigger"] == "resume"
    assert resumed["metadata"]["resumed_from"] == failed_id
    done = get_run(api_client, wait_for_run(resumed["id"]).id)
    assert done["status"] == "completed" and done["outputs"] == {"third": 2}
    first = steps_of(done)["first"]
    assert first["output"] == original_first.output and first["status"] == "completed"
    assert http_server.count("/once") == 1 and http_server.count("/flaky") == 2

    assert_error(api_client.post(f"{RUNS}/{failed_id}/resume", {"from_step": "nope"}, format="json"), 400)


def test_resume_without_a_step_reruns_the_failed_ones_and_downstream(shared_worker, http_server, api_client, member):
    http_server.routes["/flaky"] = lambda attempt, body, headers: (500, {}) if attempt == 1 else (200, {"ok": 1})
    steps = [
        http_step("a", http_server.url + "/a"),
        http_step("b", http_server.url + "/flaky", depends_on=["a"]),
        transform("c", "after b", depends_on=["b"]),
        http_step("d", http_server.url + "/d", depends_on=["a"]),
    ]
    workflow = make(member, steps)
    failed_id = start(api_client, workflow.id)
    failed = wait_for_run(failed_id)
    assert {sr.step_id: sr.status for sr in StepRun.objects.filter(run=failed)} == {
        "a": "completed",
        "b": "failed",
        "c": "skipped",
        "d": "completed",
    }

    response = api_client.post(f"{RUNS}/{failed_id}/resume", {}, format="json")
    assert response.status_code == 202, response.content
    done = wait_for_run(response.json()["run"]["id"])
    assert done.status == "completed" and done.trigger == "resume"
    assert {sr.step_id: sr.status for sr in StepRun.objects.filter(run=done)} == dict.fromkeys("abcd", "completed")
    assert http_server.count("/a") == 1 and http_server.count("/d") == 1 and http_server.count("/flaky") == 2

    # Every step of the resumed run completed: nothing to resume without naming a step.
    assert_error(api_client.post(f"{RUNS}/{done.id}/resume", {}, format="json"), 409, "conflict")


def test_resume_with_a_signal_continues_the_waiting_step(shared_worker, api_client, member):
    steps = [
        {"id": "approve", "type": "wait", "config": {"signal": "approval"}},
        {
            "id": "after",
            "type": "transform",
            "config": {"value": "{{ steps.approve.output.approved }}"},
            "depends_on": ["approve"],
        },
    ]
    workflow = make(member, steps)
    run_id = start(api_client, workflow.id)
    wait_for_run(run_id, statuses=("paused",))
    status = api_client.get(f"{RUNS}/{run_id}/status").json()
    assert status["status"] == "paused" and status["node_statuses"] == {"approve": "waiting", "after": "pending"}
    # A paused run is not finished: it cannot be re-run from a step, nor deleted.
    assert_error(api_client.post(f"{RUNS}/{run_id}/resume", {"from_step": "after"}, format="json"), 409)

    payload = {"approved": True, "by": "ana"}
    response = api_client.post(f"{RUNS}/{run_id}/resume", {"signal": payload}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["run"]["status"] in ("running", "completed")
    done = wait_for_run(run_id)
    assert done.status == "completed"
    assert StepRun.objects.get(run=done, step_id="approve").output == payload
    assert StepRun.objects.get(run=done, step_id="after").output is True
    types = list(Event.objects.filter(run=done).order_by("sequence").values_list("type", flat=True))
    assert types.index("run_paused") < types.index("run_resumed") < types.index("run_completed")

    assert_error(api_client.post(f"{RUNS}/{run_id}/resume", {"signal": {}}, format="json"), 409, "conflict")


# --- delete -------------------------------------------------------------------------------


def test_delete_is_409_while_running_and_204_once_finished(shared_worker, api_client, member):
    workflow = make(member, [{"id": "approve", "type": "wait", "config": {"signal": "go"}}])
    run_id = start(api_client, workflow.id)
    wait_for_run(run_id, statuses=("paused",))
    assert_error(api_client.delete(f"{RUNS}/{run_id}"), 409, "conflict")
    assert api_client.post(f"{RUNS}/{run_id}/cancel", {}, format="json").status_code == 200

    response = api_client.delete(f"{RUNS}/{run_id}")
    assert response.status_code == 204 and response.content == b""
    assert_error(api_client.get(f"{RUNS}/{run_id}"), 404, "not_found")
    assert not StepRun.objects.filter(run_id=run_id).exists() and not Event.objects.filter(run_id=run_id).exists()
    assert_error(api_client.delete(f"{RUNS}/{run_id}"), 404)

    quick = make(member, [transform("one", 1)])
    done = start(api_client, quick.id)
    wait_for_run(done)
    assert api_client.delete(f"{RUNS}/{done}").status_code == 204


# --- Idempotency-Key ----------------------------------------------------------------------


def test_idempotency_key_on_run_starts_one_run_and_replays_the_answer(shared_worker, api_client, member):
    workflow = make(member, [transform("echo", "{{ input.n }}")])
    url = f"/api/workflows/{workflow.id}/run"
    first = api_client.post(url, {"input_data": {"n": 1}}, format="json", HTTP_IDEMPOTENCY_KEY="order-42")
    again = api_client.post(url, {"input_data": {"n": 1}}, format="json", HTTP_IDEMPOTENCY_KEY="order-42")
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    # Documented in runs/idempotency.py: the same key answers what the first request
    # answered, whatever the body: a different input starts nothing new.
    different = api_client.post(url, {"input_data": {"n": 2}}, format="json", HTTP_IDEMPOTENCY_KEY="order-42")
    assert different.status_code == 202 and different.json() == first.json()
    assert Run.objects.filter(workflow=workflow).count() == 1
    assert wait_for_run(first.json()["run_id"]).outputs == {"echo": 1}

    fresh = api_client.post(url, {"input_data": {"n": 3}}, format="json", HTTP_IDEMPOTENCY_KEY="order-43")
    assert fresh.json()["run_id"] != first.json()["run_id"]
    assert Run.objects.filter(workflow=workflow).count() == 2
    wait_for_run(fresh.json()["run_id"])


def test_idempotency_key_on_execute_replays_status_and_body(shared_worker, api_client, member):
    workflow = make(member, [transform("echo", "{{ input.n }}")])
    url = f"/api/workflows/{workflow.id}/execute"
    first = api_client.post(url, {"input": {"n": 1}}, format="json", HTTP_IDEMPOTENCY_KEY="exec-1")
    again = api_client.post(url, {"input": {"n": 1}}, format="json", HTTP_IDEMPOTENCY_KEY="exec-1")
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert Run.objects.filter(workflow=workflow).count() == 1
    wait_for_run(first.json()["run"]["id"])

    sync = {"input": {"n": 5}, "async": False, "wait_seconds": 15}
    finished = api_client.post(url, sync, format="json", HTTP_IDEMPOTENCY_KEY="exec-2")
    replayed = api_client.post(url, sync, format="json", HTTP_IDEMPOTENCY_KEY="exec-2")
    assert finished.status_code == replayed.status_code == 200
    assert finished.json() == replayed.json() and finished.json()["run"]["outputs"] == {"echo": 5}
    assert Run.objects.filter(workflow=workflow).count() == 2
    assert IdempotencyKey.objects.filter(tenant=member.tenant).count() == 2


def test_concurrent_requests_with_one_key_start_one_run(shared_worker, member):
    workflow = make(member, [transform("one", 1)])
    answers: list = []

    def post() -> None:
        try:
            response = client_for(member).post(
                f"/api/workflows/{workflow.id}/run", {}, format="json", HTTP_IDEMPOTENCY_KEY="race"
            )
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 4
    assert {status for status, _ in answers} == {202}
    assert len({body["run_id"] for _, body in answers}) == 1
    assert Run.objects.filter(workflow=workflow).count() == 1
    wait_for_run(answers[0][1]["run_id"])


# --- tenancy and roles --------------------------------------------------------------------


def test_another_tenants_runs_and_workflows_are_404(shared_worker, api_client, outsider_client, member):
    workflow = make(member, [transform("one", 1)])
    run_id = start(api_client, workflow.id)
    wait_for_run(run_id)

    for path in ("", "/status", "/logs", "/events"):
        assert_error(outsider_client.get(f"{RUNS}/{run_id}{path}"), 404, "not_found")
    assert_error(outsider_client.post(f"{RUNS}/{run_id}/cancel", {}, format="json"), 404)
    assert_error(outsider_client.post(f"{RUNS}/{run_id}/resume", {"from_step": "one"}, format="json"), 404)
    assert_error(outsider_client.delete(f"{RUNS}/{run_id}"), 404)
    assert_error(outsider_client.post(f"/api/workflows/{workflow.id}/run", {}, format="json"), 404)
    assert_error(outsider_client.post(f"/api/workflows/{workflow.id}/execute", {}, format="json"), 404)
    assert_error(outsider_client.get(f"/api/workflows/{workflow.id}/runs"), 404)
    assert outsider_client.get(RUNS).json() == {"runs": [], "total": 0}
    assert outsider_client.get(RUNS, {"workflow_id": workflow.id}).json()["total"] == 0
    assert Run.objects.filter(workflow=workflow).count() == 1 and Run.objects.get(id=run_id).status == "completed"


def test_a_viewer_reads_runs_but_cannot_start_or_change_them(shared_worker, api_client, viewer_client, member):
    workflow = make(member, [{"id": "approve", "type": "wait", "config": {"signal": "go"}}])
    run_id = start(api_client, workflow.id)
    wait_for_run(run_id, statuses=("paused",))

    assert_error(viewer_client.post(f"/api/workflows/{workflow.id}/run", {}, format="json"), 403, "permission_denied")
    assert_error(viewer_client.post(f"/api/workflows/{workflow.id}/execute", {}, format="json"), 403)
    assert_error(viewer_client.post(f"{RUNS}/{run_id}/resume", {"signal": {"ok": 1}}, format="json"), 403)
    assert_error(viewer_client.post(f"{RUNS}/{run_id}/cancel", {}, format="json"), 403)
    assert_error(viewer_client.delete(f"{RUNS}/{run_id}"), 403)
    assert viewer_client.get(f"{RUNS}/{run_id}").json()["run"]["status"] == "paused"
    assert viewer_client.get(f"/api/workflows/{workflow.id}/runs").json()["total"] == 1
    assert Run.objects.filter(workflow=workflow).count() == 1
    assert api_client.post(f"{RUNS}/{run_id}/cancel", {}, format="json").status_code == 200


# --- bad input ----------------------------------------------------------------------------


def test_bad_run_requests_are_4xx_in_the_envelope(api_client, member):
    workflow = make(
        member,
        [transform("one", "{{ input.n }}")],
        inputs={
            "type": "object",
            "properties": {"n": {"type": "integer"}, "label": {"type": "string", "default": "x"}},
            "required": ["n"],
        },
    )
    run_url, execute_url = f"/api/workflows/{workflow.id}/run", f"/api/workflows/{workflow.id}/execute"
    error = assert_error(api_client.post(run_url, {"input_data": {"n": "two", "label": 3}}, format="json"), 400)
    assert len(error["details"]) == 2  # every problem, not just the first
    assert_error(api_client.post(run_url, {"input_data": {}}, format="json"), 400, "validation_error")
    assert_error(api_client.post(run_url, {"input_data": [1]}, format="json"), 400)
    assert_error(api_client.post(run_url, {"input_data": {"n": 1}, "bogus": 1}, format="json"), 400)
    assert_error(api_client.post(run_url, {"trigger": "schedule"}, format="json"), 400)
    assert_error(api_client.post(execute_url, {"input": {"n": 1}, "inputs": {"n": 1}}, format="json"), 400)
    assert_error(api_client.post(execute_url, {"input": {"n": 1}, "wait_seconds": 9999}, format="json"), 400)
    assert_error(api_client.post(run_url, "not json", content_type="application/json"), 400)
    assert_error(api_client.post("/api/workflows/wf_nope/run", {}, format="json"), 404)
    assert_error(api_client.get(f"{RUNS}/run_nope"), 404)
    assert Run.objects.count() == 0

    workflow_set_status(workflow=workflow, status="archived")
    assert_error(api_client.post(run_url, {"input_data": {"n": 1}}, format="json"), 409, "conflict")
