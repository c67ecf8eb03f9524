"""Roles (SPEC 3): viewer reads; member also writes workflows; admin also manages API keys."""

from __future__ import annotations

import pytest

from apikeys.models import ApiKey
from apikeys.services import api_key_create
from orchestrator.models import Role
from tests.conftest import client_for
from tests.factories import UserFactory, WorkflowFactory, simple_definition
from workflows.models import Workflow


def _assert_forbidden(response) -> None:
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "permission_denied"


# --- viewer ----------------------------------------------------------------------


def test_a_viewer_can_list_workflows(viewer_client, workflow):
    response = viewer_client.get("/api/workflows")

    assert response.status_code == 200
    assert [w["id"] for w in response.json()["workflows"]] == [workflow.id]


def test_a_viewer_can_read_a_workflow(viewer_client, workflow):
    response = viewer_client.get(f"/api/workflows/{workflow.id}")

    assert response.status_code == 200
    assert response.json()["workflow"]["id"] == workflow.id


def test_a_viewer_can_read_a_workflows_versions(viewer_client, workflow):
    response = viewer_client.get(f"/api/workflows/{workflow.id}/versions")

    assert response.status_code == 200
    assert [v["version"] for v in response.json()["versions"]] == [1]


def test_a_viewer_cannot_create_a_workflow(viewer_client, tenant):
    response = viewer_client.post(
        "/api/workflows", {"name": "Not mine to make", "definition": simple_definition()}, format="json"
    )

    _assert_forbidden(response)
    assert not Workflow.objects.for_tenant(tenant).exists()


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("put", "", {"name": "Renamed", "definition": simple_definition("https://example.com/other")}),
        ("patch", "", {"name": "Renamed"}),
        ("delete", "", None),
        ("patch", "/status", {"status": "archived"}),
        ("post", "/duplicate", {}),
        ("post", "/rollback", {"version": 1}),
    ],
    ids=["put", "patch", "delete", "status", "duplicate", "rollback"],
)
def test_a_viewer_cannot_change_a_workflow(viewer_client, workflow, method, suffix, body):
    before = Workflow.objects.values().get(id=workflow.id)

    response = getattr(viewer_client, method)(f"/api/workflows/{workflow.id}{suffix}", body, format="json")

    _assert_forbidden(response)
    assert Workflow.objects.filter(tenant=workflow.tenant).count() == 1
    assert Workflow.objects.values().get(id=workflow.id) == before


def test_a_viewer_is_told_which_role_the_action_needs(viewer_client, workflow):
    response = viewer_client.delete(f"/api/workflows/{workflow.id}")

    assert "member" in response.json()["error"]["message"]


def test_a_viewer_may_validate_a_definition(viewer_client):
    response = viewer_client.post("/api/workflows/validate", {"definition": simple_definition()}, format="json")

    assert response.status_code == 200
    assert response.json()["valid"] is True


# --- member ------------------------------------------------------------------------


def test_a_member_can_create_a_workflow(api_client, tenant):
    response = api_client.post("/api/workflows", {"name": "Mine", "definition": simple_definition()}, format="json")

    assert response.status_code == 201
    assert Workflow.objects.for_tenant(tenant).filter(name="Mine").exists()


def test_a_member_can_delete_a_workflow(api_client, workflow):
    response = api_client.delete(f"/api/workflows/{workflow.id}")

    assert response.status_code == 204
    assert not Workflow.objects.filter(id=workflow.id).exists()


def test_a_member_cannot_list_api_keys(api_client, member):
    api_key_create(user=member, name="existing")

    response = api_client.get("/api/api-keys")

    _assert_forbidden(response)


def test_a_member_cannot_create_an_api_key(api_client):
    response = api_client.post("/api/api-keys", {"name": "sneaky"}, format="json")

    _assert_forbidden(response)
    assert ApiKey.objects.count() == 0


def test_a_member_cannot_revoke_an_api_key(api_client, admin_user):
    key, _ = api_key_create(user=admin_user, name="admins")

    response = api_client.delete(f"/api/api-keys/{key.id}")

    _assert_forbidden(response)
    key.refresh_from_db()
    assert key.revoked_at is None


# --- admin and owner -----------------------------------------------------------------


def test_an_admin_can_create_an_api_key(admin_client, admin_user):
    response = admin_client.post("/api/api-keys", {"name": "deploy"}, format="json")

    assert response.status_code == 201
    assert ApiKey.objects.get(id=response.json()["api_key"]["id"]).user == admin_user


def test_an_admin_can_list_the_tenants_api_keys(admin_client, member):
    key, _ = api_key_create(user=member, name="members key")

    response = admin_client.get("/api/api-keys")

    assert response.status_code == 200
    assert [k["id"] for k in response.json()["api_keys"]] == [key.id]


def test_an_admin_can_revoke_a_members_api_key(admin_client, member):
    key, _ = api_key_create(user=member, name="members key")

    response = admin_client.delete(f"/api/api-keys/{key.id}")

    assert response.status_code == 204
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_an_owner_can_manage_api_keys(owner):
    response = client_for(owner).post("/api/api-keys", {"name": "owners"}, format="json")

    assert response.status_code == 201


def test_an_admin_can_also_do_what_a_member_does(admin_client, workflow):
    response = admin_client.patch(f"/api/workflows/{workflow.id}", {"name": "By an admin"}, format="json")

    assert response.status_code == 200
    workflow.refresh_from_db()
    assert workflow.name == "By an admin"


# --- no tenant ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/workflows", "/api/user", "/api/api-keys"])
def test_a_user_without_a_tenant_is_403(db, path):
    drifter = UserFactory(tenant=None, role=Role.OWNER)

    response = client_for(drifter).get(path)

    _assert_forbidden(response)


def test_a_superuser_without_a_tenant_is_403_on_the_api(db):
    WorkflowFactory()
    staff = UserFactory(tenant=None, is_staff=True, is_superuser=True)

    response = client_for(staff).get("/api/workflows")

    _assert_forbidden(response)
