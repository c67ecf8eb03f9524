"""Management commands (SPEC 12, 13): the shell contract."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from orchestrator.models import Role, Tenant, User
from tests.factories import PASSWORD, simple_definition
from workflows.models import Workflow
from workflows.services import workflow_create

TENANT_ID = re.compile(r"ten_[0-9a-z]{26}")


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _user_behind(raw_key: str) -> dict:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key)
    response = client.get("/api/user")
    assert response.status_code == 200, response.content
    return response.json()["user"]


# --- createtenant / adduser ----------------------------------------------------------


def test_createtenant_prints_only_the_tenant_id(db):
    output = run("createtenant", "Acme", "--owner", "alice", "--password", PASSWORD)

    assert TENANT_ID.fullmatch(output.strip())
    assert Tenant.objects.get(id=output.strip()).name == "Acme"


def test_createtenant_makes_the_owner_who_can_log_in(db):
    tenant_id = run(
        "createtenant", "Acme", "--owner", "alice", "--password", PASSWORD, "--email", "a@acme.test"
    ).strip()

    alice = User.objects.get(username="alice")
    assert alice.tenant_id == tenant_id
    assert alice.role == Role.OWNER
    assert alice.email == "a@acme.test"
    response = APIClient().post("/api/auth/token", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 200


def test_createtenant_with_a_taken_name_is_a_command_error(db):
    run("createtenant", "Acme", "--owner", "alice", "--password", PASSWORD)

    with pytest.raises(CommandError, match="Acme"):
        run("createtenant", "Acme", "--owner", "bob", "--password", PASSWORD)
    assert Tenant.objects.filter(name="Acme").count() == 1
    assert not User.objects.filter(username="bob").exists()


def test_createtenant_with_a_taken_username_creates_no_tenant(db):
    run("createtenant", "Acme", "--owner", "alice", "--password", PASSWORD)

    with pytest.raises(CommandError):
        run("createtenant", "Globex", "--owner", "alice", "--password", PASSWORD)
    assert not Tenant.objects.filter(name="Globex").exists()


def test_createtenant_with_a_too_short_password_is_a_command_error(db):
    with pytest.raises(CommandError):
        run("createtenant", "Acme", "--owner", "alice", "--password", "short")
    assert not Tenant.objects.exists()


def test_adduser_adds_a_user_with_the_role(tenant):
    run("adduser", tenant.id, "vera", "--password", PASSWORD, "--role", "viewer")

    vera = User.objects.get(username="vera")
    assert vera.tenant == tenant
    assert vera.role == Role.VIEWER
    assert vera.check_password(PASSWORD)


def test_adduser_to_an_unknown_tenant_is_a_command_error(db):
    with pytest.raises(CommandError):
        run("adduser", "ten_nope", "vera", "--password", PASSWORD)
    assert not User.objects.filter(username="vera").exists()


def test_adduser_with_an_unknown_role_is_a_command_error(tenant):
    with pytest.raises(CommandError):
        run("adduser", tenant.id, "vera", "--password", PASSWORD, "--role", "emperor")


def test_adduser_with_a_taken_username_is_a_command_error(tenant, member):
    with pytest.raises(CommandError):
        run("adduser", tenant.id, member.username, "--password", PASSWORD)


# --- create_api_key --------------------------------------------------------------------


def test_create_api_key_prints_only_the_key(member):
    output = run("create_api_key", member.username, "--name", "ci")

    assert re.fullmatch(r"wfb_[A-Za-z0-9]{32,}\n?", output)
    assert ApiKey.objects.get(user=member).name == "ci"


def test_the_key_printed_by_create_api_key_authenticates_as_the_user(member):
    raw = run("create_api_key", member.username, "--name", "ci").strip()

    assert _user_behind(raw)["id"] == member.id


def test_create_api_key_for_an_unknown_user_is_a_command_error(db):
    with pytest.raises(CommandError):
        run("create_api_key", "nobody", "--name", "ci")


# --- export / import ---------------------------------------------------------------


def test_exported_workflows_import_into_another_tenant_with_equal_definitions(member, outsider, tmp_path):
    original = workflow_create(
        user=member, name="Round trip", definition=simple_definition(), tags=["a", "b"], trigger_type="webhook"
    )
    path = tmp_path / "workflows.json"
    run("export_workflows", member.tenant_id, "--output", str(path))

    run("import_workflows", str(path), "--user", outsider.username)

    copy = Workflow.objects.for_tenant(outsider.tenant).get(name="Round trip")
    assert copy.id != original.id
    assert copy.definition == original.definition
    assert copy.tags == ["a", "b"]
    assert copy.trigger_type == "webhook"


def test_export_workflows_writes_only_that_tenants_workflows_to_stdout(workflow, other_tenant_workflow):
    documents = json.loads(run("export_workflows", workflow.tenant_id))

    assert [d["name"] for d in documents] == [workflow.name]


def test_import_workflows_reads_yaml(outsider, tmp_path):
    path = tmp_path / "workflows.yaml"
    path.write_text(
        "name: From YAML\n"
        "definition:\n"
        "  steps:\n"
        "    - id: fetch\n"
        "      type: http_request\n"
        "      config: {method: GET, url: 'https://example.com'}\n"
    )

    output = run("import_workflows", str(path), "--user", outsider.username)

    created = Workflow.objects.for_tenant(outsider.tenant).get(name="From YAML")
    assert created.id in output


def test_import_workflows_is_all_or_nothing(outsider, tmp_path):
    path = tmp_path / "workflows.json"
    documents = [
        {"name": "Good", "definition": simple_definition()},
        {"name": "Bad", "definition": {"steps": [{"id": "a", "type": "no_such_type"}]}},
    ]
    path.write_text(json.dumps(documents))

    with pytest.raises(CommandError):
        run("import_workflows", str(path), "--user", outsider.username)
    assert not Workflow.objects.for_tenant(outsider.tenant).exists()


# --- seed_demo ---------------------------------------------------------------------


def test_seed_demo_can_run_twice(db):
    run("seed_demo")
    run("seed_demo")

    demo = Tenant.objects.get(name="Demo")
    assert User.objects.filter(tenant=demo).count() == 1
    assert Workflow.objects.for_tenant(demo).count() == 2


def test_seed_demo_prints_an_api_key_that_authenticates_as_the_demo_user(db):
    run("seed_demo")
    output = run("seed_demo")

    (raw,) = set(re.findall(r"wfb_[A-Za-z0-9]+", output))
    assert _user_behind(raw)["username"] == "demo"
