"""The Django admin (SPEC 12): every model opens; API keys never show their hash and are revocable."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from apikeys.models import ApiKey
from apikeys.services import api_key_create
from orchestrator.models import User
from workflows.models import WorkflowVersion


@pytest.fixture
def admin_site_client(db) -> Client:
    superuser = User.objects.create_superuser("root", "root@example.com", "root-password-123")
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def key_and_raw(member) -> tuple:
    return api_key_create(user=member, name="ci")


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/orchestrator/tenant/",
        "/admin/orchestrator/user/",
        "/admin/workflows/workflow/",
        "/admin/workflows/workflowversion/",
        "/admin/apikeys/apikey/",
    ],
)
def test_a_superuser_can_open_each_changelist(admin_site_client, workflow, key_and_raw, path):
    response = admin_site_client.get(path)

    assert response.status_code == 200


def test_a_superuser_can_open_a_tenants_change_page(admin_site_client, tenant, member):
    response = admin_site_client.get(f"/admin/orchestrator/tenant/{tenant.pk}/change/")

    assert response.status_code == 200
    assert member.username in response.content.decode()


def test_a_superuser_can_open_a_users_change_page(admin_site_client, member):
    response = admin_site_client.get(f"/admin/orchestrator/user/{member.pk}/change/")

    assert response.status_code == 200
    assert member.username in response.content.decode()


def test_a_workflows_change_page_shows_its_versions_inline(admin_site_client, workflow):
    WorkflowVersion.objects.create(
        workflow=workflow, version=2, definition=workflow.definition, change_summary="Second thoughts"
    )

    response = admin_site_client.get(f"/admin/workflows/workflow/{workflow.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="versions-TOTAL_FORMS" value="2"' in page
    assert "Second thoughts" in page


def test_a_superuser_can_open_a_workflow_versions_change_page(admin_site_client, workflow):
    version = workflow.versions.get()

    response = admin_site_client.get(f"/admin/workflows/workflowversion/{version.pk}/change/")

    assert response.status_code == 200


def test_a_superuser_can_open_an_api_keys_change_page(admin_site_client, key_and_raw):
    key, _ = key_and_raw

    response = admin_site_client.get(f"/admin/apikeys/apikey/{key.pk}/change/")

    assert response.status_code == 200
    assert key.key_prefix in response.content.decode()


@pytest.mark.parametrize("page", ["change", "changelist"])
def test_the_admin_never_shows_an_api_keys_hash_or_raw_key(admin_site_client, key_and_raw, page):
    key, raw = key_and_raw
    path = f"/admin/apikeys/apikey/{key.pk}/change/" if page == "change" else "/admin/apikeys/apikey/"

    content = admin_site_client.get(path).content.decode()

    assert key.key_hash not in content
    assert raw not in content


def test_the_revoke_action_revokes_the_selected_keys(admin_site_client, member):
    chosen, _ = api_key_create(user=member, name="chosen")
    spared, _ = api_key_create(user=member, name="spared")

    response = admin_site_client.post(
        "/admin/apikeys/apikey/", {"action": "revoke", "_selected_action": [chosen.pk]}, follow=True
    )

    assert response.status_code == 200
    chosen.refresh_from_db()
    spared.refresh_from_db()
    assert chosen.revoked_at is not None
    assert spared.revoked_at is None


def test_an_api_key_cannot_be_added_in_the_admin(admin_site_client, db):
    response = admin_site_client.get("/admin/apikeys/apikey/add/")

    assert response.status_code == 403
    assert ApiKey.objects.count() == 0


def test_a_tenant_user_without_staff_rights_cannot_open_the_admin(member):
    client = Client()
    client.force_login(member)

    response = client.get("/admin/workflows/workflow/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_editing_a_definition_in_the_admin_keeps_the_latest_version_equal_to_it(admin_site_client, workflow):
    # SPEC 5: a changed definition makes a new version. An operator's edit in the admin
    # must not leave the workflow running a definition that no version records.
    version = workflow.versions.get()
    changed = {"steps": [{"id": "only", "type": "http_request", "config": {"method": "GET", "url": "https://x.test"}}]}

    admin_site_client.post(
        f"/admin/workflows/workflow/{workflow.pk}/change/",
        {
            "tenant": workflow.tenant_id,
            "name": workflow.name,
            "description": "",
            "status": workflow.status,
            "trigger_type": workflow.trigger_type,
            "tags": "[]",
            "definition": json.dumps(changed),
            "versions-TOTAL_FORMS": "1",
            "versions-INITIAL_FORMS": "1",
            "versions-MIN_NUM_FORMS": "0",
            "versions-MAX_NUM_FORMS": "1000",
            "versions-0-id": version.pk,
            "versions-0-workflow": workflow.pk,
            "_save": "Save",
        },
    )

    workflow.refresh_from_db()
    latest = workflow.versions.order_by("-version").first()
    assert latest.version == workflow.version
    assert latest.definition == workflow.definition
