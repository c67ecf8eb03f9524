"""The API from outside (issue 16): runs accepted and completed per second, 40 sequential steps
end to end, and starting (and cancelling) a run of a 10,000-step workflow.

The server runs in its production shape: ``uvicorn --workers WEB_CONCURRENCY`` as a separate
process, with a benchmark worker (prefork) on its own queue. Clients are threads of this
process with keep-alive connections, authenticated by an API key; the rate limit is off for
the server (``ORCHESTRATOR_RATE_LIMIT=0``) and the concurrency caps are raised above the load,
so the figures are the engine's and the server's, not the limits'.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
from django.conf import settings
from django.core.management.base import CommandError

from orchestrator.benchmarks import NEEDS_DISTRIBUTED, Measurement, private_queue
from orchestrator.benchmarks.engine import BenchWorker
from orchestrator.benchmarks.events import BenchServer

RUNS = 500
CLIENTS = 8
SEQUENTIAL = 40
BIG = 10_000
REPEAT = 3
TARGET_RUNS_PER_SECOND = 200.0
LIMITS = {"ORCHESTRATOR_RATE_LIMIT": "0", "ORCHESTRATOR_TENANT_MAX_CONCURRENT_RUNS": "10000"}
TERMINAL = {"completed", "failed", "cancelled", "timed_out"}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _setup() -> tuple[str, dict[str, str]]:
    """The benchmark tenant's API key and its workflows: name → ID."""
    from apikeys.services import api_key_create
    from orchestrator.models import Tenant, User
    from workflows.models import Workflow
    from workflows.services import workflow_create

    tenant, _ = Tenant.objects.get_or_create(name="benchmark-api")
    user, _ = User.objects.get_or_create(username="benchmark-api", defaults={"tenant": tenant, "role": "owner"})
    Workflow.objects.filter(tenant=tenant).delete()  # and the runs of earlier benchmarks
    _, key = api_key_create(user=user, name=f"benchmark {uuid.uuid4().hex[:6]}")
    noop = {"value": 1}
    limits = {"max_concurrent_runs": 10000}

    def chain(n: int) -> dict:
        steps = [{"id": "s0", "type": "transform", "config": noop}]
        steps += [
            {"id": f"s{i}", "type": "transform", "config": noop, "depends_on": [f"s{i - 1}"]} for i in range(1, n)
        ]
        return {"steps": steps, "settings": limits}

    # The big one waits for a signal first, so the benchmark measures its start (and cancel),
    # not 10,000 steps of work.
    big = [{"id": "gate", "type": "wait", "config": {"signal": "go"}}]
    big += [{"id": f"b{i}", "type": "transform", "config": noop, "depends_on": ["gate"]} for i in range(BIG - 1)]
    workflows = {
        "three": workflow_create(user=user, definition=chain(3), name="bench api 3 steps"),
        "forty": workflow_create(user=user, definition=chain(SEQUENTIAL), name="bench api 40 steps"),
        "big": workflow_create(user=user, definition={"steps": big, "settings": limits}, name="bench api 10k"),
    }
    return key, {name: wf.id for name, wf in workflows.items()}


def _start(client: httpx.Client, workflow_id: str) -> tuple[str, float]:
    started = time.perf_counter()
    response = client.post(f"/api/workflows/{workflow_id}/run", json={"input_data": {}})
    elapsed = time.perf_counter() - started
    if response.status_code != 202:
        raise CommandError(f"starting a run answered {response.status_code}: {response.text[:500]}")
    return response.json()["run_id"], elapsed


def _throughput(url: str, key: str, workflow_id: str) -> tuple[float, float, list[float]]:
    """RUNS runs of the 3-step workflow from CLIENTS threads: (accepted/s, completed/s, latencies)."""
    from runs.models import Run

    local = threading.local()
    clients: list[httpx.Client] = []

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
            clients.append(local.client)
        return local.client

    began = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda _: _start(client(), workflow_id), range(RUNS)))
    accepted = time.perf_counter() - began
    ids = [run_id for run_id, _ in results]
    deadline = time.monotonic() + 600
    while Run.objects.filter(id__in=ids, status__in=TERMINAL).count() < len(ids):
        if time.monotonic() > deadline:
            raise CommandError("the API benchmark's runs did not finish in 600 s")
        time.sleep(0.01)
    completed = time.perf_counter() - began
    failed = Run.objects.filter(id__in=ids).exclude(status="completed").count()
    for c in clients:
        c.close()
    if failed:
        raise CommandError(f"{failed} of the API benchmark's runs did not complete")
    return RUNS / accepted, RUNS / completed, [elapsed for _, elapsed in results]


def _sequential(client: httpx.Client, workflow_id: str) -> float:
    """POST a run of 40 sequential steps, then poll its status until it ends, as a client would."""
    began = time.perf_counter()
    run_id, _ = _start(client, workflow_id)
    deadline = time.monotonic() + 120
    while True:
        status = client.get(f"/api/workflows/runs/{run_id}/status").json()["status"]
        if status in TERMINAL:
            break
        if time.monotonic() > deadline:
            raise CommandError(f"run {run_id} did not finish in 120 s")
        time.sleep(0.005)
    if status != "completed":
        raise CommandError(f"run {run_id} ended {status}")
    return time.perf_counter() - began


def _big(client: httpx.Client, workflow_id: str) -> tuple[float, float]:
    """Start a 10,000-step run (202), then cancel it: (start seconds, cancel seconds)."""
    run_id, start = _start(client, workflow_id)
    began = time.perf_counter()
    response = client.post(f"/api/workflows/runs/{run_id}/cancel", json={})
    cancel = time.perf_counter() - began
    if response.status_code >= 300:
        raise CommandError(f"cancelling the big run answered {response.status_code}: {response.text[:300]}")
    return start, cancel


def run() -> list[Measurement]:
    if settings.EMBEDDED:
        raise CommandError(NEEDS_DISTRIBUTED.format(section="api"))
    key, workflows = _setup()
    with private_queue() as queue:
        with BenchWorker(queue, extra_env=LIMITS), BenchServer(queue, extra_env=LIMITS, workers=True) as server:
            with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
                _sequential(c, workflows["forty"])  # warm up: imports, connections, caches
                sequential = statistics.median(_sequential(c, workflows["forty"]) for _ in range(REPEAT))
                big = [_big(c, workflows["big"]) for _ in range(REPEAT)]
            accepted_rate, completed_rate, latencies = _throughput(server.url, key, workflows["three"])
    return [
        Measurement(
            key="runs_accepted_per_second",
            label=f"runs accepted through the API ({RUNS} runs of 3 steps, {CLIENTS} clients, "
            f"{settings.WEB_CONCURRENCY} web processes)",
            seconds=1 / accepted_rate,
            runs=RUNS,
            unit="rate",
            target_rate=TARGET_RUNS_PER_SECOND,
        ),
        Measurement(
            key="runs_completed_per_second",
            label="runs completed (first POST to last run completed)",
            seconds=1 / completed_rate,
            runs=RUNS,
            unit="rate",
            target_rate=TARGET_RUNS_PER_SECOND,
        ),
        Measurement(
            key="accept_latency_p50",
            label="accept latency (POST → 202), p50",
            seconds=_percentile(latencies, 0.5),
            runs=RUNS,
            unit="ms",
        ),
        Measurement(
            key="accept_latency_p95",
            label="accept latency (POST → 202), p95",
            seconds=_percentile(latencies, 0.95),
            runs=RUNS,
            unit="ms",
        ),
        Measurement(
            key="sequential_40_steps",
            label=f"{SEQUENTIAL} sequential steps end to end through the API (POST → completed)",
            seconds=sequential,
            runs=REPEAT,
            target_seconds=1.0,
        ),
        Measurement(
            key="start_10000_step_run",
            label=f"start of a {BIG:,}-step run through the API (POST → 202)",
            seconds=statistics.median(start for start, _ in big),
            runs=REPEAT,
            target_seconds=1.0,
        ),
        Measurement(
            key="cancel_10000_step_run",
            label=f"cancel of a {BIG:,}-step run through the API",
            seconds=statistics.median(cancel for _, cancel in big),
            runs=REPEAT,
        ),
    ]
