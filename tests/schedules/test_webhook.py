"""``POST /api/workflows/{id}/webhook`` (SPEC 10, seed 002): API key, JSON body → run input."""

from __future__ import annotations

import pytest
import yaml
from rest_framework.test import APIClient

from runs.models import Run
from tests.conftest import client_for
from tests.factories import WorkflowFactory


def url(workflow) -> str:
    return f"/api/workflows/{workflow.id}/webhook"


def test_seed_002_example_starts_a_webhook_run(webhook_workflow, raw_key):
    client = APIClient()
    body = {"event": "order.created", "order": {"id": "ord_1", "total": 42.5}}
    response = client.post(url(webhook_workflow), body, format="json", HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert response.status_code == 202, response.content
    data = response.json()
    assert set(data) == {"run_id", "executionId", "status"} and data["run_id"].startswith("run_")
    assert data["executionId"] == data["run_id"] and data["status"] == "running"
    run = Run.objects.get(id=data["run_id"])
    assert (run.trigger, run.inputs, run.workflow_id) == ("webhook", body, webhook_workflow.id)
    assert response["Access-Control-Allow-Origin"] == "*"


def test_x_api_key_header_and_empty_body(webhook_workflow, raw_key):
    response = APIClient().post(url(webhook_workflow), HTTP_X_API_KEY=raw_key)
    assert response.status_code == 202
    assert Run.objects.get(id=response.json()["run_id"]).inputs == {}


def test_a_body_that_is_not_an_object_is_400(webhook_workflow, raw_key):
    response = APIClient().post(url(webhook_workflow), [1, 2], format="json", HTTP_X_API_KEY=raw_key)
    assert response.status_code == 400
    assert not Run.objects.exists()


def test_trigger_mismatch_is_400(local_workflow, raw_key):
    response = APIClient().post(url(local_workflow), {}, format="json", HTTP_X_API_KEY=raw_key)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "trigger_mismatch"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer wfb_notarealkeynotarealkeynotarealkey"},
        {"HTTP_X_API_KEY": "wfb_nope"},
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
    ],
)
def test_missing_or_bad_key_is_401(webhook_workflow, headers):
    response = APIClient().post(url(webhook_workflow), {}, format="json", **headers)
    assert response.status_code == 401
    assert "error" in response.json()
    assert not Run.objects.exists()


def test_a_user_jwt_is_not_an_api_key(webhook_workflow, admin_user):
    assert client_for(admin_user).post(url(webhook_workflow), {}, format="json").status_code == 401


def test_unknown_and_other_tenants_workflow_are_404(raw_key, other_tenant):
    client = APIClient(HTTP_X_API_KEY=raw_key)
    theirs = WorkflowFactory(tenant=other_tenant, trigger_type="webhook")
    assert client.post("/api/workflows/wf_unknown/webhook", {}, format="json").status_code == 404
    assert client.post(url(theirs), {}, format="json").status_code == 404
    assert not Run.objects.exists()


def test_paused_workflow_is_409(webhook_workflow, raw_key):
    webhook_workflow.status = "paused"
    webhook_workflow.save(update_fields=["status"])
    response = APIClient().post(url(webhook_workflow), {}, format="json", HTTP_X_API_KEY=raw_key)
    assert response.status_code == 409


def test_cors_preflight_needs_no_credentials(webhook_workflow):
    response = APIClient().options(
        url(webhook_workflow),
        HTTP_ORIGIN="https://example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )
    assert response.status_code in (200, 204)
    assert response["Access-Control-Allow-Origin"] == "*"
    assert {m.strip() for m in response["Access-Control-Allow-Methods"].split(",")} == {"POST", "OPTIONS"}
    allowed = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert allowed >= {"authorization", "x-api-key", "content-type", "idempotency-key"}


def test_idempotency_key_returns_the_same_run(webhook_workflow, raw_key):
    client = APIClient(HTTP_X_API_KEY=raw_key)
    first = client.post(url(webhook_workflow), {"a": 1}, format="json", HTTP_IDEMPOTENCY_KEY="delivery-42")
    again = client.post(url(webhook_workflow), {"a": 1}, format="json", HTTP_IDEMPOTENCY_KEY="delivery-42")
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    other = client.post(url(webhook_workflow), {"a": 1}, format="json", HTTP_IDEMPOTENCY_KEY="delivery-43")
    assert other.json()["run_id"] != first.json()["run_id"]
    assert Run.objects.count() == 2


def test_the_webhook_is_in_the_openapi_document(admin_client):
    paths = yaml.safe_load(admin_client.get("/api/schema/").content)["paths"]
    assert "post" in paths["/api/workflows/{workflow_id}/webhook"]
    assert {"get", "post"} <= set(paths["/api/workflows/{workflow_id}/schedules"])
    assert {"get", "patch", "delete"} <= set(paths["/api/workflows/schedules/{schedule_id}"])
