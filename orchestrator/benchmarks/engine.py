"""Engine overhead next to raw Celery doing the same shape, in the same run (SPEC 15).

A worker process is started for the benchmark on its own queue (prefork, two
processes, the settings of production). Raw Celery's shapes are no-op tasks:
a chain of 100 (round trip per task) and a group of 1,000 whose last member
sends the callback (what a chord does, without needing a result backend). The
engine runs workflows of the same shapes made of ``transform`` steps.
"""

from __future__ import annotations

import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis
from celery import chain, group
from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection

from orchestrator.benchmarks import NEEDS_DISTRIBUTED, Measurement, private_queue

CHAIN = 100
LONG_CHAIN = 1000  # per-step cost must not grow with the size of the run
FAN = 1000
REPEAT = 3


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def mark_done(key: str) -> None:
    _redis().set(f"{key}:done", time.time(), ex=600)


def count_and_maybe_finish(key: str, total: int) -> None:
    if _redis().incr(f"{key}:count") == total:
        from orchestrator.benchmarks.tasks import bench_done

        bench_done.delay(key)


def _wait_key(key: str, timeout: float = 300) -> None:
    client, deadline = _redis(), time.monotonic() + timeout
    while not client.exists(f"{key}:done"):
        if time.monotonic() > deadline:
            raise CommandError(f"raw Celery shape {key} did not finish in {timeout} s")
        time.sleep(0.002)


def child_env(queue: str) -> dict[str, str]:
    """The environment of the benchmark's own worker and server: the database and broker this
    process measures, its queue, and what a worker needs to start with DEBUG off (SPEC 16):
    this process's secret key, and its encryption keys or, without any, a throwaway one (the
    benchmark's steps read no integration). So `manage.py benchmark` needs no extra variables."""
    keys = settings.ORCHESTRATOR_ENCRYPTION_KEYS or base64.b64encode(os.urandom(32)).decode()
    return {
        **os.environ,  # PATH and the rest of the shell; the settings below win
        "DATABASE_URL": settings.DATABASE_URL,
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "ORCHESTRATOR_ENCRYPTION_KEYS": keys,
        "ORCHESTRATOR_TASK_QUEUE": queue,
        "LOG_LEVEL": "WARNING",
    }


class BenchWorker:
    def __init__(self, queue: str, extra_env: dict[str, str] | None = None) -> None:
        self.queue, self.extra_env = queue, extra_env or {}
        self.log = tempfile.NamedTemporaryFile(prefix="bench-worker-", suffix=".log", delete=False)

    def __enter__(self) -> BenchWorker:
        env = {**child_env(self.queue), **self.extra_env}
        cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", self.queue, "--pool", "prefork",
               "--concurrency", str(os.cpu_count() or 2), "--without-gossip", "--without-mingle", "-l", "warning",
               "-n", f"{self.queue}@%h", "--include", "orchestrator.benchmarks.tasks"]  # fmt: skip
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        from config.celery import app

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if app.control.ping(destination=[f"{self.queue}@{os.uname().nodename}"], timeout=0.5):
                return self
            if self.proc.poll() is not None:
                break
        raise CommandError(f"benchmark worker did not start:\n{Path(self.log.name).read_text()[-2000:]}")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _raw_chain() -> float:
    from orchestrator.benchmarks.tasks import bench_done, bench_noop

    key = f"bench:{uuid.uuid4().hex}"
    started = time.perf_counter()
    chain(*[bench_noop.si() for _ in range(CHAIN)], bench_done.si(key)).delay()
    _wait_key(key)
    return time.perf_counter() - started


def _raw_fan() -> float:
    from orchestrator.benchmarks.tasks import bench_count

    key = f"bench:{uuid.uuid4().hex}"
    started = time.perf_counter()
    group(bench_count.si(key, FAN) for _ in range(FAN)).delay()
    _wait_key(key)
    return time.perf_counter() - started


def _chain(length: int) -> list[dict]:
    noop = {"value": 1}
    return [{"id": "s0", "type": "transform", "config": noop}] + [
        {"id": f"s{i}", "type": "transform", "config": noop, "depends_on": [f"s{i - 1}"]} for i in range(1, length)
    ]


def _definitions() -> tuple[dict, dict]:
    noop = {"value": 1}
    chain_steps = _chain(CHAIN)
    fan_steps = [{"id": "root", "type": "transform", "config": noop}]
    fan_steps += [{"id": f"f{i}", "type": "transform", "config": noop, "depends_on": ["root"]} for i in range(FAN)]
    fan_steps.append({"id": "sink", "type": "transform", "config": noop, "depends_on": [f"f{i}" for i in range(FAN)]})
    limits = {"max_concurrent_runs": 100}
    return {"steps": chain_steps, "settings": limits}, {"steps": fan_steps, "settings": limits}


def _engine_run(workflow, run_ids: list[str] | None = None) -> float:
    from runs.models import RUN_TERMINAL, Run
    from runs.services import run_create

    started = time.perf_counter()
    run = run_create(workflow=workflow, inputs={}, trigger="api", user=None)
    if run_ids is not None:
        run_ids.append(run.id)
    deadline = time.monotonic() + 600
    # One plain statement per poll: an ORM query costs ~1 ms of CPU here, every 5 ms, which the
    # machine's two cores then lack for the workers (raw Celery's wait is a Redis EXISTS).
    with connection.cursor() as cursor:
        while True:
            cursor.execute(f"SELECT status FROM {Run._meta.db_table} WHERE id = %s", [run.id])
            status = cursor.fetchone()[0]
            if status in RUN_TERMINAL:
                break
            if time.monotonic() > deadline:
                raise CommandError(f"run {run.id} did not finish")
            time.sleep(0.005)
    elapsed = time.perf_counter() - started
    if status != "completed":
        raise CommandError(f"benchmark run {run.id} ended {status}")
    return elapsed


def _workflows():
    from orchestrator.models import Tenant, User
    from workflows.models import Workflow
    from workflows.services import workflow_create

    tenant, _ = Tenant.objects.get_or_create(name="benchmark")
    user, _ = User.objects.get_or_create(username="benchmark", defaults={"tenant": tenant, "role": "owner"})
    Workflow.objects.filter(tenant=tenant).delete()  # and the runs of earlier benchmarks
    chain_def, fan_def = _definitions()
    long_def = {"steps": _chain(LONG_CHAIN), "settings": chain_def["settings"]}
    return (
        workflow_create(user=user, definition=chain_def, name=f"bench chain {CHAIN}"),
        workflow_create(user=user, definition=fan_def, name=f"bench fan {FAN}"),
        workflow_create(user=user, definition=long_def, name=f"bench chain {LONG_CHAIN}"),
    )


def _successor_latencies(run_ids: list[str]) -> list[float]:
    """Step done → successor running on the chain: each step's ``started_at`` (set when its worker
    begins it: the claim of a queued step, or the start of an eagerly claimed one) minus its
    predecessor's ``completed_at`` (set when the outcome is recorded, before that commit)."""
    from runs.models import StepRun

    rows = StepRun.objects.filter(run_id__in=run_ids, parent__isnull=True).values_list(
        "run_id", "step_id", "started_at", "completed_at"
    )
    times = {(run_id, step_id): (started, completed) for run_id, step_id, started, completed in rows}
    return [
        (times[(run_id, f"s{i}")][0] - times[(run_id, f"s{i - 1}")][1]).total_seconds()
        for run_id in run_ids
        for i in range(1, CHAIN)
        if (run_id, f"s{i}") in times and (run_id, f"s{i - 1}") in times
    ]


def run() -> list[Measurement]:
    if settings.EMBEDDED:
        raise CommandError(NEEDS_DISTRIBUTED.format(section="engine"))
    chain_wf, fan_wf, long_wf = _workflows()
    chain_runs: list[str] = []
    with private_queue() as queue, BenchWorker(queue):
        _raw_chain()  # warm both paths up: imports, connections, pools
        _engine_run(chain_wf)
        raw_chain = statistics.median(_raw_chain() for _ in range(REPEAT))
        engine_chain = statistics.median(_engine_run(chain_wf, chain_runs) for _ in range(REPEAT))
        engine_long = _engine_run(long_wf)
        raw_fan = statistics.median(_raw_fan() for _ in range(REPEAT))
        engine_fan = statistics.median(_engine_run(fan_wf) for _ in range(REPEAT))
    latencies = sorted(_successor_latencies(chain_runs))
    return [
        Measurement(
            key="per_step_overhead",
            label=f"per-step overhead, {CHAIN}-step chain",
            seconds=engine_chain / CHAIN,
            runs=REPEAT,
            unit="ms",
            baseline_seconds=raw_chain / (CHAIN + 1),
            baseline_label="raw Celery per-task round trip",
            target_ratio=2.0,
        ),
        Measurement(
            key="per_step_overhead_long_chain",
            label=f"per-step overhead, {LONG_CHAIN}-step chain",
            seconds=engine_long / LONG_CHAIN,
            runs=1,
            unit="ms",
            baseline_seconds=engine_chain / CHAIN,
            baseline_label=f"{CHAIN}-step chain's",
            target_ratio=1.2,
        ),
        Measurement(
            key="successor_latency_p50",
            label=f"step done → successor running, {CHAIN}-step chain, p50 of {len(latencies)}",
            seconds=_percentile(latencies, 0.5),
            runs=REPEAT,
            unit="ms",
        ),
        Measurement(
            key="successor_latency_p95",
            label=f"step done → successor running, {CHAIN}-step chain, p95 of {len(latencies)}",
            seconds=_percentile(latencies, 0.95),
            runs=REPEAT,
            unit="ms",
        ),
        Measurement(
            key="fan_out_fan_in_makespan",
            label=f"{FAN}-step fan-out/fan-in makespan",
            seconds=engine_fan,
            runs=REPEAT,
            unit="ms",
            baseline_seconds=raw_fan,
            baseline_label="raw Celery group + callback",
            target_ratio=2.0,
        ),
    ]
