"""Tenancy (SPEC 2, 3): another tenant's objects read as not found, and stay untouched."""

from __future__ import annotations

import pytest

from apikeys.services import api_key_create
from tests.factories import WorkflowFactory, simple_definition
from workflows.models import Workflow, WorkflowVersion

FOREIGN_WORKFLOW_REQUESTS = [
    ("get", "", None),
    ("put", "", {"name": "Hijacked", "definition": simple_definition("https://evil.example.com")}),
    ("patch", "", {"name": "Hijacked"}),
    ("delete", "", None),
    ("patch", "/status", {"status": "archived"}),
    ("post", "/duplicate", {}),
    ("get", "/versions", None),
    ("get", "/versions/1", None),
    ("get", "/diff?v1=1&v2=1", None),
    ("post", "/rollback", {"version": 1}),
    ("get", "/schema", None),
    ("get", "/export", None),
    ("get", "/export?format=yaml", None),
]


def _snapshot(workflow: Workflow) -> dict:
    return {
        "workflow": Workflow.objects.values().get(id=workflow.id),
        "versions": list(WorkflowVersion.objects.filter(workflow_id=workflow.id).values().order_by("version")),
    }


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    FOREIGN_WORKFLOW_REQUESTS,
    ids=[f"{m.upper()} {s or '/'}" for m, s, _ in FOREIGN_WORKFLOW_REQUESTS],
)
def test_another_tenants_workflow_reads_as_not_found(api_client, other_tenant_workflow, method, suffix, body):
    response = getattr(api_client, method)(f"/api/workflows/{other_tenant_workflow.id}{suffix}", body, format="json")

    assert response.status_code == 404, response.content
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    FOREIGN_WORKFLOW_REQUESTS,
    ids=[f"{m.upper()} {s or '/'}" for m, s, _ in FOREIGN_WORKFLOW_REQUESTS],
)
def test_another_tenants_workflow_is_unchanged_by_any_request(
    api_client, tenant, other_tenant_workflow, method, suffix, body
):
    before = _snapshot(other_tenant_workflow)

    getattr(api_client, method)(f"/api/workflows/{other_tenant_workflow.id}{suffix}", body, format="json")

    assert _snapshot(other_tenant_workflow) == before
    assert not Workflow.objects.for_tenant(tenant).exists()


def test_the_not_found_answer_for_another_tenants_workflow_equals_that_for_a_missing_one(
    api_client, other_tenant_workflow
):
    foreign = api_client.get(f"/api/workflows/{other_tenant_workflow.id}").json()
    missing_id = "wf_" + "0" * 26
    missing = api_client.get(f"/api/workflows/{missing_id}").json()

    assert foreign["error"]["message"].replace(other_tenant_workflow.id, "ID") == missing["error"]["message"].replace(
        missing_id, "ID"
    )


def test_another_tenants_api_key_reads_as_not_found(admin_client, outsider):
    key, _ = api_key_create(user=outsider, name="theirs")

    response = admin_client.get(f"/api/api-keys/{key.id}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_another_tenants_api_key_cannot_be_revoked(admin_client, outsider):
    key, _ = api_key_create(user=outsider, name="theirs")

    response = admin_client.delete(f"/api/api-keys/{key.id}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    key.refresh_from_db()
    assert key.revoked_at is None


def test_the_api_key_list_never_shows_another_tenants_keys(admin_client, outsider):
    api_key_create(user=outsider, name="theirs")

    response = admin_client.get("/api/api-keys")

    assert response.json() == {"api_keys": [], "total": 0}


def test_the_workflow_list_never_shows_another_tenants_workflows(api_client, workflow, other_tenant_workflow):
    response = api_client.get("/api/workflows")

    body = response.json()
    assert [w["id"] for w in body["workflows"]] == [workflow.id]
    assert body["total"] == 1


def test_searching_workflows_never_finds_another_tenants(api_client, tenant, other_tenant):
    WorkflowFactory(tenant=other_tenant, name="Shared word")

    response = api_client.get("/api/workflows", {"search": "Shared"})

    assert response.json() == {"workflows": [], "total": 0}


def test_the_same_workflow_name_may_be_used_in_two_tenants(api_client, tenant, other_tenant_workflow):
    response = api_client.post(
        "/api/workflows", {"name": other_tenant_workflow.name, "definition": simple_definition()}, format="json"
    )

    assert response.status_code == 201
    assert Workflow.objects.filter(name=other_tenant_workflow.name).count() == 2


def test_a_workflow_name_is_unique_within_a_tenant(api_client, workflow):
    response = api_client.post(
        "/api/workflows", {"name": workflow.name, "definition": simple_definition()}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_a_new_workflow_belongs_to_the_callers_tenant(api_client, tenant):
    response = api_client.post("/api/workflows", {"name": "Ours", "definition": simple_definition()}, format="json")

    assert Workflow.objects.get(id=response.json()["id"]).tenant_id == tenant.id


def test_renaming_a_workflow_to_another_tenants_workflow_name_is_allowed(api_client, workflow, other_tenant_workflow):
    response = api_client.patch(f"/api/workflows/{workflow.id}", {"name": other_tenant_workflow.name}, format="json")

    assert response.status_code == 200
