"""The step hot path's statements, compiled once per process instead of once per call.

A step runs a handful of statements (its row's update, its events, its dependants'
counters). Built by the ORM, each costs about a millisecond of Python on a small
machine (compiling the query, not running it), which was most of a step's time. These
build the same SQL from the models' metadata once, cache it by shape, and adapt values
with each field's own ``get_db_prep_save``, so they work on PostgreSQL and SQLite alike
and store exactly what ``Model.save`` would.

Inside ``writes_deferred`` (a buffered transition, on PostgreSQL) ``row_update`` holds
its write, and the next statement that can carry it (the dependants' counters, or the
transition's events) sends it in the same round trip as a data-modifying CTE. Any other
statement flushes the held writes first, so nothing ever reads around them.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import Model

from runs.models import STEP_TERMINAL, Event, Run, StepRun, StepStatus


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _fields(model: type[Model], names: tuple[str, ...]) -> list:
    return [model._meta.get_field(name) for name in names]


@lru_cache(maxsize=256)
def _update_sql(model: type[Model], names: tuple[str, ...]) -> str:
    sets = ", ".join(f"{_quote(f.column)} = %s" for f in _fields(model, names))
    return f"UPDATE {_quote(model._meta.db_table)} SET {sets} WHERE {_quote(model._meta.pk.column)} = %s"


# (model, pk, the row's step_id or None) → {field name: value ready for the database}; rows,
# not statements, so that two writes of one row merge (a statement must not write a row twice).
Held = dict[tuple[type[Model], Any, Any], dict[str, Any]]


def row_update(instance: Model, names: Iterable[str]) -> int | None:
    """``instance.save(update_fields=names)`` without the ORM's per-call compilation. Inside
    ``writes_deferred`` the write is held (and ``None`` answered); else the row count."""
    model = type(instance)
    values = {f.name: f.get_db_prep_save(f.pre_save(instance, False), connection) for f in _fields(model, tuple(names))}
    held: Held | None = getattr(connection, "_held_writes", None)
    if held is not None:
        held.setdefault((model, instance.pk, instance.__dict__.get("step_id")), {}).update(values)
        return None
    sql, params = _row_update_statement(model, instance.pk, values)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _row_update_statement(model: type[Model], pk: Any, values: dict[str, Any]) -> tuple[str, list]:
    return _update_sql(model, tuple(values)), [*values.values(), pk]


@contextmanager
def writes_deferred() -> Iterator[None]:
    """Hold ``row_update`` writes until a statement carries them (``with_held_writes``) or
    any other statement runs; whatever is left is written on a clean exit. PostgreSQL only
    (elsewhere the writes run at once); an exception drops them with the transaction."""
    if connection.vendor != "postgresql" or getattr(connection, "_held_writes", None) is not None:
        yield
        return
    held: Held = {}

    def flush_first(execute, sql, params, many, context):
        if held:
            _flush(held)
        return execute(sql, params, many, context)

    connection._held_writes = held
    try:
        with connection.execute_wrapper(flush_first):
            yield
            if held:
                _flush(held)
    finally:
        del connection._held_writes


def _flush(held: Held) -> None:
    statements = [_row_update_statement(model, pk, values) for (model, pk, _), values in held.items()]
    held.clear()  # before executing: this statement passes through flush_first too
    sql, params = _ctes(statements, "SELECT 1")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def with_held_writes(
    sql: str, params: list, touches: Callable[[type[Model], Any], bool] = lambda model, step_id: False
) -> tuple[str, list]:
    """``sql`` with the held writes in front as CTEs. A data-modifying CTE's effect is not
    visible to the statement it prefixes, and one statement must not write a row twice:
    ``sql`` must not read what they write, and ``touches(model, step_id)`` names the rows it
    writes itself; if a held write may be one of those, everything held is flushed first."""
    held: Held | None = getattr(connection, "_held_writes", None)
    if not held:
        return sql, params
    if any(touches(model, step_id) for model, _, step_id in held):
        _flush(held)
        return sql, params
    statements = [_row_update_statement(model, pk, values) for (model, pk, _), values in held.items()]
    held.clear()
    return _ctes(statements, sql, params)


def _ctes(statements: list[tuple[str, list]], sql: str, params: list | None = None) -> tuple[str, list]:
    names = [f"w{i} AS ({statement})" for i, (statement, _) in enumerate(statements)]
    if sql.startswith("WITH "):  # merge with the statement's own CTEs
        head, sql = ", ".join(names) + ", ", sql[len("WITH ") :]
    else:
        head = ", ".join(names) + " "
    return "WITH " + head + sql, [p for _, ps in statements for p in ps] + list(params or [])


@lru_cache(maxsize=64)
def _insert_sql(model: type[Model], rows: int) -> tuple[str, tuple]:
    fields = tuple(f for f in model._meta.concrete_fields)
    columns = ", ".join(_quote(f.column) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return f"INSERT INTO {_quote(model._meta.db_table)} ({columns}) VALUES " + ", ".join([one] * rows), fields


def _insert_values(objs: Sequence[Model], fields: tuple) -> list:
    return [f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in objs for f in fields]


def row_insert(instance: Model) -> None:
    """``instance.save(force_insert=True)`` without the ORM's per-call compilation (defaults
    and ``auto_now_add`` fields are filled in as ``save`` would)."""
    sql, fields = _insert_sql(type(instance), 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, _insert_values([instance], fields))
    instance._state.adding = False
    instance._state.db = connection.alias


def tenant_lock(tenant_id: str, *, share: bool = False) -> bool:
    """The tenant's row lock, admission's, which serializes its run starts and admissions;
    ``share``: one that admission's excludes but another ``share`` does not. Answers whether
    the tenant exists. SQLite: its write lock stands in."""
    from orchestrator.models import Tenant

    table = _quote(Tenant._meta.db_table)
    lock = ""
    if connection.features.has_select_for_update:
        lock = " FOR SHARE" if share else " FOR NO KEY UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s{lock}", [tenant_id])
        return cursor.fetchone() is not None


def _among(column: str, values: Sequence) -> str:
    """``column`` among ``values`` (as many parameters). One is an equality, which PostgreSQL
    always matches on every column of an index that starts with it, e.g. (run, step_id)."""
    return f"{column} = %s" if len(values) == 1 else f"{column} IN ({', '.join(['%s'] * len(values))})"


def steps_queued(step_run_ids: list[str], now: Any) -> None:
    """Ready steps → ``queued`` with their next attempt, dispatched ``now``: one statement."""
    table = _quote(StepRun._meta.db_table)
    match = _among("id", step_run_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, attempt = attempt + 1, lease_expires_at = NULL, due_at = NULL, "
            f"dispatched_at = %s WHERE {match}",
            [StepStatus.QUEUED.value, StepRun._meta.get_field("dispatched_at").get_db_prep_save(now, connection)]
            + list(step_run_ids),
        )


def events_write(run: Run, events: list[Event], start: int, steps_remaining: int | None) -> bool:
    """A buffered transition's events and the run's counters, checked against ``start`` (the
    sequence the transition began from): one statement on PostgreSQL, two elsewhere. Answers
    whether the run's sequence was still ``start``."""
    update = (
        f"UPDATE {_quote(Run._meta.db_table)} SET event_sequence = %s, "
        "steps_remaining = COALESCE(%s, steps_remaining) WHERE id = %s AND event_sequence = %s"
    )
    update_params = [run.event_sequence, steps_remaining, run.id, start]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One round trip, with the transition's held row writes. A data-modifying CTE always
            # runs, so a moved sequence would still write them; the caller raises then, and the
            # transaction rolls back.
            sql, params = update, update_params
            if events:
                insert, fields = _insert_sql(Event, len(events))
                sql, params = f"WITH e AS ({insert}) {update}", [*_insert_values(events, fields), *update_params]
            cursor.execute(*with_held_writes(sql, params, lambda model, step_id: model is Run))
            return cursor.rowcount == 1
        cursor.execute(update, update_params)
        moved = cursor.rowcount != 1
        if events and not moved:
            insert, fields = _insert_sql(Event, len(events))
            cursor.execute(insert, _insert_values(events, fields))
        return not moved


# Rows of settled steps as the context reads them, by (run ID, step ID), in this process. A
# settled step's row never changes again (a resumed run is a new run), so the thousand steps
# of a fan-out read their common upstream once per worker process, not once each. Small
# outputs only, kept as text and parsed per use: no two steps share one mutable value.
_SETTLED: OrderedDict[tuple[str, str], tuple[str | None, str, str | None]] = OrderedDict()
_SETTLED_ROWS = 512
_SETTLED_TEXT = 64 * 1024


def step_outputs(run_id: str, step_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The top-level rows of these steps as the template context reads them."""
    rows: dict[str, tuple[str | None, str, str | None]] = {}
    missing = []
    for step_id in step_ids:
        cached = _SETTLED.get((run_id, step_id))
        if cached is None:
            missing.append(step_id)
        else:
            rows[step_id] = cached
    if missing:
        table = _quote(StepRun._meta.db_table)
        match = _among("step_id", missing)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT step_id, output, status, error FROM {table} "
                f"WHERE run_id = %s AND parent_id IS NULL AND {match}",
                [run_id, *missing],
            )
            fetched = cursor.fetchall()
        for step_id, output, status, error in fetched:
            # Django's cursor hands JSON columns back as text on both databases.
            rows[step_id] = (output, status, error)
            if status in STEP_TERMINAL and (output is None or isinstance(output, str) and len(output) <= _SETTLED_TEXT):
                _SETTLED[(run_id, step_id)] = (output, status, error)
                if len(_SETTLED) > _SETTLED_ROWS:
                    _SETTLED.popitem(last=False)
    return {
        step_id: {"output": json.loads(output) if isinstance(output, str) else output, "status": status, "error": error}
        for step_id, (output, status, error) in rows.items()
    }
