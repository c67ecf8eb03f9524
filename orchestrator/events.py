"""Events: persisted at every transition with a per-run sequence, then published.

``event_record`` runs inside the transition's transaction; the sequence comes
from an ``UPDATE … SET event_sequence = event_sequence + 1`` on the run row,
which holds that row's lock until commit, so sequences are gap-free and ordered.
Publication to the channel layer happens only after commit.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction

from runs.models import Event, Run


def event_record(*, run: Run, type: str, step_id: str | None = None, data: dict | None = None) -> Event:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Run._meta.db_table} SET event_sequence = event_sequence + 1 "
            "WHERE id = %s RETURNING event_sequence",
            [run.id],
        )
        (sequence,) = cursor.fetchone()
    run.event_sequence = sequence
    event = Event.objects.create(
        tenant_id=run.tenant_id,
        run_id=run.id,
        workflow_id=run.workflow_id,
        sequence=sequence,
        type=type,
        step_id=step_id,
        data=data or {},
    )
    transaction.on_commit(lambda: event_publish(event))
    return event


def event_payload(event: Event) -> dict[str, Any]:
    """The one JSON shape of an event, for the API, SSE and WebSocket frames."""
    return {
        "id": event.id,
        "sequence": event.sequence,
        "type": event.type,
        "run_id": event.run_id,
        "workflow_id": event.workflow_id,
        "step_id": event.step_id,
        "timestamp": event.timestamp.isoformat().replace("+00:00", "Z"),
        "data": event.data,
    }


def event_publish(event: Event) -> None:
    from orchestrator.publisher import publish

    publish(event.tenant_id, event.workflow_id, event.run_id, event_payload(event))
