"""POST /api/workflows/parse through the API: seed 004's example verbatim, errors in the envelope,
and a result that POST /api/workflows takes as it is."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import WorkflowFactory

pytestmark = pytest.mark.django_db

# Copied from seeds/004 ("Natural Language Parsing"), request body verbatim.
SEED_004_REQUEST = {
    "instruction": "Every Monday at 9am, pull the latest sales data, generate a summary report, and email it to the sales team.",
    "context": {"availableTools": ["salesforce.query", "email.send"]},
}


def test_the_seed_example_gives_three_chained_steps_and_a_monday_schedule(api_client):
    response = api_client.post("/api/workflows/parse", SEED_004_REQUEST, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    workflow = body["workflow"]
    steps = workflow["steps"]
    assert [s["type"] for s in steps] == ["integration", "agent_task", "integration"]
    assert steps[0]["config"]["action"] == "salesforce.query"
    assert steps[2]["config"]["action"] == "email.send"
    assert steps[1]["depends_on"] == [steps[0]["id"]] and steps[2]["depends_on"] == [steps[1]["id"]]
    assert steps[2]["config"]["params"]["body"] == "{{ steps." + steps[1]["id"] + ".output.text }}"
    assert workflow["schedule"] == {
        "cron_expression": "0 9 * * 1",
        "timezone": "UTC",
        "description": "Every Monday at 09:00 (UTC)",
    }
    assert workflow["valid"] is True and workflow["source"] == "rules" and workflow["type"] == "generated"
    assert 0 <= workflow["confidence"] <= 1
    assert workflow["name"] == "Weekly sales report by email"
    assert isinstance(body["parse_time_ms"], float)


def test_the_parsed_workflow_is_created_as_it_is(api_client):
    workflow = api_client.post("/api/workflows/parse", SEED_004_REQUEST, format="json").json()["workflow"]
    created = api_client.post("/api/workflows", {"definition": workflow}, format="json")
    assert created.status_code == 201, created.content
    stored = created.json()["workflow"]
    assert stored["name"] == workflow["name"]
    assert [s["id"] for s in stored["definition"]["steps"]] == [s["id"] for s in workflow["steps"]]


def test_the_parsed_schedule_is_taken_by_the_schedules_api(admin_client):
    workflow = admin_client.post("/api/workflows/parse", SEED_004_REQUEST, format="json").json()["workflow"]
    workflow_id = admin_client.post("/api/workflows", {"definition": workflow}, format="json").json()["id"]
    schedule = {k: workflow["schedule"][k] for k in ("cron_expression", "timezone")}
    schedule["inputs"] = {"recipients": "sales@example.com"}  # the parse made the unnamed team an input
    response = admin_client.post(f"/api/workflows/{workflow_id}/schedules", schedule, format="json")
    assert response.status_code == 201, response.content


def test_nonsense_answers_422_in_the_envelope(api_client):
    response = api_client.post("/api/workflows/parse", {"instruction": "asdfgh qwerty zxcvb"}, format="json")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "instruction_not_understood"
    assert "Could not find anything to do" in error["message"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"instruction": "hi"}, "instruction"),
        ({}, "instruction"),
        ({"instruction": 42}, "instruction"),
        ({"instruction": "fetch https://example.com", "context": []}, "context"),
        ({"instruction": "fetch https://example.com", "context": {"availableTools": "salesforce.query"}}, "context"),
        ({"instruction": "fetch https://example.com", "context": {"source": "magic"}}, "context"),
        ({"instruction": "fetch https://example.com", "extra": 1}, "extra"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api_client, body, field):
    response = api_client.post("/api/workflows/parse", body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert any(d["field"].startswith(field) for d in error["details"]), error


def test_a_viewer_may_parse_and_an_anonymous_caller_may_not(viewer_client):
    assert viewer_client.post("/api/workflows/parse", SEED_004_REQUEST, format="json").status_code == 200
    response = APIClient().post("/api/workflows/parse", SEED_004_REQUEST, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_an_instruction_naming_a_template_gets_it_with_the_url_filled_in(api_client):
    body = {"instruction": "Set up an uptime check for https://shop.example.com/health with a Slack alert to #ops"}
    workflow = api_client.post("/api/workflows/parse", body, format="json").json()["workflow"]
    assert workflow["source"] == "template" and workflow["type"] == "template"
    assert workflow["template_slug"] == "uptime-check"
    assert workflow["inputs"]["properties"]["url"]["default"] == "https://shop.example.com/health"
    assert workflow["inputs"]["properties"]["channel"]["default"] == "#ops"
    assert "schedule" not in workflow  # none stated; the template's suggestion is only a note
    assert any("*/5 * * * *" in note for note in workflow["notes"])
    assert 0.6 <= workflow["confidence"] <= 0.95


def test_a_tenant_template_is_matched_for_its_tenant_only(api_client, outsider_client, outsider):
    from orchestrator.authoring.templates import template_create

    theirs = WorkflowFactory(tenant=outsider.tenant, name="Zebra migration audit", description="Audit zebra herds")
    template = template_create(workflow=theirs, user=outsider, name="Zebra migration audit")
    body = {"instruction": "the zebra migration audit please", "context": {"source": "template"}}
    own = outsider_client.post("/api/workflows/parse", body, format="json")
    assert own.status_code == 200 and own.json()["workflow"]["template_id"] == template.id
    other = api_client.post("/api/workflows/parse", body, format="json")
    assert template.id not in other.content.decode() and "Zebra" not in other.content.decode()


def test_rules_can_be_asked_for_even_when_a_template_matches(api_client):
    body = {"instruction": "GitHub issues triage then post to #dev", "context": {"source": "rules"}}
    workflow = api_client.post("/api/workflows/parse", body, format="json").json()["workflow"]
    assert workflow["source"] == "rules"
