"""The database under strain, on a PostgreSQL of the test's own (max_connections=20):

* a burst of 100 concurrent clients starting runs: no 5xx, every run started once, and the
  connections held stay within the web pool and the worker's own;
* a step whose recording the database keeps refusing (a trigger raises on one value): the
  step and its run fail with the error instead of staying ``running``;
* a 10 s outage (the server stopped, then started again) while runs are in flight: every
  run finishes, soon after it returns.

The figures (connections held, 5xx, runs lost, time to finish after the outage) are
printed; ``pytest -s`` shows them.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.faults.stack import Stack

pytestmark = [pytest.mark.engine]

MAX_CONNECTIONS = 20
POOL_MAX = 8
WORKER_CONCURRENCY = 2


@pytest.fixture(scope="module")
def stack():
    started = Stack(max_connections=MAX_CONNECTIONS, env={"ORCHESTRATOR_DB_POOL_MAX_SIZE": str(POOL_MAX)})
    try:
        started.start()
        yield started
    finally:
        started.stop()


class ConnectionCounter:
    """Samples pg_stat_activity (client backends other than its own) until stopped."""

    def __init__(self, stack: Stack) -> None:
        self.stack, self.peak, self.samples = stack, 0, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        with self.stack.pg.connect() as conn:
            while not self.done.is_set():
                (count,) = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                    "AND pid <> pg_backend_pid()"
                ).fetchone()
                self.peak, self.samples = max(self.peak, count), self.samples + 1
                time.sleep(0.02)

    def __enter__(self) -> ConnectionCounter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join(timeout=10)


def _start_run(stack: Stack, workflow_id: str, barrier: threading.Barrier) -> tuple[int, str]:
    with stack.client(timeout=120) as client:
        barrier.wait()
        response = client.post(f"/api/workflows/{workflow_id}/run", json={"input_data": {}})
        run_id = response.json().get("run_id", "") if response.status_code == 202 else response.text[:300]
        return response.status_code, run_id


def test_a_burst_of_100_clients_starts_every_run_once_within_the_connection_bound(stack):
    workflow_id = stack.workflow(
        {"name": "burst", "steps": [{"id": "only", "type": "transform", "config": {"value": {"ok": True}}}]}
    )
    clients = 100
    barrier = threading.Barrier(clients)
    with ConnectionCounter(stack) as counter, ThreadPoolExecutor(max_workers=clients) as pool:
        started = time.monotonic()
        answers = list(pool.map(lambda _: _start_run(stack, workflow_id, barrier), range(clients)))
        answered_in = time.monotonic() - started
        peak_during_burst = counter.peak
        run_ids = [run_id for status, run_id in answers if status == 202]
        statuses = stack.wait_for_runs(run_ids, timeout=180)

    server_errors = [answer for answer in answers if answer[0] >= 500]
    print(
        f"\nburst: {clients} clients, answers {sorted({s for s, _ in answers})}, 5xx: {len(server_errors)}, "
        f"answered in {answered_in:.1f} s; peak connections held {counter.peak} "
        f"(during the burst {peak_during_burst}; max_connections {MAX_CONNECTIONS}, web pool {POOL_MAX}, "
        f"worker concurrency {WORKER_CONCURRENCY}; {counter.samples} samples)"
    )
    assert server_errors == [], server_errors[:3]
    assert len(run_ids) == clients and len(set(run_ids)) == clients, answers[:3]
    (stored,) = stack.sql("SELECT count(*) FROM runs_run WHERE workflow_id = %s", (workflow_id,))[0]
    assert stored == clients
    assert set(statuses.values()) == {"completed"}, statuses
    started_once = stack.sql(
        "SELECT count(*) FROM runs_event WHERE type = 'run_started' AND run_id = ANY(%s) GROUP BY run_id",
        (run_ids,),
    )
    assert sorted(c for (c,) in started_once) == [1] * clients
    # The web process holds at most its pool; each worker child one connection, its step's
    # heartbeat one more while an I/O step runs, beat one; and the sampler's own is excluded.
    assert counter.peak <= POOL_MAX + 2 * WORKER_CONCURRENCY + 2


def _install_poison_trigger(stack: Stack) -> None:
    stack.sql(
        """
        CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger AS $$
        BEGIN
            IF NEW.output::text LIKE '%poison-value%' THEN
                RAISE EXCEPTION 'refusing a poisoned output';
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql;
        DROP TRIGGER IF EXISTS refuse_poison ON runs_steprun;
        CREATE TRIGGER refuse_poison BEFORE INSERT OR UPDATE ON runs_steprun
            FOR EACH ROW EXECUTE FUNCTION refuse_poison();
        """
    )


@pytest.mark.parametrize(
    "step",
    [
        # Recorded in its own transaction after the call (the in-process retries of recording).
        {"id": "poisoned", "type": "http_request", "config": {"url": "{{ input.url }}"}},
        # Recorded inside the claim's transaction (the task's own retries).
        {"id": "poisoned", "type": "transform", "config": {"value": {"v": "poison-value"}}},
    ],
    ids=["recorded-after-the-call", "recorded-with-the-claim"],
)
def test_a_step_the_database_refuses_to_record_fails_with_its_run(stack, http_server, step):
    http_server.routes["/poison"] = (200, {"v": "poison-value"}, 0)
    _install_poison_trigger(stack)
    try:
        workflow_id = stack.workflow(
            {
                "name": f"poison-{step['type']}",
                "steps": [
                    step,
                    {"id": "after", "type": "transform", "depends_on": ["poisoned"], "config": {"value": 1}},
                ],
            }
        )
        with stack.client() as client:
            response = client.post(
                f"/api/workflows/{workflow_id}/run", json={"input_data": {"url": f"{http_server.url}/poison"}}
            )
            assert response.status_code == 202, response.text
            run_id = response.json()["run_id"]
            statuses = stack.wait_for_runs([run_id], timeout=60)
    finally:
        stack.sql("DROP TRIGGER IF EXISTS refuse_poison ON runs_steprun")

    assert statuses[run_id] == "failed"
    ((error,),) = stack.sql("SELECT error FROM runs_run WHERE id = %s", (run_id,))
    print(f"\npoisoned ({step['type']}): the run failed with: {error}")
    assert "refusing a poisoned output" in error and "Internal error" in error, error
    steps = {sid: (status, err) for sid, status, err in stack.sql(
        "SELECT step_id, status, error FROM runs_steprun WHERE run_id = %s", (run_id,)
    )}  # fmt: skip
    assert steps["poisoned"][0] == "failed" and "refusing a poisoned output" in steps["poisoned"][1]
    assert steps["after"][0] == "cancelled"
    events = stack.sql("SELECT type, data->>'kind' FROM runs_event WHERE run_id = %s ORDER BY sequence", (run_id,))
    assert ("step_failed", "internal") in events and events[-1][0] == "run_failed", events


def test_runs_in_flight_finish_soon_after_a_10_second_database_outage(stack, http_server):
    # Light steps: the time after the outage measures recovery, not the worker's throughput.
    http_server.routes["/slow"] = (200, {"ok": True}, 0.3)
    workflow_id = stack.workflow(
        {
            "name": "outage",
            "settings": {"max_concurrent_runs": 50},
            "steps": [
                {"id": "fetch", "type": "http_request", "config": {"url": f"{http_server.url}/slow"}},
                {"id": "shape", "type": "transform", "depends_on": ["fetch"], "config": {"value": {"n": 1}}},
                {"id": "send", "type": "http_request", "depends_on": ["shape"],
                 "config": {"url": f"{http_server.url}/slow", "method": "POST", "body": "n=1"}},
            ],
        }
    )  # fmt: skip
    runs = 12
    with stack.client() as client:
        run_ids = []
        for _ in range(runs):
            response = client.post(f"/api/workflows/{workflow_id}/run", json={"input_data": {}})
            assert response.status_code == 202, response.text
            run_ids.append(response.json()["run_id"])
    # In flight: steps calling out, others queued behind the worker's two processes.
    deadline = time.monotonic() + 30
    while not stack.sql("SELECT 1 FROM runs_steprun WHERE status = 'running' AND run_id = ANY(%s)", (run_ids,)):
        assert time.monotonic() < deadline, "no step started"
        time.sleep(0.05)

    stack.pg.stop()
    down_at = time.monotonic()
    # A request during the outage waits for a connection instead of failing (or answers 503).
    during: list[int] = []
    reader = threading.Thread(
        target=lambda: during.append(_status_of(stack, f"/api/workflows/runs/{run_ids[0]}")), daemon=True
    )
    reader.start()
    time.sleep(10)  # the outage itself, not a wait for something to happen
    stack.pg.start()
    back_at = time.monotonic()

    statuses = stack.wait_for_runs(run_ids, timeout=120)
    finished_after = time.monotonic() - back_at
    reader.join(timeout=60)
    lost = [run_id for run_id in run_ids if statuses.get(run_id) != "completed"]
    print(
        f"\noutage: {back_at - down_at:.1f} s down; {runs} runs in flight; every run finished "
        f"{finished_after:.1f} s after the database returned; lost {len(lost)}; "
        f"a read during the outage answered {during}"
    )
    assert lost == [], {r: statuses.get(r) for r in lost}
    assert finished_after <= 30
    assert during and during[0] < 500, during


def _status_of(stack: Stack, path: str) -> int:
    try:
        with stack.client(timeout=90) as client:
            return client.get(path).status_code
    except httpx.TransportError as exc:
        return 599 if "timed out" in str(exc) else 598


def test_a_run_the_database_refuses_to_start_fails_instead_of_blocking_its_tenant(stack):
    stack.sql(
        """
        CREATE OR REPLACE FUNCTION refuse_start() RETURNS trigger AS $$
        BEGIN
            IF NEW.status = 'running' AND NEW.inputs::text LIKE '%poison-start%' THEN
                RAISE EXCEPTION 'refusing to start a poisoned run';
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql;
        DROP TRIGGER IF EXISTS refuse_start ON runs_run;
        CREATE TRIGGER refuse_start BEFORE UPDATE ON runs_run FOR EACH ROW EXECUTE FUNCTION refuse_start();
        """
    )
    try:
        workflow_id = stack.workflow(
            {"name": "poison-start", "steps": [{"id": "only", "type": "transform", "config": {"value": 1}}]}
        )
        with stack.client() as client:
            answers = [
                client.post(f"/api/workflows/{workflow_id}/run", json={"input_data": {"x": value}})
                for value in ("poison-start", "fine")
            ]
        assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
        poisoned, fine = (a.json()["run_id"] for a in answers)
        statuses = stack.wait_for_runs([poisoned, fine], timeout=60)
    finally:
        stack.sql("DROP TRIGGER IF EXISTS refuse_start ON runs_run")
    assert statuses == {poisoned: "failed", fine: "completed"}
    ((error,),) = stack.sql("SELECT error FROM runs_run WHERE id = %s", (poisoned,))
    assert "Internal error while starting the run" in error and "refusing to start a poisoned run" in error, error
    assert stack.sql("SELECT status FROM runs_steprun WHERE run_id = %s", (poisoned,)) == [("cancelled",)]


def test_open_event_streams_do_not_use_up_the_web_pool(stack):
    workflow_id = stack.workflow(
        {"name": "streams", "steps": [{"id": "hold", "type": "wait", "config": {"signal": "go"}}]}
    )
    with stack.client() as client:
        run_id = client.post(f"/api/workflows/{workflow_id}/run", json={"input_data": {}}).json()["run_id"]
    streams = POOL_MAX + 4
    opened = threading.Semaphore(0)
    frames: list[int] = []

    def listen() -> None:
        with stack.client(timeout=120) as client, client.stream("GET", f"/api/workflows/runs/{run_id}/stream") as r:
            opened.release()
            frames.append(sum(1 for line in r.iter_lines() if line.startswith("event:")))

    listeners = [threading.Thread(target=listen, daemon=True) for _ in range(streams)]
    for listener in listeners:
        listener.start()
    for _ in range(streams):
        assert opened.acquire(timeout=60), "a stream did not open"
    with ConnectionCounter(stack) as counter, stack.client() as client:
        started = time.monotonic()
        answer = client.get("/api/workflows")
        took = time.monotonic() - started
        cancelled = client.post(f"/api/workflows/runs/{run_id}/cancel", json={})
    for listener in listeners:
        listener.join(timeout=60)
    print(
        f"\n{streams} open streams: a list answered {answer.status_code} in {took:.2f} s; peak connections {counter.peak}"
    )
    assert answer.status_code == 200 and took < 10  # not the pool's 30 s wait
    assert cancelled.status_code == 200, cancelled.text
    assert len(frames) == streams and min(frames) >= 2  # each saw the run's events to its end
