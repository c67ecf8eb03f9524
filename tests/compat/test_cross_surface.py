"""One workflow, one run, five surfaces, one real server and one real worker: created through
004, run through 001, watched through 000's WebSocket, cancelled through 003, read through 002
(and every other surface reads the same IDs)."""

from __future__ import annotations

import asyncio
import json
import threading
from types import SimpleNamespace

import httpx
import pytest

from apikeys.services import api_key_create
from tests.channels.clients import connect, stored, terminal, ws_receive_until
from tests.engine.conftest import QUEUE, Worker, flush_retrying_deadlocks, wait_for_run, wait_for_step
from tests.factories import TenantFactory, UserFactory
from tests.live import server_log, start_server, stop_server

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def live(django_db_setup, _engine_queue):
    worker = Worker(concurrency=2).start()
    try:
        base_url, server = start_server({"ORCHESTRATOR_RATE_LIMIT": "0", "ORCHESTRATOR_TASK_QUEUE": QUEUE})
    except Exception:
        worker.stop()
        raise
    with flush_retrying_deadlocks():
        yield SimpleNamespace(url=base_url, ws=base_url.replace("http://", "ws://"), log=lambda: server_log(server))
    stop_server(server)
    worker.stop()


@pytest.fixture
def key(transactional_db) -> str:
    user = UserFactory(tenant=TenantFactory(), role="admin")
    return api_key_create(user=user, name="every surface")[1]


def watch(url: str, done) -> tuple[threading.Event, dict]:
    """Frames of a WebSocket in a thread (the ORM stays out of its event loop) until ``done``."""
    subscribed, results = threading.Event(), {}

    async def main() -> list[dict]:
        async with connect(url) as ws:
            subscribed.set()  # accepted means subscribed
            return await ws_receive_until(ws, done, timeout=60)

    thread = threading.Thread(target=lambda: results.setdefault("frames", asyncio.run(main())), daemon=True)
    thread.start()
    results["thread"] = thread
    return subscribed, results


def test_create_via_004_run_via_001_watch_via_000_cancel_via_003_read_via_002(live, key):
    api = httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    created = api.post(
        "/api/v2/workflows",
        json={
            "name": "Approval",
            "definition": {
                "nodes": [
                    {"id": "prepare", "type": "transform", "config": {"value": "{{ input.order }}"}},
                    {"id": "approve", "type": "wait", "input_from": "prepare", "config": {"signal": "approval"}},
                    {"id": "ship", "type": "transform", "input_from": "approve", "config": {"value": "shipped"}},
                ]
            },
        },
    )
    assert created.status_code == 201, created.text
    workflow_id = created.json()["workflow"]["id"]

    subscribed, results = watch(f"{live.ws}/ws/workflows/{workflow_id}?api_key={key}", terminal)
    assert subscribed.wait(15)
    started = api.post(f"/api/workflows/{workflow_id}/run", json={"input_data": {"order": "ord_1"}})
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]
    wait_for_step(run_id, "approve", ("waiting",), timeout=30)

    cancelled = api.post(f"/api/eai/v3/orchestrate/executions/{run_id}/cancel")
    assert cancelled.status_code == 204 and cancelled.content == b""
    results["thread"].join(timeout=60)
    frames = results["frames"]
    assert frames == stored(run_id), live.log()
    assert frames[-1]["type"] == "run_cancelled" and {f["run_id"] for f in frames} == {run_id}
    assert [f["step_id"] for f in frames if f["type"] == "step_completed"] == ["prepare"]

    status = api.get(f"/api/workflows/executions/{run_id}/status").json()
    assert status == {
        "id": run_id,
        "status": "cancelled",
        "nodeStatuses": {"prepare": "success", "approve": "cancelled", "ship": "cancelled"},
    }
    logs = api.get(f"/api/workflows/executions/{run_id}/logs").json()
    assert {entry["nodeId"]: entry["output"] for entry in logs}["prepare"] == "ord_1"
    (execution,) = api.get(f"/api/workflows/{workflow_id}/executions").json()
    assert (execution["id"], execution["status"], execution["input"]) == (run_id, "cancelled", {"order": "ord_1"})

    # The same IDs on every other surface.
    assert api.get(f"/api/workflows/runs/{run_id}").json()["run"]["status"] == "cancelled"
    assert api.get(f"/api/executions/{run_id}").json()["run"]["status"] == "cancelled"
    assert api.get(f"/api/eai/v3/orchestrate/executions/{run_id}").json()["state"] == "cancelled"
    assert api.get(f"/api/v2/workflows/{workflow_id}/runs/{run_id}").json()["run"]["status"] == "terminated"
    editor = api.get(f"/api/workflows/{workflow_id}").json()["workflow"]
    assert [(e["source"], e["target"]) for e in editor["edges"]] == [("prepare", "approve"), ("approve", "ship")]
    assert api.get("/api/eai/v3/orchestrate/workflows").json()["data"][0]["id"] == workflow_id


def test_a_workflow_made_by_the_editor_runs_to_the_end_through_003_and_reads_through_004(live, key):
    api = httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
    created = api.post(
        "/api/workflows/create",
        json={
            "name": "Greeter",
            "nodes": [{"id": "greet", "type": "action", "data": {"label": "Greet", "type": "transform", "config": {"value": "hi {{ input.who }}"}}}],
            "edges": [],
        },
    )  # fmt: skip
    assert created.status_code == 200, created.text
    workflow_id = created.json()["id"]
    executed = api.post(
        f"/api/eai/v3/orchestrate/workflows/{workflow_id}/execute", json={"input": {"who": "ada"}, "async": False}
    )
    assert executed.status_code == 200, executed.text
    assert executed.json()["state"] == "completed" and executed.json()["output"] == {"greet": "hi ada"}
    run_id = executed.json()["id"]
    assert [s["stepId"] for s in executed.json()["steps"]] == ["trigger", "greet"]
    wait_for_run(run_id)
    runs = api.get(f"/api/v2/workflows/{workflow_id}/runs", params={"status": "completed"}).json()
    assert runs["count"] == 1 and runs["runs"][0]["outputs"] == {"greet": "hi ada"}
    assert (
        json.loads(api.get("/api/v2/workflows").json()["workflows"][0]["definition"])["nodes"][1]["input_from"]
        == "trigger"
    )
