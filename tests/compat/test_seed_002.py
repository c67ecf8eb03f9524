"""Seed 002 (the workflow editor's API): its request bodies and answers read from the document.

Where its path is a canonical one, the canonical status and envelope stay and the seed's fields
sit beside them (SPEC 14); its own paths answer its camelCase shapes and bare arrays.
``/code``, ``/download`` and ``/api/ai/generate`` are the authoring package's services (code export,
streamed generation); ``/api/ai/generate`` tells its operations in the editor's words.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import zipfile

import pytest
from rest_framework.test import APIClient

from integrations.models import Integration
from runs.models import Run
from runs.services import run_cancel, run_create
from tests.compat.seed_documents import assert_documented_fields, document, json_after
from tests.engine.conftest import wait_for_run
from tests.unit.seeds import EDITOR_WORKFLOW
from workflows.models import Workflow
from workflows.services import workflow_create

DOC = document("002")


def body_after(anchor: str) -> dict | list:
    """The first JSON value after ``anchor`` in the document (a request body or an answer)."""
    return json_after(DOC, anchor)[0]


def prose_fields(anchor: str) -> list[str]:
    """The field names a "Response: … with a, b, c." or "Returns …: a, b, c." sentence lists."""
    listed = re.compile(r"(?:with|profile:) ([A-Za-z, ]+)\.").search(DOC, DOC.index(anchor)).group(1)
    return [name.strip() for name in listed.split(",")]


def create(client, body: dict | None = None):
    return client.post("/api/workflows/create", body or body_after("POST /api/workflows/create"), format="json")


def steps_of(workflow_id: str) -> list[dict]:
    return Workflow.objects.get(id=workflow_id).definition["steps"]


# --- workflows ------------------------------------------------------------------------------------


def test_create_adds_a_manual_trigger_when_none_is_given(api_client, member):
    body = body_after("POST /api/workflows/create")
    assert body == {"name": "My Workflow", "description": "Optional description", "nodes": [], "edges": []}
    response = create(api_client, body)
    assert response.status_code == 200, response.content
    workflow = response.json()
    assert set(workflow) >= {"id", "name", "description", "nodes", "edges", "visibility", "createdAt", "updatedAt"}
    assert (workflow["name"], workflow["description"], workflow["visibility"]) == (
        "My Workflow",
        "Optional description",
        "private",
    )
    (trigger,) = workflow["nodes"]
    assert trigger["type"] == "trigger" and trigger["data"]["type"] == "manual_trigger"
    assert [s["type"] for s in steps_of(workflow["id"])] == ["manual_trigger"]
    assert Workflow.objects.get(id=workflow["id"]).created_by_id == member.id


def test_create_wires_the_added_trigger_to_the_first_nodes_and_keeps_a_given_one(api_client):
    without_trigger = {**EDITOR_WORKFLOW, "name": "No trigger", "nodes": EDITOR_WORKFLOW["nodes"][1:]}
    without_trigger["edges"] = [e for e in EDITOR_WORKFLOW["edges"] if e["source"] != "trigger"]
    created = create(api_client, without_trigger).json()
    steps = {s["id"]: s for s in steps_of(created["id"])}
    assert steps["trigger"]["type"] == "manual_trigger" and steps["fetch"]["depends_on"] == ["trigger"]
    assert steps["summarize"]["depends_on"] == ["fetch"]

    kept = create(api_client, EDITOR_WORKFLOW).json()
    assert [s["id"] for s in steps_of(kept["id"])] == ["trigger", "fetch", "summarize"]


def test_create_needs_a_name_and_refuses_a_taken_one(api_client):
    assert create(api_client, {"nodes": [], "edges": []}).status_code == 400
    assert create(api_client).status_code == 200
    response = create(api_client)
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"


def test_get_carries_nodes_edges_and_visibility_beside_the_canonical_definition(api_client):
    created = create(api_client, EDITOR_WORKFLOW).json()
    response = api_client.get(f"/api/workflows/{created['id']}")
    assert response.status_code == 200
    workflow = response.json()["workflow"]
    assert workflow["definition"]["steps"][1]["type"] == "http_request"
    assert workflow["visibility"] == "private"
    assert [n["id"] for n in workflow["nodes"]] == ["trigger", "fetch", "summarize"]
    assert [n["data"]["type"] for n in workflow["nodes"]] == ["manual_trigger", "http_request", "agent_task"]
    assert [(e["source"], e["target"]) for e in workflow["edges"]] == [("trigger", "fetch"), ("fetch", "summarize")]
    assert workflow["nodes"] == created["nodes"] and workflow["edges"] == created["edges"]


def test_patch_takes_the_documented_fields_and_nodes_make_a_new_version(api_client):
    created = create(api_client, EDITOR_WORKFLOW).json()
    body = body_after("PATCH /api/workflows/{workflowId}")
    assert body["nodes"] == [] and body["edges"] == []  # the document elides them ("[...]")
    # The editor sends its whole graph back: here the workflow's own, with one more node.
    extra = {"id": "tidy", "type": "action", "data": {"label": "Tidy", "type": "transform", "config": {"value": 1}}}
    body = {
        **body,
        "nodes": [*created["nodes"], extra],
        "edges": [*created["edges"], {"source": "summarize", "target": "tidy"}],
    }
    response = api_client.patch(f"/api/workflows/{created['id']}", body, format="json")
    assert response.status_code == 200, response.content
    workflow = response.json()["workflow"]
    assert (workflow["name"], workflow["description"], workflow["visibility"]) == (
        "Updated Name",
        "Updated description",
        "public",
    )
    assert workflow["version"] == 2 and workflow["nodes"][-1]["id"] == "tidy"
    assert steps_of(created["id"])[-1] == {
        "id": "tidy",
        "type": "transform",
        "name": "Tidy",
        "config": {"value": 1},
        "depends_on": ["summarize"],
    }
    unchanged = api_client.patch(f"/api/workflows/{created['id']}", {"nodes": workflow["nodes"]}, format="json")
    assert unchanged.json()["workflow"]["version"] == 2  # the same graph is the same definition


def test_patch_refuses_nodes_together_with_a_definition(api_client, workflow):
    response = api_client.patch(
        f"/api/workflows/{workflow.id}", {"nodes": [], "definition": workflow.definition}, format="json"
    )
    assert response.status_code == 400


def test_duplicate_gives_new_node_ids_strips_integrations_and_is_private(api_client, member):
    original = workflow_create(
        user=member,
        name="Fetch and notify",
        visibility="public",
        definition={
            "steps": [
                {
                    "id": "fetch",
                    "type": "http_request",
                    "config": {"url": "https://example.com", "integration_id": "int_x"},
                },
                {
                    "id": "check",
                    "type": "condition",
                    "depends_on": ["fetch"],
                    "config": {"expression": "steps.fetch.output.status_code == 200", "then": ["notify"], "else": []},
                },
                {
                    "id": "notify",
                    "type": "agent_task",
                    "depends_on": ["check"],
                    "when": "{{ steps['fetch'].output.status_code == 200 }}",
                    "config": {"agent_id": "agent_123", "goal": "Summarize {{ steps.fetch.output.body | tojson }}"},
                },
            ],
            "outputs": {"summary": "{{ steps.notify.output.text }}"},
        },
    )
    response = api_client.post(f"/api/workflows/{original.id}/duplicate", {}, format="json")
    assert response.status_code == 201, response.content
    copy = response.json()["workflow"]
    assert copy["visibility"] == "private" and copy["status"] == "draft"
    fetch, check, notify = copy["definition"]["steps"]
    assert fetch["id"] != "fetch" and fetch["id"].startswith("fetch_") and fetch["name"] == "fetch"
    assert "integration_id" not in fetch["config"] and "agent_id" not in notify["config"]
    assert check["depends_on"] == [fetch["id"]] and notify["depends_on"] == [check["id"]]
    assert check["config"]["then"] == [notify["id"]]
    assert check["config"]["expression"] == f"steps.{fetch['id']}.output.status_code == 200"
    assert notify["when"] == f"{{{{ steps['{fetch['id']}'].output.status_code == 200 }}}}"
    assert notify["config"]["goal"] == f"Summarize {{{{ steps.{fetch['id']}.output.body | tojson }}}}"
    assert copy["definition"]["outputs"] == {"summary": f"{{{{ steps.{notify['id']}.output.text }}}}"}
    assert [n["id"] for n in copy["nodes"]] == [fetch["id"], check["id"], notify["id"]]
    assert Workflow.objects.get(id=original.id).definition["steps"][0]["id"] == "fetch"


# --- executions (a real worker) -------------------------------------------------------------------


@pytest.mark.engine
@pytest.mark.django_db(transaction=True)
def test_a_webhook_run_reads_back_as_executions_status_and_redacted_logs(
    api_client, admin_key, member, http_server, shared_worker
):
    http_server.routes["/data"] = (200, {"ok": True, "token": "abc-secret-value"})
    workflow = workflow_create(
        user=member,
        name="Hook",
        trigger_type="webhook",
        definition={
            "nodes": [
                {"id": "node1", "type": "http_request", "name": "Fetch", "config": {
                    "url": f"{http_server.url}/data", "headers": {"Authorization": "Bearer sk-live-0123456789abcdef"}}},
                {"id": "node2", "type": "transform", "input_from": "node1", "config": {"value": "{{ input.event }}"}},
            ]
        },
    )  # fmt: skip
    webhook = APIClient().post(
        f"/api/workflows/{workflow.id}/webhook",
        {"event": "order.created"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {admin_key}",
    )
    assert webhook.status_code == 202
    documented_webhook = body_after("Response (200):")
    assert_documented_fields(webhook.json(), documented_webhook)
    execution_id = webhook.json()["executionId"]
    assert webhook.json() == {"run_id": execution_id, "executionId": execution_id, "status": "running"}
    wait_for_run(execution_id)

    status = api_client.get(f"/api/workflows/executions/{execution_id}/status")
    documented_status = body_after("GET /api/workflows/executions/{executionId}/status")
    assert status.status_code == 200
    assert_documented_fields(status.json(), documented_status)
    assert status.json() == {
        "id": execution_id,
        "status": "success",
        "nodeStatuses": {"node1": "success", "node2": "success"},
    }

    logs = api_client.get(f"/api/workflows/executions/{execution_id}/logs")
    documented_logs = body_after("GET /api/workflows/executions/{executionId}/logs")
    assert logs.status_code == 200 and isinstance(logs.json(), list)
    assert_documented_fields(logs.json(), documented_logs)
    first = logs.json()[0]
    assert (first["nodeId"], first["nodeName"], first["nodeType"], first["status"]) == (
        "node1",
        "Fetch",
        "http_request",
        "success",
    )
    assert first["duration"].isdigit()
    text = logs.content.decode()
    assert "sk-live-0123456789abcdef" not in text and "abc-secret-value" not in text and "[REDACTED]" in text

    executions = api_client.get(f"/api/workflows/{workflow.id}/executions")
    assert executions.status_code == 200
    (listed,) = executions.json()
    assert set(prose_fields("GET /api/workflows/{workflowId}/executions")) <= set(listed)
    assert (listed["id"], listed["status"], listed["input"]) == (execution_id, "success", {"event": "order.created"})
    assert listed["output"] == {"node2": "order.created"} and listed["error"] is None and listed["duration"].isdigit()


def test_executions_list_the_50_newest_with_seed_statuses_and_delete_keeps_active_ones(api_client, member):
    workflow = workflow_create(
        user=member, name="Gate", definition={"steps": [{"id": "gate", "type": "wait", "config": {"signal": "go"}}]}
    )
    runs = [run_create(workflow=workflow, inputs={"n": n}, user=member) for n in range(52)]
    for run in runs[:51]:
        run_cancel(run=run)
    Run.objects.filter(id=runs[-2].id).update(status="timed_out")
    listed = api_client.get(f"/api/workflows/{workflow.id}/executions").json()
    assert len(listed) == 50 and [e["id"] for e in listed] == [r.id for r in reversed(runs[2:])]
    assert [e["status"] for e in listed[:3]] == ["running", "error", "cancelled"]
    status = api_client.get(f"/api/workflows/executions/{runs[-1].id}/status").json()
    assert status["status"] == "running" and status["nodeStatuses"]["gate"] in ("pending", "running")

    deleted = api_client.delete(f"/api/workflows/{workflow.id}/executions")
    assert deleted.status_code == 200 and deleted.json() == {"success": True, "deleted": 51, "active": 1}
    assert list(Run.objects.values_list("id", flat=True)) == [runs[-1].id]


def test_executions_of_another_tenant_are_404(api_client, other_tenant_workflow, outsider):
    run = run_create(workflow=other_tenant_workflow, inputs={}, user=outsider)
    assert api_client.get(f"/api/workflows/{other_tenant_workflow.id}/executions").status_code == 404
    assert api_client.delete(f"/api/workflows/{other_tenant_workflow.id}/executions").status_code == 404
    assert api_client.get(f"/api/workflows/executions/{run.id}/status").status_code == 404
    assert api_client.get(f"/api/workflows/executions/{run.id}/logs").status_code == 404
    assert Run.objects.filter(id=run.id).exists()


# --- code export and AI generation (the authoring package's services) ------------------------------


def documented_operations() -> list[tuple[str, str, type]]:
    """``(op, payload key, payload kind)`` of each line the document shows under "Streamed JSONL"."""
    lines = DOC[DOC.index("Response: Streamed JSONL") :].split("See AI Generation")[0]
    found = re.findall(r'\{"op": "(\w+)", "(\w+)": ([{"])', lines)
    return [(op, key, dict if start == "{" else str) for op, key, start in found]


def generated(response) -> list[dict]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/x-ndjson"
    body = b"".join(response.streaming_content).decode()
    assert body.endswith("\n")
    return [json.loads(line) for line in body.splitlines()]


def test_ai_generate_streams_the_documented_operations_as_editor_nodes(api_client):
    body = body_after("POST /api/ai/generate")
    assert body == {"prompt": "Create a workflow that scrapes a URL and summarizes the content"}
    documented = documented_operations()
    assert [(op, key) for op, key, _ in documented] == [
        ("setName", "name"),
        ("setDescription", "description"),
        ("addNode", "node"),
        ("addEdge", "edge"),
    ]
    ops = generated(api_client.post("/api/ai/generate", body, format="json"))
    assert [op["op"] for op in ops[:2]] == ["setName", "setDescription"]
    assert isinstance(ops[0]["name"], str) and ops[0]["name"] and isinstance(ops[1]["description"], str)
    for op, key, kind in documented:
        shown = [line[key] for line in ops if line["op"] == op]
        assert shown and all(isinstance(value, kind) for value in shown), op
    nodes = [op["node"] for op in ops if op["op"] == "addNode"]
    edges = [op["edge"] for op in ops if op["op"] == "addEdge"]
    assert [n["data"]["type"] for n in nodes] == ["http_request", "agent_task"]
    assert all(set(n) >= {"id", "type", "data", "position"} and n["data"]["label"] for n in nodes)
    assert edges == [{"id": f"{nodes[0]['id']}->{nodes[1]['id']}", "source": nodes[0]["id"], "target": nodes[1]["id"]}]
    assert "addStep" not in {op["op"] for op in ops} and ops[-1]["op"] == "done"
    # What the editor builds from the stream is a workflow it can create (a manual trigger is added).
    created = create(api_client, {"name": ops[0]["name"], "nodes": nodes, "edges": edges})
    assert created.status_code == 200, created.content
    steps = steps_of(created.json()["id"])
    assert [s["type"] for s in steps] == ["manual_trigger", "http_request", "agent_task"]
    assert steps[2]["depends_on"] == [steps[1]["id"]]


def test_the_openapi_example_of_ai_generate_is_what_it_streams(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/ai/generate"]["post"]
    body = body_after("POST /api/ai/generate")
    assert operation["requestBody"]["content"]["application/json"]["examples"]["Seed002"]["value"] == body
    shown = operation["responses"]["200"]["content"]["application/x-ndjson"]["examples"]["Operations"]["value"]
    streamed = generated(api_client.post("/api/ai/generate", body, format="json"))
    timeless = [{k: v for k, v in op.items() if k != "parse_time_ms"} for op in streamed]
    assert timeless == [
        {k: v for k, v in json.loads(line).items() if k != "parse_time_ms"} for line in shown.splitlines()
    ]


def test_ai_generate_refuses_a_bad_prompt_before_streaming_and_an_anonymous_caller(api_client):
    response = api_client.post("/api/ai/generate", {"prompt": "abc"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "prompt"
    anonymous = APIClient().post("/api/ai/generate", body_after("POST /api/ai/generate"), format="json")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"]


def test_nonsense_ends_the_generated_stream_with_an_error_line(api_client):
    ops = generated(api_client.post("/api/ai/generate", {"prompt": "lorem ipsum dolor sit amet"}, format="json"))
    assert [op["op"] for op in ops] == ["error"] and ops[0]["code"] == "instruction_not_understood"


def test_code_and_download_export_a_workflow_made_by_the_editor(api_client):
    workflow_id = create(api_client, EDITOR_WORKFLOW).json()["id"]
    typescript = api_client.get(f"/api/workflows/{workflow_id}/code", {"language": "typescript"})
    assert typescript.status_code == 200 and typescript["Content-Type"].startswith("application/typescript")
    assert f'const WORKFLOW_ID = "{workflow_id}";' in typescript.content.decode()
    python = api_client.get(f"/api/workflows/{workflow_id}/code")  # the canonical default
    assert python.status_code == 200 and python["Content-Type"].startswith("text/x-python")
    compile(python.content.decode(), "exported.py", "exec")
    download = api_client.get(f"/api/workflows/{workflow_id}/download", {"language": "typescript"})
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    names = {n.rsplit("/", 1)[-1] for n in zipfile.ZipFile(io.BytesIO(download.content)).namelist()}
    assert {"README.md", "package.json", "tsconfig.json"} <= names and any(n.endswith(".ts") for n in names)


def test_code_and_download_of_another_tenants_workflow_are_404(api_client, other_tenant_workflow):
    for path in ("code", "download"):
        response = api_client.get(f"/api/workflows/{other_tenant_workflow.id}/{path}", {"language": "typescript"})
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


# --- integrations, API keys, the user -------------------------------------------------------------


def test_the_documented_integration_body_creates_an_integration_whose_config_is_never_listed(admin_client, settings):
    settings.ORCHESTRATOR_ENCRYPTION_KEYS = base64.b64encode(os.urandom(32)).decode()
    body = body_after("POST /api/integrations")
    response = admin_client.post("/api/integrations", body, format="json")
    assert response.status_code == 201, response.content
    assert Integration.objects.get().type == "slack"
    listed = admin_client.get("/api/integrations", {"type": "slack"})
    assert listed.status_code == 200 and "xoxb-your-slack-token" not in listed.content.decode()


def test_api_keys_carry_the_documented_camel_case_fields(admin_client):
    body = body_after("POST /api/api-keys")
    assert body == {"name": "production-webhook-key"}
    created = admin_client.post("/api/api-keys", body, format="json")
    assert created.status_code == 201
    documented_created = json_after(DOC, "Response:", start=DOC.index("POST /api/api-keys"))[0]
    assert_documented_fields(created.json(), documented_created)
    assert created.json()["key"].startswith(created.json()["keyPrefix"])

    listed = admin_client.get("/api/api-keys").json()["api_keys"]
    documented_listed = body_after("GET /api/api-keys")
    assert_documented_fields(listed, documented_listed, nullable=frozenset({"lastUsedAt"}))
    assert listed[0]["keyPrefix"] == listed[0]["key_prefix"] and listed[0]["createdAt"] == listed[0]["created_at"]


def test_the_user_carries_the_documented_profile_fields_and_takes_the_documented_patch(api_client, member):
    user = api_client.get("/api/user").json()["user"]
    assert set(prose_fields("GET /api/user")) <= set(user)
    assert (user["id"], user["image"], user["isAnonymous"], user["providerId"]) == (
        member.id,
        None,
        False,
        "credential",
    )
    body = body_after("PATCH /api/user")
    assert api_client.patch("/api/user", body, format="json").json()["user"]["name"] == "New Name"
