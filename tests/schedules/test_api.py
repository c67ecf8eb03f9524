"""Schedule API (SPEC 9): shapes, 400s, roles, tenancy, and the beat entry kept in step."""

from __future__ import annotations

import json

import pytest
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from tests.conftest import client_for
from workflows.models import Schedule

# The 004 seed's request body, verbatim.
SEED_004 = {
    "cron_expression": "0 9 * * 1",
    "timezone": "America/New_York",
    "inputs": {"date_range": "LAST_WEEK"},
    "missed_execution_policy": "run_immediately",
}


@pytest.fixture
def created(admin_client, local_workflow) -> dict:
    response = admin_client.post(f"/api/workflows/{local_workflow.id}/schedules", SEED_004, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_answers_201_with_the_schedule_and_a_beat_entry(created, local_workflow, admin_user):
    body = created
    schedule = body["schedule"]
    assert body["schedule_id"] == schedule["id"] and schedule["id"].startswith("sched_")
    assert {k: schedule[k] for k in SEED_004} == SEED_004
    assert schedule["workflow_id"] == local_workflow.id
    assert schedule["enabled"] is True and schedule["last_run_at"] is None
    assert schedule["next_run_at"].endswith(("T13:00:00Z", "T14:00:00Z"))  # 09:00 New York, EDT or EST
    assert schedule["created_by"] == admin_user.id
    assert set(schedule) >= {"created_at", "updated_at"}
    task = PeriodicTask.objects.get(workflow_schedule__id=schedule["id"])
    assert task.task == "orchestrator.schedule_fire" and json.loads(task.args) == [schedule["id"]]
    assert task.enabled
    cron = task.crontab
    assert (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year, cron.day_of_week) == (
        "0",
        "9",
        "*",
        "*",
        "1",
    )
    assert str(cron.timezone) == "America/New_York"


def test_defaults(admin_client, local_workflow):
    response = admin_client.post(
        f"/api/workflows/{local_workflow.id}/schedules", {"cron_expression": "*/5 * * * *"}, format="json"
    )
    schedule = response.json()["schedule"]
    assert (schedule["timezone"], schedule["missed_execution_policy"], schedule["inputs"]) == ("UTC", "skip", {})


def test_every_problem_is_listed_in_one_400(admin_client, local_workflow):
    response = admin_client.post(
        f"/api/workflows/{local_workflow.id}/schedules",
        {"cron_expression": "61 * * * *", "timezone": "Mars/Olympus", "missed_execution_policy": "sometimes"},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert sorted(d["field"] for d in error["details"]) == ["cron_expression", "missed_execution_policy", "timezone"]
    assert not Schedule.objects.exists() and not PeriodicTask.objects.filter(task="orchestrator.schedule_fire").exists()


@pytest.mark.parametrize("cron", ["* * * *", "0 0 * * * *", "0 9 * * 7", "0 9 L * *", "", "every monday"])
def test_bad_cron_is_400(admin_client, local_workflow, cron):
    response = admin_client.post(
        f"/api/workflows/{local_workflow.id}/schedules", {"cron_expression": cron}, format="json"
    )
    assert response.status_code == 400


def test_unknown_field_and_wrong_types_are_400(admin_client, local_workflow):
    url = f"/api/workflows/{local_workflow.id}/schedules"
    assert admin_client.post(url, {"cron_expression": "* * * * *", "cron": 1}, format="json").status_code == 400
    assert admin_client.post(url, {"cron_expression": "* * * * *", "inputs": [1]}, format="json").status_code == 400
    assert admin_client.post(url, {"cron_expression": 5, "enabled": "maybe"}, format="json").status_code == 400


def test_inputs_are_checked_against_the_workflow_input_schema(admin_client, tenant, admin_user):
    from tests.factories import WorkflowFactory

    workflow = WorkflowFactory(
        tenant=tenant,
        definition={
            "inputs": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}},
            "steps": [{"id": "only", "type": "transform", "config": {"value": 1}}],
        },
    )
    url = f"/api/workflows/{workflow.id}/schedules"
    assert (
        admin_client.post(url, {"cron_expression": "* * * * *", "inputs": {"n": "x"}}, format="json").status_code == 400
    )
    assert (
        admin_client.post(url, {"cron_expression": "* * * * *", "inputs": {"n": 1}}, format="json").status_code == 201
    )


def test_list_get_patch_delete(admin_client, created, local_workflow):
    sid = created["schedule_id"]
    listed = admin_client.get(f"/api/workflows/{local_workflow.id}/schedules").json()
    assert listed["total"] == 1 and [s["id"] for s in listed["schedules"]] == [sid]
    assert admin_client.get(f"/api/workflows/schedules/{sid}").json()["schedule"]["id"] == sid

    before = created["schedule"]["next_run_at"]
    patched = admin_client.patch(
        f"/api/workflows/schedules/{sid}", {"cron_expression": "0 9 * * 1,4", "timezone": "UTC"}, format="json"
    )
    assert patched.status_code == 200
    schedule = patched.json()["schedule"]
    assert schedule["cron_expression"] == "0 9 * * 1,4" and schedule["timezone"] == "UTC"
    assert schedule["next_run_at"] != before and schedule["next_run_at"].endswith("T09:00:00Z")
    task = PeriodicTask.objects.get(workflow_schedule__id=sid)
    assert (task.crontab.day_of_week, str(task.crontab.timezone)) == ("1,4", "UTC")

    bad = admin_client.patch(f"/api/workflows/schedules/{sid}", {"timezone": "Nowhere/Town"}, format="json")
    assert bad.status_code == 400
    assert str(PeriodicTask.objects.get(workflow_schedule__id=sid).crontab.timezone) == "UTC"

    assert admin_client.delete(f"/api/workflows/schedules/{sid}").status_code == 204
    assert not Schedule.objects.filter(id=sid).exists()
    assert not PeriodicTask.objects.filter(task="orchestrator.schedule_fire").exists()
    assert admin_client.get(f"/api/workflows/schedules/{sid}").status_code == 404


def test_disable_and_enable_keep_the_beat_entry_in_step(admin_client, created):
    sid = created["schedule_id"]
    off = admin_client.patch(f"/api/workflows/schedules/{sid}", {"enabled": False}, format="json").json()["schedule"]
    assert off["enabled"] is False and off["next_run_at"] is None
    assert PeriodicTask.objects.get(workflow_schedule__id=sid).enabled is False
    on = admin_client.patch(f"/api/workflows/schedules/{sid}", {"enabled": True}, format="json").json()["schedule"]
    assert on["enabled"] is True and on["next_run_at"]
    assert PeriodicTask.objects.get(workflow_schedule__id=sid).enabled is True


def test_deleting_the_workflow_removes_its_beat_entries(admin_client, created, local_workflow):
    local_workflow.delete()
    assert not PeriodicTask.objects.filter(task="orchestrator.schedule_fire").exists()
    assert CrontabSchedule.objects.exists()  # shared crontab rows may stay; nothing points at them


def test_another_tenant_sees_404(created, local_workflow, outsider_client):
    sid = created["schedule_id"]
    assert outsider_client.get(f"/api/workflows/{local_workflow.id}/schedules").status_code == 404
    assert (
        outsider_client.post(
            f"/api/workflows/{local_workflow.id}/schedules", {"cron_expression": "* * * * *"}, format="json"
        ).status_code
        == 404
    )
    assert outsider_client.get(f"/api/workflows/schedules/{sid}").status_code == 404
    assert (
        outsider_client.patch(f"/api/workflows/schedules/{sid}", {"enabled": False}, format="json").status_code == 404
    )
    assert outsider_client.delete(f"/api/workflows/schedules/{sid}").status_code == 404
    assert Schedule.objects.get(id=sid).enabled


def test_roles_viewer_reads_admin_writes(created, local_workflow, viewer_client, api_client, owner):
    sid = created["schedule_id"]
    url = f"/api/workflows/{local_workflow.id}/schedules"
    assert viewer_client.get(url).status_code == 200
    assert viewer_client.get(f"/api/workflows/schedules/{sid}").status_code == 200
    assert viewer_client.post(url, {"cron_expression": "* * * * *"}, format="json").status_code == 403
    # SPEC 3: schedules are managed by admins; a member reads them only.
    assert api_client.post(url, {"cron_expression": "* * * * *"}, format="json").status_code == 403
    assert api_client.delete(f"/api/workflows/schedules/{sid}").status_code == 403
    assert client_for(owner).post(url, {"cron_expression": "* * * * *"}, format="json").status_code == 201
