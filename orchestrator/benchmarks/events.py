"""Event latency (SPEC 15): from a step's completion to an SSE client and a WebSocket client.

Three kinds of processes, as in production: a Celery worker (prefork, started for the
benchmark on its own queue) runs the steps and publishes their events; a uvicorn server
serves ``/api/workflows/runs/{id}/stream`` and ``/ws/runs/{id}``; this process holds one
SSE client and one WebSocket client.

The workflow is a signal wait followed by a chain of ``transform`` steps. The clients
connect while the run waits; receiving its stored events up to ``run_paused`` proves they
are subscribed. Then the signal releases the chain. A sample is one ``step_completed``
event: the client's receipt time minus the event's ``timestamp``, which the worker sets
when it records the completion inside the step's transaction, so the commit, the
publication through Redis and the server's relay are all inside the figure. Everything
runs on one machine, so the two clocks are one.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx
from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection

from orchestrator.benchmarks import NEEDS_DISTRIBUTED, Measurement, private_queue
from orchestrator.benchmarks.engine import BenchWorker, child_env

CHAIN = 100
RUNS = 3  # 300 samples per client
TARGET_P95_SECONDS = 0.050


class BenchServer:
    """``uvicorn config.asgi:application`` on a free local port."""

    def __init__(self, queue: str, extra_env: dict[str, str] | None = None, workers: bool = False) -> None:
        """``workers``: as ``manage.py serve`` runs it, WEB_CONCURRENCY processes; else one."""
        self.queue, self.extra_env, self.workers = queue, extra_env or {}, workers
        self.log = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)

    def __enter__(self) -> BenchServer:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {**child_env(self.queue), **self.extra_env}
        cmd = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning", "--lifespan", "off",
               "--workers", str(settings.WEB_CONCURRENCY if self.workers else 1)]  # fmt: skip
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                httpx.get(f"{self.url}/api/health", timeout=2)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.__exit__()
        raise CommandError(f"benchmark server did not start:\n{Path(self.log.name).read_text()[-2000:]}")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _received_at(payload: dict) -> float:
    return time.time() - datetime.fromisoformat(payload["timestamp"]).timestamp()


async def _watch(server_url: str, token: str, run_id: str, release) -> tuple[list[float], list[float]]:
    """Both clients watch one run; ``release()`` (sync) sends the signal once both are subscribed."""
    from websockets.asyncio.client import connect

    sse_samples: list[float] = []
    ws_samples: list[float] = []
    sse_ready, ws_ready = asyncio.Event(), asyncio.Event()

    def take(payload: dict, samples: list[float], ready: asyncio.Event) -> bool:
        latency = _received_at(payload)  # first, before any other work of the client
        if payload["type"] == "run_paused":
            ready.set()
        elif payload["type"] == "step_completed" and payload["step_id"] != "gate":
            samples.append(latency)
        return payload["type"] in {"run_completed", "run_failed", "run_cancelled", "run_timed_out"}

    async def sse() -> None:
        url = f"{server_url}/api/workflows/runs/{run_id}/stream"
        async with httpx.AsyncClient(timeout=300) as http:
            async with http.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as response:
                if response.status_code != 200:
                    raise CommandError(f"the stream answered {response.status_code}")
                async for line in response.aiter_lines():
                    if line.startswith("data: ") and take(json.loads(line[6:]), sse_samples, sse_ready):
                        return

    async def ws() -> None:
        ws_url = server_url.replace("http://", "ws://", 1)
        async with connect(f"{ws_url}/ws/runs/{run_id}?after=0&token={token}") as socket_:
            async for message in socket_:
                if take(json.loads(message), ws_samples, ws_ready):
                    return

    watching = asyncio.gather(sse(), ws())
    try:
        async with asyncio.timeout(30):
            await asyncio.gather(sse_ready.wait(), ws_ready.wait())
    except TimeoutError:
        watching.cancel()
        raise CommandError("the benchmark clients did not subscribe within 30 s")
    await asyncio.to_thread(release)
    async with asyncio.timeout(300):
        await watching
    return sse_samples, ws_samples


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _wait_status(run_id: str, statuses: set[str], timeout: float = 300) -> str:
    from runs.models import Run

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = Run.objects.filter(id=run_id).values_list("status", flat=True).get()
        if status in statuses:
            return status
        time.sleep(0.01)
    raise CommandError(f"run {run_id} did not reach {sorted(statuses)} in {timeout} s")


def _release(run_id: str) -> None:
    from runs.models import Run
    from runs.services import run_signal

    try:
        run_signal(run=Run.objects.get(id=run_id), payload={"go": True})
    finally:
        connection.close()  # this thread's connection: the event loop's helper thread goes on living


def run() -> list[Measurement]:
    if settings.EMBEDDED:
        raise CommandError(NEEDS_DISTRIBUTED.format(section="events"))
    from orchestrator.models import Tenant, User
    from orchestrator.tenancy.authentication import token_pair_for
    from runs.models import RUN_TERMINAL
    from runs.services import run_create
    from workflows.services import workflow_create

    tenant, _ = Tenant.objects.get_or_create(name="benchmark")
    user, _ = User.objects.get_or_create(username="benchmark", defaults={"tenant": tenant, "role": "owner"})
    steps = [{"id": "gate", "type": "wait", "config": {"signal": "go"}}]
    for i in range(CHAIN):
        steps.append({"id": f"s{i}", "type": "transform", "config": {"value": 1}, "depends_on": [steps[-1]["id"]]})
    workflow = workflow_create(user=user, definition={"steps": steps}, name=f"bench events {uuid.uuid4().hex[:8]}")
    token = token_pair_for(user)["access"]
    sse_samples: list[float] = []
    ws_samples: list[float] = []
    try:
        with private_queue() as queue, BenchWorker(queue), BenchServer(queue) as server:
            for _ in range(RUNS):
                run = run_create(workflow=workflow, inputs={}, trigger="api", user=user)
                _wait_status(run.id, {"paused"})
                sse, ws = asyncio.run(_watch(server.url, token, run.id, lambda run_id=run.id: _release(run_id)))
                if _wait_status(run.id, set(RUN_TERMINAL)) != "completed":
                    raise CommandError(f"benchmark run {run.id} did not complete")
                sse_samples += sse
                ws_samples += ws
    finally:
        workflow.delete()
    if len(sse_samples) != CHAIN * RUNS or len(ws_samples) != CHAIN * RUNS:
        raise CommandError(f"clients missed events: SSE {len(sse_samples)}, WebSocket {len(ws_samples)}")
    measurements = []
    for client, samples in (("SSE", sse_samples), ("WebSocket", ws_samples)):
        key = client.lower()
        n = len(samples)
        measurements += [
            Measurement(
                key=f"event_latency_{key}_p50",
                label=f"event latency, step completion → {client} client, p50 of {n}",
                seconds=_percentile(samples, 0.50),
                runs=n,
                unit="ms",
            ),
            Measurement(
                key=f"event_latency_{key}_p95",
                label=f"event latency, step completion → {client} client, p95 of {n}",
                seconds=_percentile(samples, 0.95),
                runs=n,
                unit="ms",
                target_seconds=TARGET_P95_SECONDS,
            ),
        ]
    return measurements
