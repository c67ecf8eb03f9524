"""POST /api/workflows/generate: JSON Lines operations that rebuild what parse answers."""

from __future__ import annotations

import json

import pytest

from orchestrator.authoring.generation import operations_apply
from orchestrator.definitions import definition_normalize

pytestmark = pytest.mark.django_db


def lines(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    assert body.endswith("\n")
    return [json.loads(line) for line in body.splitlines()]


def test_the_stream_rebuilds_the_parse_result(api_client):
    prompt = "Every weekday at 8:30 fetch https://api.example.com/orders and post a summary to #ops"
    response = api_client.post("/api/workflows/generate", {"prompt": prompt}, format="json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    ops = lines(response)
    assert [op["op"] for op in ops[:3]] == ["setName", "setDescription", "setSchedule"]
    assert ops[2]["schedule"]["cron_expression"] == "30 8 * * 1-5"
    assert [op["op"] for op in ops[3:]] == ["addStep", "addStep", "addEdge", "addStep", "addEdge", "done"]
    parsed = api_client.post("/api/workflows/parse", {"instruction": prompt}, format="json").json()["workflow"]
    done = ops[-1]["workflow"]
    assert done["steps"] == parsed["steps"] and done["name"] == parsed["name"]
    rebuilt = definition_normalize(operations_apply(ops))
    assert rebuilt["steps"] == definition_normalize(parsed)["steps"]
    assert rebuilt["name"] == parsed["name"]


def test_the_seed_002_prompt_streams_a_scrape_and_summarize_workflow(api_client):
    body = {"prompt": "Create a workflow that scrapes a URL and summarizes the content"}
    ops = lines(api_client.post("/api/workflows/generate", body, format="json"))
    steps = [op["step"] for op in ops if op["op"] == "addStep"]
    assert [s["type"] for s in steps] == ["http_request", "agent_task"]
    assert steps[0]["config"]["url"] == "{{ input.url }}"
    assert ops[-1]["op"] == "done" and ops[-1]["workflow"]["inputs"]["required"] == ["url"]
    assert any(op["op"] == "setInputs" for op in ops)


def test_an_error_after_the_stream_began_is_its_last_line(api_client):
    response = api_client.post("/api/workflows/generate", {"prompt": "lorem ipsum dolor sit amet"}, format="json")
    assert response.status_code == 200
    ops = lines(response)
    assert len(ops) == 1
    assert ops[0]["op"] == "error" and ops[0]["code"] == "instruction_not_understood" and ops[0]["message"]


def test_a_bad_prompt_is_a_400_before_anything_streams(api_client):
    response = api_client.post(
        "/api/workflows/generate", {"prompt": "abc"}, format="json", HTTP_ACCEPT="application/x-ndjson"
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "prompt"


def test_the_nodes_flavor_speaks_seed_002_and_loads_back(tenant):
    from orchestrator.authoring.generation import generation_start

    ops = list(
        generation_start(tenant=tenant, prompt="Fetch https://api.example.com/data, summarize it", flavor="nodes")
    )
    nodes = [op["node"] for op in ops if op["op"] == "addNode"]
    edges = [op["edge"] for op in ops if op["op"] == "addEdge"]
    assert nodes[0]["data"]["label"] and nodes[0]["position"] == {"x": 0, "y": 0}
    assert edges == [{"id": f"{nodes[0]['id']}->{nodes[1]['id']}", "source": nodes[0]["id"], "target": nodes[1]["id"]}]
    rebuilt = definition_normalize({"name": "x", "nodes": nodes, "edges": edges})
    assert rebuilt["steps"] == definition_normalize(ops[-1]["workflow"])["steps"]
