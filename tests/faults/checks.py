"""What every fault test checks at its end, and how it waits for it."""

from __future__ import annotations

import time

from django.db import connection
from django.db.utils import InterfaceError, OperationalError

from runs.models import Event, Run, StepRun

TERMINAL = ("completed", "failed", "cancelled", "timed_out")


def chain(url: str, length: int = 3, max_concurrent_runs: int = 100) -> dict:
    """``length`` HTTP steps one after another, each calling its own path per run on ``url``."""
    steps = []
    for i in range(length):
        step = {"id": f"s{i}", "type": "http_request", "config": {"url": f"{url}/{{{{ run.id }}}}/s{i}"}}
        if steps:
            step["depends_on"] = [steps[-1]["id"]]
        steps.append(step)
    return {"steps": steps, "settings": {"max_concurrent_runs": max_concurrent_runs}}


def wait_for_runs(run_ids: list[str], *, timeout: float) -> float:
    """Until every run is terminal; answers when (``time.monotonic()``). A database error
    (the test's own connection killed with the server's) closes the connection and polls on."""
    deadline = time.monotonic() + timeout
    pending = set(run_ids)
    while pending:
        try:
            done = set(Run.objects.filter(id__in=pending, status__in=TERMINAL).values_list("id", flat=True))
            pending -= done
        except (OperationalError, InterfaceError):
            connection.close()
        if not pending:
            break
        if time.monotonic() > deadline:
            statuses = dict(Run.objects.filter(id__in=pending).values_list("id", "status"))
            steps = list(
                StepRun.objects.filter(run_id__in=pending)
                .exclude(status__in=("completed", "skipped"))
                .values_list("run_id", "step_id", "status", "attempt", "worker_losses", "dispatched_at")
            )
            raise AssertionError(f"{len(pending)} runs not finished after {timeout} s: {statuses}; steps {steps}")
        time.sleep(0.1)
    return time.monotonic()


def running_steps() -> set[str]:
    """Side-effect paths of the steps running now (claimed, result not yet recorded): a fault
    may make these run again; a step already recorded, or not yet claimed, must not."""
    try:
        rows = StepRun.objects.filter(status="running").values_list("run_id", "step_id")
        return {f"/{run_id}/{step_id}" for run_id, step_id in rows}
    except (OperationalError, InterfaceError):
        connection.close()
        return set()


def assert_recorded_once(run_ids: list[str], steps: list[str]) -> None:
    """Each run completed; each step completed once, with one step_completed event; the run's
    events are numbered 1..N without gap or repeat, and end with one run_completed."""
    for run in Run.objects.filter(id__in=run_ids):
        assert run.status == "completed", (run.id, run.status, run.error)
        step_runs = list(StepRun.objects.filter(run=run, parent__isnull=True).values_list("step_id", "status"))
        assert sorted(step_runs) == sorted((step, "completed") for step in steps), (run.id, step_runs)
        events = list(Event.objects.filter(run=run).order_by("sequence").values_list("sequence", "type", "step_id"))
        assert [sequence for sequence, _, _ in events] == list(range(1, len(events) + 1)), (run.id, events)
        completed = [step for _, kind, step in events if kind == "step_completed"]
        assert sorted(completed) == sorted(steps), (run.id, events)
        assert [kind for _, kind, _ in events].count("run_completed") == 1 and events[-1][1] == "run_completed"


def assert_side_effects(counts, run_ids: list[str], steps: list[str], *, may_repeat: set[str]) -> int:
    """Every step's call happened; more than once only for a path in ``may_repeat`` (the calls
    in flight when the fault struck), and then twice at most. Answers how many repeated."""
    repeated = 0
    for run_id in run_ids:
        for step in steps:
            path = f"/{run_id}/{step}"
            assert counts[path] >= 1, f"{path} never called"
            if counts[path] > 1:
                assert path in may_repeat and counts[path] == 2, (path, counts[path], sorted(may_repeat))
                repeated += 1
    return repeated
