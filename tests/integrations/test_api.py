"""The integrations API (SPEC 10): roles, tenancy, masking, validation, and secrets at rest."""

from __future__ import annotations

import base64
import json
import os

import pytest
from django.db import connection
from django.test import Client

from integrations.models import Integration
from integrations.services import integration_config, integration_create
from orchestrator.models import Role, User
from tests.conftest import client_for
from tests.factories import UserFactory

SLACK = {"name": "My Slack Connection", "type": "slack", "config": {"apiKey": "xoxb-your-slack-token-123"}}
SMTP = {
    "name": "Mail",
    "type": "smtp",
    "config": {
        "host": "smtp.example.com",
        "port": 587,
        "username": "robot",
        "password": "smtp-password-77",
        "use_tls": True,
        "from_email": "robot@example.com",
    },
}
HTTP = {
    "name": "Reports",
    "type": "http",
    "config": {
        "base_url": "https://reports.example.com/api",
        "auth_type": "header",
        "header_name": "X-Api-Key",
        "header_value": "hdr-secret-value-55",
    },
}
LLM = {
    "name": "OpenAI",
    "type": "llm",
    "config": {"base_url": "https://api.openai.com/v1", "api_key": "sk-proj-abcdefghijklmnop", "model": "gpt-4o-mini"},
}
SECRETS = ["xoxb-your-slack-token-123", "smtp-password-77", "hdr-secret-value-55", "sk-proj-abcdefghijklmnop"]


@pytest.fixture
def owner_client(owner):
    return client_for(owner)


@pytest.fixture
def slack(admin_user) -> Integration:
    return integration_create(user=admin_user, **SLACK)


@pytest.fixture
def other_tenants_integration(outsider) -> Integration:
    return integration_create(user=outsider, **{**SLACK, "name": "theirs"})


# --- create -----------------------------------------------------------------------------


@pytest.mark.parametrize("body", [SLACK, SMTP, HTTP, LLM], ids=lambda b: b["type"])
def test_an_admin_creates_an_integration_and_no_secret_comes_back(admin_client, body):
    response = admin_client.post("/api/integrations", body, format="json")

    assert response.status_code == 201, response.content
    integration = response.json()["integration"]
    assert integration["id"].startswith("int_") and integration["type"] == body["type"]
    assert integration["name"] == body["name"] and integration["config_masked"] is True
    assert not any(secret in response.content.decode() for secret in SECRETS)


def test_the_slack_apikey_alias_is_stored_as_token(admin_client, admin_user):
    response = admin_client.post("/api/integrations", SLACK, format="json")

    integration = Integration.objects.get(id=response.json()["integration"]["id"])
    assert integration_config(integration=integration) == {"token": "xoxb-your-slack-token-123"}
    assert response.json()["integration"]["config"] == {"token": "********"}


@pytest.mark.parametrize("client_name", ["api_client", "viewer_client"])
def test_members_and_viewers_cannot_create_integrations(request, client_name):
    response = request.getfixturevalue(client_name).post("/api/integrations", SLACK, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_config_breaking_its_schema_is_a_400_listing_every_problem(admin_client):
    body = {"name": "x", "type": "smtp", "config": {"host": "", "port": "25", "password": "pw-secret-1", "extra": 1}}

    response = admin_client.post("/api/integrations", body, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    fields = {(d["field"], d["message"]) for d in error["details"]}
    assert ("config", "'use_tls' is required") in fields
    assert ("config", "'from_email' is required") in fields
    assert ("config", "'username' is required with 'password'") in fields
    assert ("config.port", "'25' is not of type 'integer'") in fields
    assert any("'extra' was unexpected" in m for _, m in fields)
    assert "pw-secret-1" not in response.content.decode()


def test_http_auth_fields_are_required_per_auth_type(admin_client):
    body = {"name": "x", "type": "http", "config": {"base_url": "https://x.example", "auth_type": "basic"}}

    response = admin_client.post("/api/integrations", body, format="json")

    assert response.status_code == 400
    messages = {d["message"] for d in response.json()["error"]["details"]}
    assert messages == {"'username' is required", "'password' is required"}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "x", "type": "ftp", "config": {}}, "type"),
        ({"name": "x", "type": "slack", "config": "xoxb-abc"}, "config"),
        ({"name": "x", "type": "slack"}, "config"),
        ({"type": "slack", "config": {"token": "t"}}, "name"),
        ({"name": "x", "type": "slack", "config": {"token": "t"}, "secret": 1}, "secret"),
        (
            {"name": "x", "type": "llm", "config": {"api_key": "k", "model": "m", "base_url": "file:///etc"}},
            "config.base_url",
        ),
    ],
)
def test_bad_bodies_are_400s_naming_the_field(admin_client, body, field):
    response = admin_client.post("/api/integrations", body, format="json")

    assert response.status_code == 400, response.content
    assert field in {d["field"] for d in response.json()["error"]["details"]}


def test_a_duplicate_name_is_a_conflict(admin_client, slack):
    response = admin_client.post("/api/integrations", SLACK, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_without_encryption_keys_writes_answer_a_clear_503_and_lists_still_work(admin_client, slack, settings):
    settings.ORCHESTRATOR_ENCRYPTION_KEYS = ""

    created = admin_client.post("/api/integrations", {**SLACK, "name": "another"}, format="json")
    listed = admin_client.get("/api/integrations")

    assert created.status_code == 503
    assert created.json()["error"]["code"] == "encryption_not_configured"
    assert "ORCHESTRATOR_ENCRYPTION_KEYS is not set" in created.json()["error"]["message"]
    assert listed.status_code == 200 and listed.json()["total"] == 1


# --- list and read ------------------------------------------------------------------------


def test_the_list_never_shows_a_config(viewer_client, admin_user):
    for body in (SLACK, SMTP, HTTP, LLM):
        integration_create(user=admin_user, **body)

    response = viewer_client.get("/api/integrations")

    assert response.status_code == 200
    data = response.json()
    assert data["total"] == 4 and len(data["integrations"]) == 4
    assert all("config" not in i for i in data["integrations"])
    assert set(data["integrations"][0]) == {"id", "name", "type", "created_by", "created_at", "updated_at"}
    assert not any(secret in response.content.decode() for secret in SECRETS)


def test_the_list_filters_by_type_and_rejects_an_unknown_type(viewer_client, admin_user):
    integration_create(user=admin_user, **SLACK)
    integration_create(user=admin_user, **LLM)

    llm = viewer_client.get("/api/integrations?type=llm").json()
    bad = viewer_client.get("/api/integrations?type=ftp")

    assert [i["type"] for i in llm["integrations"]] == ["llm"] and llm["total"] == 1
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "type"


def test_the_list_pages(viewer_client, admin_user):
    for n in range(3):
        integration_create(user=admin_user, **{**SLACK, "name": f"s{n}"})

    page = viewer_client.get("/api/integrations?limit=2&offset=1").json()

    assert page["total"] == 3 and len(page["integrations"]) == 2


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
def test_admins_and_owners_read_the_decrypted_config(tenant, admin_user, role):
    integration = integration_create(user=admin_user, **LLM)
    reader = UserFactory(tenant=tenant, role=role)

    response = client_for(reader).get(f"/api/integrations/{integration.id}")

    assert response.status_code == 200
    body = response.json()["integration"]
    assert body["config"] == LLM["config"] and body["config_masked"] is False


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_members_and_viewers_read_the_config_with_secrets_masked(tenant, admin_user, role):
    integration = integration_create(user=admin_user, **SMTP)
    reader = UserFactory(tenant=tenant, role=role)

    response = client_for(reader).get(f"/api/integrations/{integration.id}")

    assert response.status_code == 200
    body = response.json()["integration"]
    assert body["config"] == {**SMTP["config"], "password": "********"} and body["config_masked"] is True
    assert "smtp-password-77" not in response.content.decode()


def test_the_integration_types_endpoint_gives_each_config_schema(viewer_client):
    response = viewer_client.get("/api/integrations/types")

    assert response.status_code == 200
    types = {t["type"]: t for t in response.json()["integration_types"]}
    assert set(types) == {"slack", "smtp", "http", "llm"}
    assert types["slack"]["actions"] == ["slack.post_message"]
    assert "api_key" in types["llm"]["secret_fields"]
    assert types["http"]["config_schema"]["properties"]["auth_type"]["enum"] == ["bearer", "basic", "header"]


# --- tenancy --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, suffix",
    [("get", ""), ("put", ""), ("delete", ""), ("post", "/test")],
    ids=["get", "put", "delete", "test"],
)
def test_another_tenants_integration_reads_as_not_found(owner_client, other_tenants_integration, method, suffix):
    path = f"/api/integrations/{other_tenants_integration.id}{suffix}"

    response = getattr(owner_client, method)(path, {"name": "mine"} if method == "put" else None, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Integration.objects.filter(id=other_tenants_integration.id, name="theirs").exists()


def test_another_tenants_integrations_are_not_listed(owner_client, other_tenants_integration):
    assert owner_client.get("/api/integrations").json() == {"integrations": [], "total": 0}


# --- update and delete ----------------------------------------------------------------------


def test_put_renames_and_re_encrypts_a_new_config(admin_client, slack):
    before = Integration.objects.get(id=slack.id).config_encrypted

    response = admin_client.put(
        f"/api/integrations/{slack.id}",
        {"name": "Slack (ops)", "config": {"token": "xoxb-new-token-456"}},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["integration"]["name"] == "Slack (ops)"
    after = Integration.objects.get(id=slack.id)
    assert after.config_encrypted != before
    assert integration_config(integration=after) == {"token": "xoxb-new-token-456"}
    assert "xoxb-new-token-456" not in response.content.decode()


def test_put_with_a_masked_secret_keeps_the_stored_one(admin_client, admin_user):
    integration = integration_create(user=admin_user, **SMTP)
    shown = client_for(UserFactory(tenant=admin_user.tenant, role=Role.MEMBER)).get(
        f"/api/integrations/{integration.id}"
    )
    config = {**shown.json()["integration"]["config"], "host": "mail.example.com"}

    response = admin_client.put(f"/api/integrations/{integration.id}", {"config": config}, format="json")

    assert response.status_code == 200, response.content
    stored = integration_config(integration=Integration.objects.get(id=integration.id))
    assert stored["host"] == "mail.example.com" and stored["password"] == "smtp-password-77"


def test_put_cannot_change_the_type_or_break_the_schema(admin_client, slack):
    changed = admin_client.put(f"/api/integrations/{slack.id}", {"type": "llm"}, format="json")
    broken = admin_client.put(f"/api/integrations/{slack.id}", {"config": {"base_url": "nope"}}, format="json")

    assert changed.status_code == 400 and changed.json()["error"]["details"][0]["field"] == "type"
    assert broken.status_code == 400
    assert {d["field"] for d in broken.json()["error"]["details"]} == {"config", "config.base_url"}


def test_put_to_an_existing_name_is_a_conflict(admin_client, admin_user, slack):
    other = integration_create(user=admin_user, **LLM)

    response = admin_client.put(f"/api/integrations/{other.id}", {"name": SLACK["name"]}, format="json")

    assert response.status_code == 409


def test_members_cannot_update_delete_or_test(api_client, slack):
    assert api_client.put(f"/api/integrations/{slack.id}", {"name": "n"}, format="json").status_code == 403
    assert api_client.delete(f"/api/integrations/{slack.id}").status_code == 403
    assert api_client.post(f"/api/integrations/{slack.id}/test").status_code == 403


def test_delete_removes_it(admin_client, slack):
    assert admin_client.delete(f"/api/integrations/{slack.id}").status_code == 204
    assert admin_client.get(f"/api/integrations/{slack.id}").status_code == 404


def test_an_unknown_id_is_not_found(admin_client):
    assert admin_client.get("/api/integrations/int_nope").status_code == 404


# --- at rest ----------------------------------------------------------------------------------


def test_no_column_of_the_integrations_table_holds_a_secret_in_the_clear(admin_user):
    for body in (SLACK, SMTP, HTTP, LLM):
        integration_create(user=admin_user, **body)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Integration._meta.db_table}")
        rows = cursor.fetchall()
    dumped = json.dumps(rows, default=str)

    assert len(rows) == 4
    for secret in SECRETS + ["smtp.example.com", "gpt-4o-mini", "reports.example.com"]:
        assert secret not in dumped
        assert base64.b64encode(secret.encode()).decode() not in dumped
    assert '"password"' not in dumped and "api_key" not in dumped


def test_a_row_copied_into_another_tenant_does_not_decrypt(admin_user, other_tenant, outsider):
    mine = integration_create(user=admin_user, **SLACK)
    theirs = integration_create(user=outsider, **{**SLACK, "name": "theirs"})
    Integration.objects.filter(id=theirs.id).update(config_encrypted=mine.config_encrypted)

    response = client_for(outsider).get(f"/api/integrations/{theirs.id}")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "integration_unreadable"
    assert "could not decrypt: wrong key or tampered data" in response.json()["error"]["message"]


def test_a_config_under_a_removed_key_names_the_missing_key_id(admin_client, slack, settings):
    key_id = Integration.objects.get(id=slack.id).key_id
    settings.ORCHESTRATOR_ENCRYPTION_KEYS = base64.b64encode(os.urandom(32)).decode()

    response = admin_client.get(f"/api/integrations/{slack.id}")

    assert response.status_code == 500
    assert f"encrypted with key id '{key_id}' which is not configured" in response.json()["error"]["message"]


# --- admin ------------------------------------------------------------------------------------


@pytest.fixture
def admin_site_client(db) -> Client:
    superuser = User.objects.create_superuser("root", "root@example.com", "root-password-123")
    client = Client()
    client.force_login(superuser)
    return client


def test_the_admin_lists_and_shows_integrations_with_the_config_masked(admin_site_client, admin_user, settings):
    integration = integration_create(user=admin_user, **SMTP)
    # The admin never decrypts: it works even when the keys are gone.
    settings.ORCHESTRATOR_ENCRYPTION_KEYS = ""

    listing = admin_site_client.get("/admin/integrations/integration/")
    detail = admin_site_client.get(f"/admin/integrations/integration/{integration.id}/change/")

    for page in (listing, detail):
        assert page.status_code == 200
        html = page.content.decode()
        assert "********" in html and integration.key_id in html
        assert "smtp-password-77" not in html and integration.config_encrypted not in html
