"""Schedules in the Django admin: listed with their next run; toggling keeps the beat entry in step."""

from __future__ import annotations

from django.test import Client
from django_celery_beat.models import PeriodicTask

from orchestrator.models import User
from workflows.schedules import schedule_create


def test_schedules_are_listed_with_next_run_and_toggle_through_the_service(db, local_workflow, admin_user):
    schedule = schedule_create(workflow=local_workflow, user=admin_user, cron_expression="0 9 * * 1")
    superuser = User.objects.create_superuser("root", "root@example.com", "root-password-123")
    client = Client()
    client.force_login(superuser)
    listing = client.get("/admin/workflows/schedule/")
    assert listing.status_code == 200
    assert schedule.id in listing.content.decode() and "Next run at" in listing.content.decode()
    page = client.get(f"/admin/workflows/schedule/{schedule.id}/change/")
    assert page.status_code == 200
    saved = client.post(f"/admin/workflows/schedule/{schedule.id}/change/", {"enabled": ""})
    assert saved.status_code == 302
    schedule.refresh_from_db()
    assert schedule.enabled is False and schedule.next_run_at is None
    assert PeriodicTask.objects.get(id=schedule.periodic_task_id).enabled is False
    assert client.post(f"/admin/workflows/schedule/{schedule.id}/delete/", {"post": "yes"}).status_code == 302
    assert not PeriodicTask.objects.filter(id=schedule.periodic_task_id).exists()
