"""runs/statements.py: the hot path's precompiled statements and the writes a transition holds.

A held write must never be read around: any other statement flushes it first, a statement that
writes the same row makes it go first, and an exception drops it with the transaction.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from orchestrator.live.events import event_record, events_buffered
from runs import statements
from runs.models import Event, Run, StepRun, StepStatus
from runs.services import run_create
from tests.factories import UserFactory
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db(transaction=True)

POSTGRES = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="held writes are PostgreSQL's")


@pytest.fixture
def run(settings):
    settings.ORCHESTRATOR_EAGER_STEPS = 0
    user = UserFactory(role="owner")
    steps = [
        {"id": "a", "type": "transform", "config": {"value": 1}},
        {"id": "b", "type": "transform", "config": {"value": 2}, "depends_on": ["a"]},
    ]
    workflow = workflow_create(user=user, definition={"steps": steps}, name="statements")
    with transaction.atomic():
        return run_create(workflow=workflow, inputs={}, trigger="api", user=None)


def _step(run: Run, step_id: str) -> StepRun:
    return StepRun.objects.get(run_id=run.id, step_id=step_id)


def test_row_update_writes_what_save_would(run):
    step = _step(run, "a")
    step.status, step.output, step.error = StepStatus.COMPLETED, {"n": [1, "x"]}, "note"
    assert statements.row_update(step, ["status", "output", "error"]) == 1
    stored = _step(run, "a")
    assert (stored.status, stored.output, stored.error) == (StepStatus.COMPLETED, {"n": [1, "x"]}, "note")


@POSTGRES
def test_a_held_write_is_flushed_before_any_other_statement(run):
    step = _step(run, "a")
    with transaction.atomic(), statements.writes_deferred():
        step.output = {"held": True}
        assert statements.row_update(step, ["output"]) is None  # held, not written yet
        # An ORM read is another statement: the write goes first, so the read sees it.
        assert StepRun.objects.get(id=step.id).output == {"held": True}


@POSTGRES
def test_held_writes_ride_in_front_of_the_statement_that_takes_them(run):
    a, b = _step(run, "a"), _step(run, "b")
    with transaction.atomic(), statements.writes_deferred():
        a.output, b.output = {"a": 1}, {"b": 1}
        statements.row_update(a, ["output"])
        statements.row_update(b, ["output"])
        a.error = "merged"
        statements.row_update(a, ["error"])  # the same row again: merged, not written twice
        with CaptureQueriesContext(connection) as queries:
            sql, params = statements.with_held_writes("SELECT 1", [])
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
        assert len(queries) == 1 and queries[0]["sql"].startswith("WITH w0 AS (UPDATE")
    a, b = _step(run, "a"), _step(run, "b")
    assert (a.output, a.error, b.output) == ({"a": 1}, "merged", {"b": 1})


@POSTGRES
def test_a_statement_that_writes_a_held_row_makes_the_held_writes_go_first(run):
    a = _step(run, "a")
    with transaction.atomic(), statements.writes_deferred():
        a.output = {"first": True}
        statements.row_update(a, ["output"])
        sql, params = statements.with_held_writes(
            f"UPDATE {StepRun._meta.db_table} SET error = %s WHERE id = %s",
            ["second", a.id],
            lambda model, step_id: model is StepRun and step_id == "a",
        )
        assert not sql.startswith("WITH")  # flushed on its own instead
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    stored = _step(run, "a")
    assert (stored.output, stored.error) == ({"first": True}, "second")


@POSTGRES
def test_an_exception_drops_the_held_writes_with_the_transaction(run):
    a = _step(run, "a")
    with pytest.raises(RuntimeError), transaction.atomic(), statements.writes_deferred():
        a.output = {"lost": True}
        statements.row_update(a, ["output"])
        raise RuntimeError("boom")
    assert _step(run, "a").output is None
    assert getattr(connection, "_held_writes", None) is None


def test_buffered_events_and_counters_are_written_together(run):
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(id=run.id)
        before = locked.event_sequence
        with events_buffered(locked):
            event_record(run=locked, type="run_paused", data={"n": 1})
            event_record(run=locked, type="run_resumed", data={"n": 2})
            locked._steps_remaining_dirty = 7
    stored = Run.objects.get(id=run.id)
    assert (stored.event_sequence, stored.steps_remaining) == (before + 2, 7)
    types = list(Event.objects.filter(run_id=run.id, sequence__gt=before).order_by("sequence").values_list("type"))
    assert types == [("run_paused",), ("run_resumed",)]


def test_a_moved_sequence_fails_the_buffered_transition(run):
    with pytest.raises(RuntimeError, match="sequence moved"), transaction.atomic():
        locked = Run.objects.select_for_update().get(id=run.id)
        with events_buffered(locked):
            event_record(run=locked, type="run_paused")
            Run.objects.filter(id=run.id).update(event_sequence=locked.event_sequence + 10)
    assert not Event.objects.filter(run_id=run.id, type="run_paused").exists()


def test_settled_rows_are_read_once_per_process(run):
    a = _step(run, "a")
    StepRun.objects.filter(id=a.id).update(status=StepStatus.COMPLETED, output={"v": 1})
    statements._SETTLED.clear()
    first = statements.step_outputs(run.id, ["a", "b"])
    with CaptureQueriesContext(connection) as queries:
        again = statements.step_outputs(run.id, ["a"])
    assert len(queries) == 0 and again["a"] == first["a"] == {"output": {"v": 1}, "status": "completed", "error": None}
    again["a"]["output"]["v"] = 99  # each caller gets its own value
    assert statements.step_outputs(run.id, ["a"])["a"]["output"] == {"v": 1}
    with CaptureQueriesContext(connection) as queries:
        statements.step_outputs(run.id, ["b"])  # pending: never cached
        statements.step_outputs(run.id, ["b"])
    assert len(queries) == 2
