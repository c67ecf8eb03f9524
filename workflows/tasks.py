"""Thin Celery tasks of the workflows app."""

from __future__ import annotations

from celery import shared_task

from workflows.schedules import schedule_fire as schedule_fire_service


@shared_task(name="orchestrator.schedule_fire", acks_late=True, ignore_result=True, soft_time_limit=60)
def schedule_fire(schedule_id: str) -> None:
    """Sent by beat (the schedule's PeriodicTask); idempotent per slot, so a duplicate tick is harmless."""
    schedule_fire_service(schedule_id=schedule_id)
