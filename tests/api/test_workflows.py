"""The workflows API of SPEC section 5, against real PostgreSQL."""

from __future__ import annotations

import copy

import pytest
import yaml

from workflows.api.examples import DEPLOY_NOTIFICATION, FETCH_AND_NOTIFY
from workflows.models import Workflow

pytestmark = pytest.mark.django_db

SEED_002 = {
    "name": "My Workflow",
    "definition": {
        "nodes": [
            {"id": "trigger", "type": "manual_trigger", "config": {}},
            {"id": "call", "type": "http_request", "config": {"method": "POST", "url": "https://example.com/hook"}},
        ],
        "edges": [{"id": "e1", "source": "trigger", "target": "call"}],
    },
}


def create(client, body=None, **overrides):
    payload = copy.deepcopy(body or FETCH_AND_NOTIFY)
    payload.update(overrides)
    response = client.post("/api/workflows", payload, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def changed(definition: dict, url: str) -> dict:
    new = copy.deepcopy(definition)
    new["steps"][0]["config"]["url"] = url
    return new


def test_seed_fetch_and_notify_creates_201_with_id_and_canonical_workflow(api_client, tenant):
    body = create(api_client)
    workflow = body["workflow"]
    assert body["id"].startswith("wf_") and workflow["id"] == body["id"]
    assert workflow["name"] == "Fetch and notify"
    assert workflow["version"] == 1 and workflow["trigger_type"] == "manual" and workflow["tags"] == ["notifications"]
    steps = workflow["definition"]["steps"]
    assert [s["id"] for s in steps] == ["fetch", "notify"]
    assert steps[1]["depends_on"] == ["fetch"]
    assert api_client.get(f"/api/workflows/{body['id']}").json()["workflow"]["definition"] == workflow["definition"]


def test_seed_nodes_with_input_from_and_action_read_back_canonical(api_client):
    workflow = create(api_client, DEPLOY_NOTIFICATION)["workflow"]
    definition = workflow["definition"]
    assert "nodes" not in definition
    step_1, step_2 = definition["steps"]
    assert step_1["config"]["action"] == "check_status"
    assert step_2["depends_on"] == ["step_1"]
    assert step_2["config"]["action"] == "slack.post_message"
    assert workflow["description"] == "Notify the team when a deployment completes"


def test_seed_nodes_and_edges_become_depends_on(api_client):
    definition = create(api_client, SEED_002)["workflow"]["definition"]
    assert definition["steps"][1]["depends_on"] == ["trigger"]
    assert "edges" not in definition


def test_a_duplicate_name_in_the_tenant_is_409(api_client):
    create(api_client)
    response = api_client.post("/api/workflows", FETCH_AND_NOTIFY, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_an_invalid_definition_is_400_listing_every_problem(api_client):
    definition = {
        "name": "Broken",
        "steps": [
            {"id": "a", "type": "http_request", "config": {"url": "https://x"}, "depends_on": ["ghost"]},
            {"id": "b", "type": "no_such_type", "config": {}},
        ],
    }
    response = api_client.post("/api/workflows", {"definition": definition}, format="json")
    assert response.status_code == 400
    messages = [d["message"] for d in response.json()["error"]["details"]]
    assert "Step 'a' depends on 'ghost' which doesn't exist" in messages
    assert any("no_such_type" in m for m in messages)
    assert not Workflow.objects.filter(name="Broken").exists()


def test_list_is_newest_first_and_filters_by_status_trigger_tag_and_search(api_client):
    first = create(api_client, name="Alpha report", tags=["etl"])["id"]
    second = create(api_client, name="Beta sync", status="paused", trigger_type="webhook")["id"]
    listed = api_client.get("/api/workflows").json()
    assert [w["id"] for w in listed["workflows"]] == [second, first] and listed["total"] == 2
    assert "definition" not in listed["workflows"][0]
    assert [w["id"] for w in api_client.get("/api/workflows?status=paused").json()["workflows"]] == [second]
    assert [w["id"] for w in api_client.get("/api/workflows?trigger_type=webhook").json()["workflows"]] == [second]
    assert [w["id"] for w in api_client.get("/api/workflows?tag=etl").json()["workflows"]] == [first]
    assert [w["id"] for w in api_client.get("/api/workflows?search=alpha").json()["workflows"]] == [first]


def test_put_with_a_changed_definition_makes_a_new_version(api_client):
    body = create(api_client)
    new_definition = changed(body["workflow"]["definition"], "https://example.com/v2")
    response = api_client.put(
        f"/api/workflows/{body['id']}",
        {"definition": new_definition, "change_summary": "New URL"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["workflow"]["version"] == 2
    versions = api_client.get(f"/api/workflows/{body['id']}/versions").json()["versions"]
    assert [(v["version"], v["change_summary"]) for v in versions] == [(2, "New URL"), (1, "Initial version")]


def test_put_with_the_same_definition_makes_no_new_version(api_client):
    body = create(api_client)
    response = api_client.put(
        f"/api/workflows/{body['id']}", {"definition": body["workflow"]["definition"]}, format="json"
    )
    assert response.json()["workflow"]["version"] == 1


def test_patch_renames_without_a_new_version(api_client):
    body = create(api_client)
    response = api_client.patch(f"/api/workflows/{body['id']}", {"name": "Renamed"}, format="json")
    assert response.status_code == 200
    assert response.json()["workflow"]["name"] == "Renamed"
    assert response.json()["workflow"]["version"] == 1


def test_status_endpoint_sets_each_status_and_rejects_others(api_client):
    wf_id = create(api_client)["id"]
    for status in ("draft", "active", "paused", "archived"):
        response = api_client.patch(f"/api/workflows/{wf_id}/status", {"status": status}, format="json")
        assert response.json()["workflow"]["status"] == status
    assert api_client.patch(f"/api/workflows/{wf_id}/status", {"status": "gone"}, format="json").status_code == 400


def test_delete_removes_the_workflow_and_its_versions(api_client):
    wf_id = create(api_client)["id"]
    assert api_client.delete(f"/api/workflows/{wf_id}").status_code == 204
    assert api_client.get(f"/api/workflows/{wf_id}").status_code == 404
    assert not Workflow.objects.filter(id=wf_id).exists()


def test_validate_answers_valid_and_lists_seed_worded_errors(api_client):
    ok = api_client.post("/api/workflows/validate", {"definition": FETCH_AND_NOTIFY["definition"]}, format="json")
    assert ok.json() == {"valid": True, "errors": []}
    cyclic = {
        "steps": [
            {"id": "step_a", "type": "transform", "config": {"value": 1}, "depends_on": ["step_b"]},
            {"id": "step_b", "type": "transform", "config": {"value": 2}, "depends_on": ["step_a"]},
            {"id": "notify", "type": "transform", "config": {"value": 3}, "depends_on": ["fetch"]},
        ]
    }
    result = api_client.post("/api/workflows/validate", {"definition": cyclic}, format="json").json()
    assert result["valid"] is False
    assert "Step 'notify' depends on 'fetch' which doesn't exist" in result["errors"]
    assert any(e.startswith("Cycle detected: step_a → step_b → step_a") for e in result["errors"])


def test_duplicate_is_a_draft_copy_without_integrations(api_client):
    body = create(api_client)
    response = api_client.post(f"/api/workflows/{body['id']}/duplicate", {}, format="json")
    assert response.status_code == 201
    copy_ = response.json()["workflow"]
    assert copy_["name"] == "Fetch and notify (copy)" and copy_["status"] == "draft"
    assert "agent_id" not in copy_["definition"]["steps"][1]["config"]
    again = api_client.post(f"/api/workflows/{body['id']}/duplicate", {}, format="json").json()
    assert again["workflow"]["name"] == "Fetch and notify (copy 2)"


def test_version_diff_and_rollback_round_trip_exactly(api_client):
    body = create(api_client)
    wf_id, v1_definition = body["id"], body["workflow"]["definition"]
    v2_definition = changed(v1_definition, "https://new-url.com")
    v2_definition["steps"].append({"id": "extra", "type": "transform", "config": {"value": 1}, "depends_on": ["fetch"]})
    api_client.put(f"/api/workflows/{wf_id}", {"definition": v2_definition}, format="json")

    diff = api_client.get(f"/api/workflows/{wf_id}/diff?v1=1&v2=2").json()
    assert diff["v1"] == 1 and diff["v2"] == 2
    assert diff["summary"] == "Added 1 step, modified 1 step"
    assert {"op": "replace", "path": "/steps/0/config/url", "value": "https://new-url.com"} in diff["diff"]
    assert any(op["op"] == "add" and op["path"] == "/steps/2" for op in diff["diff"])

    rolled = api_client.post(f"/api/workflows/{wf_id}/rollback", {"version": 1}, format="json")
    assert rolled.status_code == 200
    assert rolled.json()["workflow"]["version"] == 3
    assert rolled.json()["workflow"]["definition"] == v1_definition
    v1 = api_client.get(f"/api/workflows/{wf_id}/versions/1").json()["version"]
    v3 = api_client.get(f"/api/workflows/{wf_id}/versions/3").json()["version"]
    assert v1["definition"] == v3["definition"] == v1_definition
    assert api_client.get(f"/api/workflows/{wf_id}/diff?v1=1&v2=3").json() == {
        "diff": [],
        "summary": "No changes",
        "v1": 1,
        "v2": 3,
    }


def test_diff_and_rollback_reject_bad_versions(api_client):
    wf_id = create(api_client)["id"]
    assert api_client.get(f"/api/workflows/{wf_id}/diff?v1=1").status_code == 400
    assert api_client.get(f"/api/workflows/{wf_id}/diff?v1=1&v2=9").status_code == 404
    assert api_client.post(f"/api/workflows/{wf_id}/rollback", {"version": 9}, format="json").status_code == 404
    assert api_client.get(f"/api/workflows/{wf_id}/versions/9").status_code == 404


def test_schema_gives_input_schema_and_outputs_of_sink_steps(api_client):
    definition = copy.deepcopy(FETCH_AND_NOTIFY["definition"])
    definition["inputs"] = {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]}
    wf_id = create(api_client, {"definition": definition})["id"]
    schema = api_client.get(f"/api/workflows/{wf_id}/schema").json()
    assert schema["inputs"]["required"] == ["url"]
    assert list(schema["outputs"]["properties"]) == ["notify"]


def test_export_then_import_as_json_and_yaml_round_trips(api_client):
    body = create(api_client)
    exported = api_client.get(f"/api/workflows/{body['id']}/export").json()
    assert exported["definition"] == body["workflow"]["definition"]
    api_client.delete(f"/api/workflows/{body['id']}")
    imported = api_client.post("/api/workflows/import", exported, format="json")
    assert imported.status_code == 201
    assert imported.json()["workflow"]["definition"] == body["workflow"]["definition"]

    as_yaml = api_client.get(f"/api/workflows/{imported.json()['id']}/export?format=yaml")
    assert as_yaml["Content-Type"].startswith("application/yaml")
    document = yaml.safe_load(as_yaml.content)
    assert document["definition"] == body["workflow"]["definition"]
    again = api_client.post("/api/workflows/import?name=From%20YAML", as_yaml.content, content_type="application/yaml")
    assert again.status_code == 201 and again.json()["workflow"]["name"] == "From YAML"


def test_import_of_garbage_is_400(api_client):
    response = api_client.post("/api/workflows/import", "steps: [unclosed", content_type="application/yaml")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"validation_error", "parse_error"}
