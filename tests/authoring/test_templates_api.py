"""Templates (SPEC 11, seed 001): the built-in library, installing, saving a workflow as a template,
tenancy, roles, and load_templates."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from orchestrator.authoring.templates import library, library_load
from tests.factories import WorkflowFactory
from workflows.models import Template, Workflow

pytestmark = pytest.mark.django_db


def test_the_library_has_a_dozen_useful_templates_across_categories(api_client):
    response = api_client.get("/api/workflows/templates?limit=200")
    assert response.status_code == 200
    body = response.json()
    builtins = [t for t in body["templates"] if t["is_builtin"]]
    assert len(builtins) == len(library()) >= 12 and body["total"] == len(builtins)
    assert {t["category"] for t in builtins} >= {"monitoring", "data", "notifications", "ai", "approvals", "devops"}
    for template in builtins:
        assert template["description"] and template["keywords"] and template["slug"]
        detail = api_client.get(f"/api/workflows/templates/{template['id']}").json()["template"]
        properties = detail["definition"]["inputs"]["properties"]
        assert properties and all("default" in p and "description" in p for p in properties.values())


@pytest.mark.parametrize("slug", [entry["slug"] for entry in library()])
def test_each_builtin_validates_and_installs_as_it_is(member, slug):
    from orchestrator.authoring.templates import template_install
    from orchestrator.definitions import definition_errors, definition_normalize

    template = Template.objects.get(slug=slug)
    assert definition_errors(definition_normalize(template.full_definition())) == []
    workflow = template_install(template=template, user=member)
    assert workflow.definition["steps"] == template.definition["steps"]
    assert workflow.trigger_type == template.trigger_type and workflow.description == template.description


def test_filters_search_and_pages(api_client):
    ai = api_client.get("/api/workflows/templates?category=ai").json()
    assert ai["total"] >= 2 and {t["category"] for t in ai["templates"]} == {"ai"}
    found = api_client.get("/api/workflows/templates?search=dead letter").json()["templates"]
    assert [t["slug"] for t in found] == ["webhook-delivery-dead-letter"]
    page = api_client.get("/api/workflows/templates?limit=2&offset=1").json()
    assert len(page["templates"]) == 2 and page["total"] == len(library())
    assert api_client.get("/api/workflows/templates?is_builtin=false").json()["total"] == 0


@pytest.mark.parametrize(
    "query, field", [("category=nope", None), ("is_builtin=maybe", "is_builtin"), ("limit=-1", "limit")]
)
def test_bad_filters_are_400s(api_client, query, field):
    response = api_client.get(f"/api/workflows/templates?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_a_template_is_read_by_id_or_by_slug_and_an_unknown_one_is_404(api_client):
    by_slug = api_client.get("/api/workflows/templates/uptime-check").json()["template"]
    by_id = api_client.get(f"/api/workflows/templates/{by_slug['id']}").json()["template"]
    assert by_id == by_slug and by_id["definition"]["steps"][0]["id"] == "check"
    response = api_client.get("/api/workflows/templates/tpl_nope")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_install_makes_a_workflow_seed_001_body(api_client, member):
    template = Template.objects.get(slug="daily-llm-digest")
    response = api_client.post(
        f"/api/workflows/templates/{template.id}/install", {"name": "My custom pipeline"}, format="json"
    )
    assert response.status_code == 201, response.content
    workflow = Workflow.objects.get(id=response.json()["workflow_id"])
    assert workflow.tenant_id == member.tenant_id and workflow.name == "My custom pipeline"
    assert workflow.definition["steps"] == template.definition["steps"]
    assert workflow.tags == ["template:daily-llm-digest"] and workflow.versions.count() == 1
    again = api_client.post(
        f"/api/workflows/templates/{template.id}/install", {"name": "My custom pipeline"}, format="json"
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_install_without_a_name_takes_the_templates(api_client):
    response = api_client.post("/api/workflows/templates/uptime-check/install", {}, format="json")
    assert response.status_code == 201
    assert response.json()["workflow"]["name"] == "Uptime check with alert"


def test_install_sets_input_defaults_and_maps_integrations(admin_client, admin_user, make_integration, apis):
    slack = make_integration(admin_user, "slack", {"token": "xoxb-1", "base_url": apis.slack_base}, "Team Slack")
    body = {
        "name": "Shop uptime",
        "inputs": {"url": "https://shop.example.com/health", "channel": "#shop"},
        "integrations": {"alerts": "Team Slack"},
    }
    response = admin_client.post("/api/workflows/templates/uptime-check/install", body, format="json")
    assert response.status_code == 201, response.content
    definition = response.json()["workflow"]["definition"]
    assert definition["inputs"]["properties"]["url"]["default"] == "https://shop.example.com/health"
    alert = next(s for s in definition["steps"] if s["id"] == "alert")
    assert alert["config"]["integration_id"] == slack.id


def test_install_maps_an_llm_integration_to_agent_id_also_inside_a_loop(admin_client, admin_user, make_integration):
    llm = make_integration(admin_user, "llm", {"base_url": "http://127.0.0.1:9/v1", "api_key": "k", "model": "m"})
    body = {"name": "Triage", "integrations": {"llm": llm.id}}
    response = admin_client.post("/api/workflows/templates/github-issue-triage/install", body, format="json")
    assert response.status_code == 201, response.content
    classify = next(s for s in response.json()["workflow"]["definition"]["steps"] if s["id"] == "classify")
    assert classify["config"]["step"]["config"]["agent_id"] == llm.id


@pytest.mark.parametrize(
    "body, field",
    [
        ({"inputs": {"nope": 1}}, "inputs.nope"),
        ({"inputs": {"expected_status": "two hundred"}}, "inputs.expected_status"),
        ({"integrations": {"nope": "x"}}, "integrations.nope"),
        ({"integrations": {"alerts": "int_missing"}}, "integrations.alerts"),
        ({"status": "sideways"}, "status"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_install_refuses_what_does_not_fit_and_writes_nothing(admin_client, body, field):
    response = admin_client.post("/api/workflows/templates/uptime-check/install", body, format="json")
    assert response.status_code == 400, response.content
    assert any(d["field"] == field for d in response.json()["error"]["details"])
    assert Workflow.objects.count() == 0


def test_an_integration_of_the_wrong_type_is_refused(admin_client, admin_user, make_integration):
    make_integration(admin_user, "llm", {"base_url": "http://127.0.0.1:9/v1", "api_key": "k", "model": "m"}, "Model")
    body = {"integrations": {"alerts": "Model"}}
    response = admin_client.post("/api/workflows/templates/uptime-check/install", body, format="json")
    assert response.status_code == 400
    assert "needs a slack integration" in response.json()["error"]["details"][0]["message"]


def test_saving_a_workflow_as_template_strips_integrations_and_stays_in_the_tenant(
    admin_client, admin_user, make_integration, outsider_client
):
    slack = make_integration(admin_user, "slack", {"token": "xoxb-1"}, "Team Slack")
    workflow = WorkflowFactory(
        tenant=admin_user.tenant,
        name="Notify deploys",
        definition={
            "steps": [
                {
                    "id": "tell",
                    "type": "integration",
                    "config": {
                        "action": "slack.post_message",
                        "integration_id": slack.id,
                        "channel": "#d",
                        "text": "x",
                    },
                },
                {
                    "id": "think",
                    "type": "agent_task",
                    "depends_on": ["tell"],
                    "config": {"goal": "x", "agent_id": "gpt"},
                },
            ]
        },
    )
    response = admin_client.post(
        "/api/workflows/templates", {"workflow_id": workflow.id, "category": "devops"}, format="json"
    )
    assert response.status_code == 201, response.content
    template = response.json()["template"]
    assert template["is_builtin"] is False and template["name"] == "Notify deploys" and template["slug"] is None
    assert template["source_workflow_id"] == workflow.id
    configs = [s["config"] for s in template["definition"]["steps"]]
    assert all("integration_id" not in c and "agent_id" not in c for c in configs)
    assert {(i["type"], tuple(i["steps"])) for i in template["integrations"]} == {
        ("slack", ("tell",)),
        ("llm", ("think",)),
    }
    listed = admin_client.get("/api/workflows/templates?is_builtin=false").json()
    assert [t["id"] for t in listed["templates"]] == [template["id"]]
    assert outsider_client.get(f"/api/workflows/templates/{template['id']}").status_code == 404
    assert (
        outsider_client.post(f"/api/workflows/templates/{template['id']}/install", {}, format="json").status_code == 404
    )
    duplicate = admin_client.post("/api/workflows/templates", {"workflow_id": workflow.id}, format="json")
    assert duplicate.status_code == 409


def test_another_tenants_workflow_cannot_be_saved_as_a_template(api_client, other_tenant_workflow):
    response = api_client.post("/api/workflows/templates", {"workflow_id": other_tenant_workflow.id}, format="json")
    assert response.status_code == 404


def test_builtins_are_read_only_and_tenant_templates_can_be_deleted(api_client, workflow):
    builtin = api_client.delete("/api/workflows/templates/uptime-check")
    assert builtin.status_code == 403 and builtin.json()["error"]["code"] == "permission_denied"
    created = api_client.post("/api/workflows/templates", {"workflow_id": workflow.id}, format="json").json()
    assert api_client.delete(f"/api/workflows/templates/{created['template_id']}").status_code == 204
    assert not Template.objects.filter(id=created["template_id"]).exists()


def test_a_viewer_reads_templates_but_installs_nothing(viewer_client):
    assert viewer_client.get("/api/workflows/templates").status_code == 200
    response = viewer_client.post("/api/workflows/templates/uptime-check/install", {}, format="json")
    assert response.status_code == 403


def test_load_templates_is_idempotent_and_restores_builtins_in_place():
    row = Template.objects.get(slug="uptime-check")
    row.name, row.keywords = "Tampered", []
    row.save()
    Template.objects.create(slug="retired-one", name="Retired", definition={"steps": []})
    out = io.StringIO()
    call_command("load_templates", stdout=out)
    assert "0 created, 1 updated" in out.getvalue() and "1 removed" in out.getvalue()
    restored = Template.objects.get(slug="uptime-check")
    assert restored.id == row.id and restored.name == "Uptime check with alert" and restored.keywords
    assert library_load() == {"created": 0, "updated": 0, "unchanged": len(library()), "removed": 0}
