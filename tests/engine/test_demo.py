"""The demo that `make run` seeds works offline: it calls the server it runs beside."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from runs.models import StepRun
from runs.services import run_create
from tests.engine.conftest import wait_for_run
from tests.live import start_server, stop_server
from workflows.models import Workflow

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]


def test_the_seeded_check_this_server_workflow_completes(worker, settings):
    base_url, server = start_server()
    try:
        settings.PORT = int(base_url.rsplit(":", 1)[1])
        call_command("seed_demo", stdout=io.StringIO())
        workflow = Workflow.objects.get(name="Check this server")
        run = wait_for_run(run_create(workflow=workflow, inputs={}, user=workflow.created_by).id)
    finally:
        stop_server(server)
    assert run.status == "completed", run.error
    steps = {s.step_id: s for s in StepRun.objects.filter(run=run)}
    assert steps["health"].output["status_code"] in (200, 503)
    assert steps["summary"].output["status"] in ("ok", "degraded")
    taken = "report_ok" if steps["summary"].output["status"] == "ok" else "report_problem"
    assert steps[taken].status == "completed"
    assert {s.status for sid, s in steps.items() if sid.startswith("report_") and sid != taken} == {"skipped"}
