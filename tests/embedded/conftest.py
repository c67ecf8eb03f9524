"""The embedded shape, end to end: ``make run`` in a fresh copy (SQLite, in-process broker,
worker and clocks), driven over HTTP with the API key it printed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.engine.conftest import http_server  # noqa: F401  (the outside world the steps call)
from tests.served import ServedCopy

TERMINAL = ("completed", "failed", "cancelled", "timed_out")

# Short leases and a fast reaper, so that a lost worker is noticed within seconds; delays
# over a second are rows the sweeper dispatches (not broker countdowns).
ENGINE_ENV = {
    "ORCHESTRATOR_STEP_LEASE_SECONDS": "3",
    "ORCHESTRATOR_REAP_INTERVAL": "1",
    "ORCHESTRATOR_SWEEP_THRESHOLD_SECONDS": "1",
    "ORCHESTRATOR_RATE_LIMIT": "0",  # the tests poll; the limit has its own tests
}


class Api:
    """The API of a served copy, as the README's curl examples use it."""

    def __init__(self, base_url: str, key: str) -> None:
        self.http = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)

    def call(self, method: str, path: str, expect: int | tuple = (200, 201, 202), **kwargs) -> dict:
        response = self.http.request(method, path, **kwargs)
        expected = (expect,) if isinstance(expect, int) else expect
        assert response.status_code in expected, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else {}

    def workflow(self, steps: list[dict], **definition) -> str:
        body = {"name": f"wf {uuid.uuid4().hex[:10]}", "definition": {"steps": steps, **definition}}
        return self.call("POST", "/api/workflows", 201, json=body)["id"]

    def start(self, steps: list[dict], inputs: dict | None = None, **definition) -> str:
        return self.run(self.workflow(steps, **definition), inputs)

    def run(self, workflow_id: str, inputs: dict | None = None) -> str:
        return self.call("POST", f"/api/workflows/{workflow_id}/run", 202, json={"input_data": inputs or {}})["run_id"]

    def get(self, run_id: str) -> dict:
        return self.call("GET", f"/api/workflows/runs/{run_id}")["run"]

    def wait(self, run_id: str, statuses: tuple = TERMINAL, timeout: float = 60) -> dict:
        """Poll the run until its status is one of ``statuses``; answer the run."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.call("GET", f"/api/workflows/runs/{run_id}/status")["status"]
            if status in statuses:
                return self.get(run_id)
            time.sleep(0.1)
        raise AssertionError(f"run {run_id} is still {status} after {timeout} s: {self.get(run_id)}")

    def wait_step(self, run_id: str, step_id: str, statuses: tuple, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            steps = {s["step_id"]: s for s in self.get(run_id)["step_runs"]}
            if steps.get(step_id, {}).get("status") in statuses:
                return steps[step_id]
            time.sleep(0.1)
        raise AssertionError(f"step {step_id} of {run_id} did not reach {statuses}: {self.get(run_id)}")

    def events(self, run_id: str) -> list[dict]:
        return self.call("GET", f"/api/workflows/runs/{run_id}/events", params={"limit": 200})["events"]


def steps_of(run: dict) -> dict[str, dict]:
    return {s["step_id"]: s for s in run["step_runs"]}


def statuses(run: dict) -> dict[str, str]:
    return {s["step_id"]: s["status"] for s in run["step_runs"]}


@pytest.fixture(scope="session")
def served() -> Iterator[ServedCopy]:
    """One ``make run`` for the leg: a fresh copy, SQLite, nothing set but short engine timings."""
    copy = ServedCopy(env=ENGINE_ENV).start()
    yield copy
    copy.remove()


@pytest.fixture(scope="session")
def api(served) -> Api:
    api = Api(served.url, served.printed_key())
    # A schedule fires at the next minute boundary: made here, with the leg's first test, so
    # that its test (last in test_engine.py) finds the run made meanwhile instead of waiting.
    api.scheduled = api.workflow([{"id": "a", "type": "transform", "config": {"value": "{{ input.x }}"}}])
    schedule = {"cron_expression": "* * * * *", "inputs": {"x": 7}}
    api.call("POST", f"/api/workflows/{api.scheduled}/schedules", 201, json=schedule)
    return api
