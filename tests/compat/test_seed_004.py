"""Seed 004 (Workflows API v2, ``/api/v2/workflows``): every example of the document, sent as the
document writes it (tests/compat/seed_documents.py), answered in the document's shape.

``POST /parse`` is the authoring package's parse service behind this surface's envelope.
"""

from __future__ import annotations

import json

import pytest

from runs.models import Run
from runs.services import run_create
from tests.compat.seed_documents import assert_documented_fields, curl_examples, document, example
from tests.engine.conftest import wait_for_run
from workflows.models import Schedule, Workflow
from workflows.services import workflow_create

DOC = document("004")
EXAMPLES = curl_examples(DOC)
WF = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"  # the document's workflow
NEW_WF = "c3d4e5f6-a7b8-9012-cdef-345678901234"  # the one its create example makes
RUN = "e5f6a7b8-c9d0-1234-ef56-789012345678"
SCHEDULE = "f6a7b8c9-d0e1-2345-f678-901234567890"
BASE = "/api/v2/workflows"


def documented_inputs() -> dict:
    schema_example = example(EXAMPLES, "GET", rf"{BASE}/{WF}/schema")
    return schema_example.answer["schema"]["inputs"]


def sales_definition() -> dict:
    """The document's "Weekly Sales Report", with steps that run here without the outside world."""
    return {
        "nodes": [
            {"id": "step_1", "type": "transform", "config": {"value": "{{ input.date_range }}"}},
            {
                "id": "step_2",
                "type": "transform",
                "input_from": "step_1",
                "config": {"value": "Sales summary for {{ steps.step_1.output }}"},
            },
            {"id": "step_3", "type": "transform", "input_from": "step_2", "config": {"value": True}},
        ],
        "inputs": documented_inputs(),
        "outputs": {"report": "{{ steps.step_2.output }}", "email_sent": "{{ steps.step_3.output }}"},
    }


@pytest.fixture
def sales_report(member) -> Workflow:
    return workflow_create(user=member, definition=sales_definition(), name="Weekly Sales Report")


def failure(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False and isinstance(body["error"], str) and body["error"]
    return body


# --- health and authentication ----------------------------------------------------------------------


def test_health_is_public_and_answers_the_documented_fields(send, db):
    documented = example(EXAMPLES, "GET", rf"{BASE}/health")
    response = send(documented)
    assert response.status_code == documented.status == 200
    body = response.json()
    assert_documented_fields(body, documented.answer)
    assert body["status"] in ("ok", "degraded")
    assert (body["service"], body["version"]) == (documented.answer["service"], documented.answer["version"])


def test_without_credentials_every_authenticated_path_is_401_in_the_seed_envelope(send, sales_report):
    # The document's other IDs become well-formed ones that name nothing: an ID of another shape
    # cannot exist, and its path is a 404 before any authentication (orchestrator/api/converters.py).
    ids = {WF: sales_report.id, NEW_WF: "wf_" + "0" * 26, RUN: "run_" + "0" * 26, SCHEDULE: "sched_" + "0" * 26}
    for documented in EXAMPLES:
        if documented.path.endswith("/health"):
            continue
        anonymous = type(documented)(documented.method, documented.url, {}, documented.body)
        failure(send(anonymous, ids=ids), 401)


# --- workflow CRUD ----------------------------------------------------------------------------------


def test_list_answers_workflows_with_the_definition_as_json_text_and_a_count(send, member_key, sales_report):
    documented = example(EXAMPLES, "GET", rf"{BASE}\?status=active&limit=10")
    response = send(documented, member_key)
    assert response.status_code == documented.status
    body = response.json()
    assert_documented_fields(body, documented.answer)
    assert body["success"] is True and body["count"] == 1 == len(body["workflows"])
    listed = body["workflows"][0]
    assert listed["id"] == sales_report.id and listed["customer_id"] == sales_report.tenant_id
    assert listed["version"] == "1.0.0" and listed["status"] == "active"
    assert json.loads(listed["definition"])["nodes"][1]["input_from"] == "step_1"


def test_create_answers_the_definition_as_sent_and_409_on_a_duplicate_name(send, member_key, member):
    documented = example(EXAMPLES, "POST", BASE)
    response = send(documented, member_key)
    assert response.status_code == documented.status == 201, response.content
    body = response.json()
    assert_documented_fields(body, documented.answer)
    workflow = body["workflow"]
    for name in ("name", "description", "definition", "version", "status"):
        assert workflow[name] == documented.answer["workflow"][name], name
    assert workflow["definition"] == documented.body["definition"]
    assert (workflow["customer_id"], workflow["created_by"]) == (member.tenant_id, member.id)
    stored = Workflow.objects.get(id=workflow["id"])
    assert stored.semantic_version == "1.0.0"
    assert [s["depends_on"] for s in stored.definition["steps"]] == [[], ["step_1"]]

    again = failure(send(documented, member_key), 409)
    assert "Deploy Notification" in again["error"]


def test_create_without_a_nodes_array_is_400(send, member_key):
    documented = example(EXAMPLES, "POST", BASE)
    broken = type(documented)("POST", documented.url, documented.headers, {**documented.body, "definition": {}})
    failure(send(broken, member_key), 400)
    assert not Workflow.objects.exists()


def test_get_answers_the_workflow_with_its_definition_object(send, member_key, sales_report):
    documented = example(EXAMPLES, "GET", rf"{BASE}/{WF}")
    response = send(documented, member_key, {WF: sales_report.id})
    assert response.status_code == documented.status
    body = response.json()
    assert_documented_fields(body, documented.answer)
    definition = body["workflow"]["definition"]
    assert definition["inputs"] == documented_inputs()
    assert [n.get("input_from") for n in definition["nodes"]] == [None, "step_1", "step_2"]


def test_patch_changes_the_named_fields_and_keeps_the_version_label(send, member_key, sales_report):
    documented = example(EXAMPLES, "PATCH", rf"{BASE}/{WF}")
    ids = {WF: sales_report.id}
    response = send(documented, member_key, ids)
    assert response.status_code == documented.status
    body = response.json()
    assert_documented_fields(body, documented.answer)
    for name in ("name", "status", "version"):
        assert body["workflow"][name] == documented.answer["workflow"][name]

    relabel = type(documented)("PATCH", documented.url, documented.headers, {"version": "2.1.0-beta"})
    assert send(relabel, member_key, ids).json()["workflow"]["version"] == "2.1.0-beta"
    sales_report.refresh_from_db()
    assert (sales_report.semantic_version, sales_report.version) == ("2.1.0-beta", 1)


@pytest.mark.parametrize("patch", [{}, {"colour": "blue"}, {"status": "paused"}])
def test_patch_without_a_valid_field_is_400(send, member_key, sales_report, patch):
    documented = example(EXAMPLES, "PATCH", rf"{BASE}/{WF}")
    failure(
        send(type(documented)("PATCH", documented.url, documented.headers, patch), member_key, {WF: sales_report.id}),
        400,
    )


def test_delete_answers_the_documented_message(send, member_key):
    created = send(example(EXAMPLES, "POST", BASE), member_key).json()["workflow"]["id"]
    documented = example(EXAMPLES, "DELETE", rf"{BASE}/{NEW_WF}")
    response = send(documented, member_key, {NEW_WF: created})
    assert response.status_code == documented.status
    assert response.json() == documented.answer
    failure(send(example(EXAMPLES, "GET", rf"{BASE}/{WF}"), member_key, {WF: created}), 404)


def test_schema_answers_the_input_and_output_schemas(send, member_key, sales_report):
    documented = example(EXAMPLES, "GET", rf"{BASE}/{WF}/schema")
    response = send(documented, member_key, {WF: sales_report.id})
    assert response.status_code == documented.status
    body = response.json()
    assert body["success"] is True
    assert body["schema"]["inputs"] == documented.answer["schema"]["inputs"]
    assert set(body["schema"]["outputs"]["properties"]) == set(documented.answer["schema"]["outputs"]["properties"])


# --- runs (a real worker) ---------------------------------------------------------------------------


@pytest.mark.engine
@pytest.mark.django_db(transaction=True)
def test_execute_runs_the_workflow_and_its_runs_read_back(send, member_key, sales_report, shared_worker):
    documented = example(EXAMPLES, "POST", rf"{BASE}/{WF}/execute")
    ids = {WF: sales_report.id}
    response = send(documented, member_key, ids)
    assert response.status_code == documented.status == 201, response.content
    started = response.json()
    assert_documented_fields(started, documented.answer)
    assert started["run"]["status"] == "running" and started["run"]["finished_at"] is None
    assert started["run"]["inputs"] == documented.body["inputs"]
    assert (started["run"]["workflow_id"], started["run"]["customer_id"]) == (sales_report.id, sales_report.tenant_id)
    run_id = started["run"]["id"]
    wait_for_run(run_id)
    ids[RUN] = run_id

    listed = example(EXAMPLES, "GET", rf"{BASE}/{WF}/runs\?status=completed&limit=5")
    body = send(listed, member_key, ids).json()
    assert_documented_fields(body, listed.answer)
    assert body["count"] == 1 and body["runs"][0]["id"] == run_id
    assert body["runs"][0]["outputs"] == {"report": "Sales summary for LAST_MONTH", "email_sent": True}

    one = example(EXAMPLES, "GET", rf"{BASE}/{WF}/runs/{RUN}")
    body = send(one, member_key, ids).json()
    assert_documented_fields(body, one.answer)
    assert body["run"]["status"] == "completed" and body["run"]["finished_at"]

    terminate = example(EXAMPLES, "DELETE", rf"{BASE}/{WF}/runs/{RUN}")
    assert "already" in failure(send(terminate, member_key, ids), 400)["error"]


@pytest.mark.django_db(transaction=True)
def test_terminating_a_running_run_answers_the_documented_message(send, member_key, member):
    waiting = workflow_create(
        user=member, definition={"nodes": [{"id": "gate", "type": "wait", "config": {"signal": "go"}}]}, name="Gate"
    )
    run = run_create(workflow=waiting, inputs={}, user=member)
    ids = {WF: waiting.id, RUN: run.id}
    documented = example(EXAMPLES, "DELETE", rf"{BASE}/{WF}/runs/{RUN}")
    response = send(documented, member_key, ids)
    assert response.status_code == documented.status
    assert response.json() == documented.answer
    assert Run.objects.get(id=run.id).status == "cancelled"
    assert send(example(EXAMPLES, "GET", rf"{BASE}/{WF}/runs/{RUN}"), member_key, ids).json()["run"]["status"] == (
        "terminated"
    )
    assert (
        send(example(EXAMPLES, "GET", rf"{BASE}/{WF}/runs/{RUN}"), member_key, {WF: run.id, RUN: run.id}).status_code
        == 404
    )


def test_a_run_filter_the_seed_does_not_know_is_400(send, member_key, sales_report):
    documented = example(EXAMPLES, "GET", rf"{BASE}/{WF}/runs\?status=completed&limit=5")
    bad = type(documented)("GET", documented.url.replace("completed", "cancelled"), documented.headers)
    failure(send(bad, member_key, {WF: sales_report.id}), 400)


# --- schedules --------------------------------------------------------------------------------------


def test_schedules_are_created_listed_updated_and_deleted_as_documented(send, admin_key, sales_report):
    ids = {WF: sales_report.id}
    create = example(EXAMPLES, "POST", rf"{BASE}/{WF}/schedules")
    response = send(create, admin_key, ids)
    assert response.status_code == create.status == 201, response.content
    body = response.json()
    assert_documented_fields(body, create.answer)
    for name in ("cron_expression", "timezone", "inputs", "missed_execution_policy", "enabled"):
        assert body["schedule"][name] == create.answer["schedule"][name], name
    assert body["schedule"]["next_run_at"].endswith(("T13:00:00Z", "T14:00:00Z"))  # 09:00 New York
    ids[SCHEDULE] = body["schedule"]["id"]

    listed = example(EXAMPLES, "GET", rf"{BASE}/{WF}/schedules")
    body = send(listed, admin_key, ids).json()
    assert_documented_fields(body, listed.answer, nullable=frozenset({"last_run_at"}))
    assert body["count"] == 1 and body["schedules"][0]["id"] == ids[SCHEDULE]

    update = example(EXAMPLES, "PATCH", rf"{BASE}/{WF}/schedules/{SCHEDULE}")
    body = send(update, admin_key, ids).json()
    assert_documented_fields(body, update.answer)
    assert body["schedule"]["cron_expression"] == "0 9 * * 1,4" and body["schedule"]["enabled"] is True

    delete = example(EXAMPLES, "DELETE", rf"{BASE}/{WF}/schedules/{SCHEDULE}")
    response = send(delete, admin_key, ids)
    assert response.status_code == delete.status and response.json() == delete.answer
    assert not Schedule.objects.exists()
    failure(send(delete, admin_key, ids), 404)


def test_a_bad_cron_is_400(send, admin_key, sales_report):
    create = example(EXAMPLES, "POST", rf"{BASE}/{WF}/schedules")
    bad = type(create)("POST", create.url, create.headers, {**create.body, "cron_expression": "every monday"})
    assert "cron" in failure(send(bad, admin_key, {WF: sales_report.id}), 400)["error"]


def test_a_member_may_not_manage_schedules(send, member_key, sales_report):
    failure(send(example(EXAMPLES, "POST", rf"{BASE}/{WF}/schedules"), member_key, {WF: sales_report.id}), 403)


# --- natural language parsing (the authoring package's service) -------------------------------------


def test_parse_answers_the_documented_example_with_three_chained_steps_and_a_monday_schedule(send, member_key):
    documented = example(EXAMPLES, "POST", rf"{BASE}/parse")
    response = send(documented, member_key)
    assert response.status_code == documented.status == 200, response.content
    body = response.json()
    assert_documented_fields(body, documented.answer)
    assert body["success"] is True and body["parseTimeMs"] >= 0
    workflow = body["workflow"]
    assert (workflow["type"], workflow["valid"], workflow["source"]) == ("generated", True, "rules")
    assert 0 <= workflow["confidence"] <= 1
    steps = workflow["steps"]
    # The document's chain (salesforce.query → a report → email.send), with this server's step types.
    assert [(s["type"], s.get("action")) for s in steps] == [
        ("integration", "salesforce.query"),
        ("agent_task", None),
        ("integration", "email.send"),
    ]
    assert [s.get("input_from") for s in steps] == [None, steps[0]["id"], steps[1]["id"]]
    assert all("depends_on" not in s and "action" not in s["config"] for s in steps)
    assert workflow["schedule"]["cron_expression"] == "0 9 * * 1"


def test_parsed_nodes_are_what_create_takes_and_make_the_canonical_parse_result(send, member_key, api_client):
    documented = example(EXAMPLES, "POST", rf"{BASE}/parse")
    parsed = send(documented, member_key).json()["workflow"]
    create = example(EXAMPLES, "POST", BASE)
    definition = {"nodes": parsed["steps"], "inputs": parsed["inputs"], "outputs": parsed["outputs"]}
    made = type(create)("POST", create.url, create.headers, {"name": parsed["name"], "definition": definition})
    response = send(made, member_key)
    assert response.status_code == 201, response.content
    assert response.json()["workflow"]["definition"]["nodes"] == parsed["steps"]
    canonical = api_client.post("/api/workflows/parse", documented.body, format="json").json()["workflow"]
    stored = Workflow.objects.get(id=response.json()["workflow"]["id"]).definition
    assert stored["steps"] == canonical["steps"]


def test_the_openapi_example_of_parse_is_what_it_answers(send, member_key, api_client):
    documented = example(EXAMPLES, "POST", rf"{BASE}/parse")
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"][f"{BASE}/parse"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["examples"]["Seed004"]["value"] == documented.body
    shown = operation["responses"]["200"]["content"]["application/json"]["examples"]["Seed004ParsedByTheRules"]
    assert send(documented, member_key).json()["workflow"] == shown["value"]["workflow"]
    nonsense = operation["responses"]["422"]["content"]["application/json"]["examples"]["Nonsense"]["value"]
    broken = type(documented)("POST", documented.url, documented.headers, {"instruction": "asdfgh qwerty zxcvb"})
    assert failure(send(broken, member_key), 422) == nonsense


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"instruction": "abc"}, 400),
        ({}, 400),
        ({"instruction": "Every Monday", "context": "tools"}, 400),
        ({"instruction": "asdfgh qwerty zxcvb"}, 422),
    ],
)
def test_parse_errors_keep_the_seed_envelope(send, member_key, body, status):
    documented = example(EXAMPLES, "POST", rf"{BASE}/parse")
    broken = type(documented)("POST", documented.url, documented.headers, body)
    answer = failure(send(broken, member_key), status)
    assert answer["code"] in ("validation_error", "instruction_not_understood")


def test_parse_takes_the_documented_context_keys_and_ignores_unknown_ones(send, member_key):
    documented = example(EXAMPLES, "POST", rf"{BASE}/parse")
    body = {**documented.body, "context": {**documented.body["context"], "organizationId": "org_1"}, "debug": 1}
    response = send(type(documented)("POST", documented.url, documented.headers, body), member_key)
    assert response.status_code == 200, response.content
    assert response.json()["workflow"]["steps"][0]["action"] == "salesforce.query"


# --- tenancy ----------------------------------------------------------------------------------------


def test_parse_matches_a_tenant_template_for_its_own_tenant_only(send, member_key, outsider):
    from apikeys.services import api_key_create
    from orchestrator.authoring.templates import template_create
    from tests.factories import WorkflowFactory

    theirs = WorkflowFactory(tenant=outsider.tenant, name="Zebra migration audit", description="Audit zebra herds")
    template = template_create(workflow=theirs, user=outsider, name="Zebra migration audit")
    documented = example(EXAMPLES, "POST", rf"{BASE}/parse")
    body = {"instruction": "the zebra migration audit please", "context": {"source": "template"}}
    asked = type(documented)("POST", documented.url, documented.headers, body)
    own = send(asked, api_key_create(user=outsider, name="owner of the template")[1])
    assert own.status_code == 200 and own.json()["workflow"]["template_id"] == template.id
    other = send(asked, member_key)
    assert template.id not in other.content.decode() and "Zebra" not in other.content.decode()


def test_another_tenants_workflow_is_404_on_every_path(send, sales_report, outsider):
    from apikeys.services import api_key_create

    stranger_key = api_key_create(user=outsider, name="stranger")[1]
    ids = {WF: sales_report.id, RUN: "run_x", SCHEDULE: "sched_x"}
    for documented in EXAMPLES:
        if WF not in documented.path:
            continue
        body = failure(send(documented, stranger_key, ids), 404)
        assert body["code"] == "not_found"
    assert Workflow.objects.get(id=sales_report.id).name == "Weekly Sales Report"
