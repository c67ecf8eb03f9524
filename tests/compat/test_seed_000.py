"""Seed 000 (the executions API): its curl example as written, its ``/api/executions`` paths, and a
definition of ``nodes`` + ``edges`` (``source``/``target``) created through the canonical API."""

from __future__ import annotations

import pytest

from runs.models import Run
from tests.compat.seed_documents import curl_examples, document, with_ids
from tests.conftest import client_for
from tests.engine.conftest import wait_for_run

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]

DOC = document("000")
(EXECUTE,) = curl_examples(DOC)
DOC_WORKFLOW = "abc123"


def sentiment_workflow(client) -> str:
    """A workflow defined the way this seed's clients define them: nodes and edges."""
    definition = {
        "name": "Sentiment",
        "inputs": {
            "type": "object",
            "properties": {"user_query": {"type": "string"}, "data_source": {"type": "string"}},
            "required": ["user_query"],
        },
        "nodes": [
            {"id": "load", "type": "transform", "config": {"value": "{{ input.data_source }}"}},
            {
                "id": "answer",
                "type": "transform",
                "config": {"value": "{{ input.user_query }} in {{ steps.load.output }}"},
            },
        ],
        "edges": [{"source": "load", "target": "answer"}],
    }
    response = client.post("/api/workflows", {"definition": definition}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["workflow"]["definition"]["steps"][1]["depends_on"] == ["load"]
    return response.json()["id"]


def execute(client, workflow_id: str) -> dict:
    assert (EXECUTE.method, EXECUTE.headers) == ("POST", {"Content-Type": "application/json"})
    response = client.post(with_ids(EXECUTE.path, {DOC_WORKFLOW: workflow_id}), EXECUTE.body, format="json")
    assert response.status_code == 202, response.content
    return response.json()["run"]


def test_the_documented_execute_request_starts_a_run_and_it_reads_back_as_an_execution(api_client, shared_worker):
    workflow_id = sentiment_workflow(api_client)
    run = execute(api_client, workflow_id)
    assert run["inputs"] == EXECUTE.body["input_data"] and run["workflow_id"] == workflow_id
    wait_for_run(run["id"])

    response = api_client.get(f"/api/executions/{run['id']}")
    assert response.status_code == 200
    execution = response.json()["run"]
    assert execution["status"] == "completed"
    assert execution["outputs"] == {"answer": "Analyze customer sentiment in reviews.csv"}
    assert {s["step_id"]: s["status"] for s in execution["step_runs"]} == {"load": "completed", "answer": "completed"}
    assert execution == api_client.get(f"/api/workflows/runs/{run['id']}").json()["run"]

    listed = api_client.get("/api/executions", {"workflow_id": workflow_id, "status": "completed"}).json()
    assert listed["total"] == 1 and listed["runs"][0]["id"] == run["id"]
    assert api_client.get("/api/executions", {"status": "running"}).json() == {"runs": [], "total": 0}
    assert api_client.get("/api/executions", {"status": "nope"}).status_code == 400

    events = api_client.get("/api/events", {"run_id": run["id"]}).json()["events"]
    assert events[0]["type"] == "run_queued" and events[-1]["type"] == "run_completed"
    per_workflow = api_client.get(f"/api/workflows/{workflow_id}/events").json()
    assert per_workflow["total"] == len(events)


def test_executions_page_with_limit_and_offset(api_client, shared_worker):
    workflow_id = sentiment_workflow(api_client)
    ids = [execute(api_client, workflow_id)["id"] for _ in range(3)]
    page = api_client.get("/api/executions", {"limit": 2, "offset": 1}).json()
    assert page["total"] == 3 and [r["id"] for r in page["runs"]] == ids[::-1][1:3]
    for run_id in ids:
        wait_for_run(run_id)


def test_cancel_stops_a_waiting_execution_and_a_finished_one_is_400(api_client):
    definition = {"nodes": [{"id": "gate", "type": "wait", "config": {"signal": "go"}}], "edges": []}
    workflow_id = api_client.post("/api/workflows", {"definition": definition, "name": "Gate"}, format="json").json()[
        "id"
    ]
    run_id = execute(api_client, workflow_id)["id"]
    response = api_client.post(f"/api/executions/{run_id}/cancel")
    assert response.status_code == 200
    assert response.json()["run"]["status"] == "cancelled" and Run.objects.get(id=run_id).status == "cancelled"
    again = api_client.post(f"/api/executions/{run_id}/cancel")
    assert again.status_code == 400 and again.json()["error"]["code"] == "run_terminal"


def test_node_types_are_listed_with_their_schemas(api_client):
    types = api_client.get("/api/node-types").json()["node_types"]
    assert "http_request" in {t["type"] for t in types}
    assert api_client.get("/api/node-types/http_request").status_code == 200
    assert api_client.get("/api/node-types/http_request/schema").json()["type"] == "object"


def test_another_tenants_execution_is_404(api_client, outsider):
    workflow_id = sentiment_workflow(api_client)
    run_id = execute(api_client, workflow_id)["id"]
    stranger = client_for(outsider)
    assert stranger.get(f"/api/executions/{run_id}").status_code == 404
    assert stranger.post(f"/api/executions/{run_id}/cancel").status_code == 404
    assert stranger.get("/api/executions").json() == {"runs": [], "total": 0}
    api_client.post(f"/api/executions/{run_id}/cancel")
