"""Events: persisted at every transition with a per-run sequence, then published.

``event_record`` runs inside the transition's transaction. Its sequence comes
from an ``UPDATE … SET event_sequence = event_sequence + 1`` on the run row,
which holds that row's lock until commit, so sequences are gap-free and ordered.

The step hot path already holds the run's row lock (``SELECT … FOR UPDATE``),
so inside ``events_buffered(run)`` sequences are taken from the locked row in
memory and the transition's events are written with one INSERT and one UPDATE
at the end: one round trip per transition instead of two per event.
Publication to the channel layer happens only after commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from orchestrator.security.redaction import redact
from runs.models import Event, Run
from runs.statements import events_write, writes_deferred


def event_record(*, run: Run, type: str, step_id: str | None = None, data: dict | None = None) -> Event:
    buffer = getattr(run, "_event_buffer", None)
    if buffer is not None:
        run.event_sequence += 1
        event = _event(run, run.event_sequence, type, step_id, data)
        buffer.append(event)
        return event
    sequence = _sequence_next(run.id)
    run.event_sequence = sequence
    event = _event(run, sequence, type, step_id, data)
    event.save(force_insert=True)
    transaction.on_commit(lambda: event_publish(event))
    return event


def _sequence_next(run_id: str) -> int:
    """The run's next event sequence; the UPDATE holds the run row until commit."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Run._meta.db_table} SET event_sequence = event_sequence + 1 "
                "WHERE id = %s RETURNING event_sequence",
                [run_id],
            )
            return cursor.fetchone()[0]
    # Elsewhere (SQLite): UPDATE, then read it back in the same transaction, which holds the
    # database's write lock from its first statement on (BEGIN IMMEDIATE, or the savepoint's).
    with transaction.atomic():
        Run.objects.filter(id=run_id).update(event_sequence=F("event_sequence") + 1)
        return Run.objects.filter(id=run_id).values_list("event_sequence", flat=True).get()


def _event(run: Run, sequence: int, type: str, step_id: str | None, data: dict | None) -> Event:
    return Event(
        tenant_id=run.tenant_id,
        run_id=run.id,
        workflow_id=run.workflow_id,
        sequence=sequence,
        type=type,
        step_id=step_id,
        data=redact(data or {}),  # events reach browsers: mask secrets in outputs and errors
        timestamp=timezone.now(),
    )


@contextmanager
def events_buffered(run: Run) -> Iterator[None]:
    """Under the run's row lock (``run_lock``): buffer this transition's events.

    On a clean exit they are inserted at once, with the run's counters, by
    ``events_write``, which checks no one else moved the sequence meanwhile. On an
    exception nothing is written: the transaction is rolled back anyway.
    """
    start = run.event_sequence
    run._event_buffer = []
    with writes_deferred():  # the transition's row writes travel with its events
        try:
            yield
            events = run._event_buffer
        finally:
            del run._event_buffer
        steps_remaining = getattr(run, "_steps_remaining_dirty", None)
        if not events and steps_remaining is None:
            return
        # Someone wrote events without holding the run lock: a bug, never a gap.
        if not events_write(run, events, start, steps_remaining):
            raise RuntimeError(f"run {run.id}: event sequence moved under a buffered transition")
    run.__dict__.pop("_steps_remaining_dirty", None)
    if events:
        transaction.on_commit(lambda: [event_publish(event) for event in events])


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
    from orchestrator.live.publisher import publish

    publish(event.tenant_id, event.workflow_id, event.run_id, event_payload(event))
