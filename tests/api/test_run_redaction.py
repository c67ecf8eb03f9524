"""What people see of a run (its body and its events) never shows a secret, while
the stored output stays whole for the steps that read it."""

from __future__ import annotations

from orchestrator.live.events import event_record
from runs.models import Event, StepRun
from runs.services import run_create
from tests.conftest import client_for
from tests.factories import simple_definition
from workflows.services import workflow_create

SECRET = "sk-live-0123456789abcdefghij"


def test_run_body_and_events_mask_secrets_in_outputs(member):
    workflow = workflow_create(user=member, definition=simple_definition(), name="secrets")
    run = run_create(workflow=workflow, inputs={"api_key": SECRET}, user=member)
    step_run = StepRun.objects.get(run=run, step_id="fetch")
    step_run.output = {"body": {"access_token": SECRET, "note": f"Bearer {SECRET}"}, "status_code": 200}
    step_run.error = f"upstream said: token {SECRET}"
    step_run.save()
    event_record(run=run, type="step_completed", step_id="fetch", data={"output": step_run.output})

    client = client_for(member)
    body = client.get(f"/api/workflows/runs/{run.id}").content.decode()
    events = client.get(f"/api/workflows/runs/{run.id}/events").content.decode()

    assert SECRET not in body and SECRET not in events
    assert "[REDACTED]" in body and "[REDACTED]" in events
    assert StepRun.objects.get(id=step_run.id).output["body"]["access_token"] == SECRET
    assert SECRET not in str(Event.objects.filter(run=run).values_list("data", flat=True))
