"""``GET /api/events``, ``/api/workflows/{id}/events`` and ``/api/workflows/runs/{id}/events``: filters and pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from orchestrator.live.events import event_record
from runs.models import Event
from runs.services import run_create
from tests.factories import WorkflowFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(workflow, member):
    """Two runs of ``workflow`` and one of another workflow, each with a few events."""
    other = WorkflowFactory(tenant=workflow.tenant, created_by=member)
    made = [run_create(workflow=w, inputs={}, user=member) for w in (workflow, workflow, other)]
    with transaction.atomic():  # rolled back with the test: never published
        for run in made:
            event_record(run=run, type="step_started", step_id="fetch")
            event_record(run=run, type="step_completed", step_id="fetch", data={"output": 1})
    return made


def ids(response) -> list[str]:
    return [e["id"] for e in response.json()["events"]]


def test_run_events_filter_by_type_and_after(api_client, runs):
    run = runs[0]
    url = f"/api/workflows/runs/{run.id}/events"
    body = api_client.get(url).json()
    assert [e["type"] for e in body["events"]] == ["run_queued", "run_started", "step_started", "step_completed"]
    assert [e["sequence"] for e in body["events"]] == [1, 2, 3, 4] and body["total"] == 4
    assert [e["type"] for e in api_client.get(url, {"type": "step_completed"}).json()["events"]] == ["step_completed"]
    assert [e["sequence"] for e in api_client.get(url, {"after": 1}).json()["events"]] == [2, 3, 4]
    page = api_client.get(url, {"limit": 1, "offset": 1}).json()
    assert [e["sequence"] for e in page["events"]] == [2] and page["total"] == 4


def test_tenant_events_filter_by_workflow_run_type_and_since(api_client, runs, workflow):
    everything = api_client.get("/api/events").json()
    assert everything["total"] == 12
    by_workflow = api_client.get("/api/events", {"workflow_id": workflow.id}).json()
    assert by_workflow["total"] == 8 and {e["workflow_id"] for e in by_workflow["events"]} == {workflow.id}
    by_run = api_client.get("/api/events", {"run_id": runs[1].id, "after": 1}).json()
    assert [(e["run_id"], e["sequence"]) for e in by_run["events"]] == [(runs[1].id, s) for s in (2, 3, 4)]
    started = api_client.get("/api/events", {"type": "step_started"}).json()
    assert started["total"] == 3
    Event.objects.filter(run=runs[0]).update(timestamp=timezone.now() - timedelta(days=2))
    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert api_client.get("/api/events", {"since": since}).json()["total"] == 8


def test_workflow_events_filter_by_run_and_type(api_client, runs, workflow):
    url = f"/api/workflows/{workflow.id}/events"
    assert api_client.get(url).json()["total"] == 8
    assert api_client.get(url, {"run_id": runs[0].id}).json()["total"] == 4
    assert api_client.get(url, {"run_id": runs[2].id}).json()["total"] == 0  # a run of another workflow
    assert api_client.get(url, {"type": "run_queued"}).json()["total"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "step_exploded"}, "type"),
        ({"since": "yesterday"}, "since"),
        ({"after": "-1", "run_id": "run_x"}, "after"),
        ({"after": "2"}, "after"),  # sequences are per run
        ({"limit": "many"}, "limit"),
    ],
)
def test_bad_filters_are_400_in_the_envelope(api_client, runs, params, field):
    response = api_client.get("/api/events", params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["details"][0]["field"] == field


def test_another_tenants_events_are_not_listed(outsider_client, runs, workflow):
    assert outsider_client.get("/api/events").json()["total"] == 0
    assert outsider_client.get("/api/events", {"run_id": runs[0].id}).json()["total"] == 0
    assert outsider_client.get(f"/api/workflows/{workflow.id}/events").status_code == 404
    assert outsider_client.get(f"/api/workflows/runs/{runs[0].id}/events").status_code == 404


def test_without_an_asgi_server_the_stream_sends_the_stored_events_and_ends(api_client, runs):
    response = api_client.get(f"/api/workflows/runs/{runs[0].id}/stream", HTTP_LAST_EVENT_ID="1")
    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
    body = b"".join(response.streaming_content).decode()
    assert [line for line in body.splitlines() if line.startswith("id: ")] == ["id: 2", "id: 3", "id: 4"]
