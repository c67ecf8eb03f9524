"""A real Celery worker process (with its own beat) against the test database and
Redis, and HTTP servers on 127.0.0.1 standing in for the outside world."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management.base import CommandError
from django.test import TransactionTestCase

from config.celery import app as celery_app
from tests.live import subprocess_secrets

ROOT = Path(__file__).resolve().parents[2]
QUEUE = f"test-{uuid.uuid4().hex[:8]}"


def _database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """``celery -A config worker -B`` as a child process; kill() is a real SIGKILL."""

    def __init__(
        self, concurrency: int = 2, extra_env: dict | None = None, queue: str = QUEUE, scheduler: str | None = None
    ) -> None:
        self.concurrency = concurrency
        # Beat's scheduler class; the default keeps its schedule in a private file.
        self.scheduler = scheduler
        self.extra_env = extra_env or {}
        self.queue = queue
        self.proc: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="worker-", suffix=".log", delete=False)
        self.schedule = Path(tempfile.mkdtemp()) / "beat-schedule"

    def start(self) -> Worker:
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": settings.REDIS_URL,
            **subprocess_secrets(),
            "ORCHESTRATOR_TASK_QUEUE": self.queue,
            "ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS": "true",
            "ORCHESTRATOR_STEP_LEASE_SECONDS": "3",
            "ORCHESTRATOR_SWEEP_INTERVAL": "0.5",
            "ORCHESTRATOR_LOG_CLOCK": "true",  # wait_for_sweep reads the clock's lines
            "ORCHESTRATOR_REAP_INTERVAL": "1",
            **self.extra_env,
        }
        cmd = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "-B",
            "--scheduler", "celery.beat:PersistentScheduler", "-s", str(self.schedule),
            "-Q", self.queue, "--pool", "prefork", f"--concurrency={self.concurrency}",
            "--without-gossip", "--without-mingle", "-l", "info", "-n", f"{self.queue}-{uuid.uuid4().hex[:4]}@%h",
        ]  # fmt: skip
        if self.scheduler:
            at = cmd.index("--scheduler")
            cmd[at : at + 4] = ["--scheduler", self.scheduler]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "ready." in Path(self.log.name).read_text(errors="replace"):
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"worker did not start:\n{self.output()[-4000:]}")

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def wait_for_log(self, pattern: str, *, after: int = 0, timeout: float = 30) -> int:
        """Until the worker's log, from character ``after`` on, matches ``pattern`` (a regex);
        answers where the match ends. What a test waits on before it asserts that
        something did *not* happen: the worker's own word that it got that far."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = regex.search(self.output(), after)
            if match:
                return match.end()
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"the worker never logged {pattern!r} in {timeout} s:\n{self.output()[-4000:]}")

    def wait_for_task(self, task_id: str, timeout: float = 30) -> None:
        """Until the worker finished task ``task_id`` (whatever the task did)."""
        task = re.escape(task_id)
        self.wait_for_log(rf"\[{task}\] (succeeded|raised|failed)|revoked task: \S+\[{task}\]", timeout=timeout)

    def wait_for_sweep(self, *, after: int = 0, timeout: float = 30) -> None:
        """Until a sweep (due retries, finished waits, overdue runs) that the worker received
        after log position ``after`` ran to its end."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.output()
            received = re.findall(r"Task orchestrator\.sweep\[([\w-]+)\] received", log[after:])
            if any(f"orchestrator.sweep[{task_id}] succeeded" in log for task_id in received):
                return
            time.sleep(0.05)
        raise AssertionError(f"no sweep ran to its end in {timeout} s:\n{self.output()[-4000:]}")

    def kill(self) -> None:
        """SIGKILL the whole worker (main process, pool children and beat) at once."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="session")
def _engine_queue():
    """Tasks this test process sends go to the queue only our workers read."""
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = QUEUE
    yield QUEUE
    celery_app.conf.task_default_queue = previous


@pytest.fixture
def worker(transactional_db, _engine_queue):
    started = Worker().start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def shared_worker_env() -> dict:
    """Extra environment of ``shared_worker``; a test module overrides this fixture to change it."""
    return {}


def _flush_retrying_deadlocks(teardown):
    """The flush between tests TRUNCATEs table by table; a live worker's join or two-table
    transaction can lock the same tables in the other order, and PostgreSQL then aborts
    the flush as a deadlock. The aborted flush rolled back whole: run it again."""

    def flush(self) -> None:
        for attempt in range(5):
            try:
                return teardown(self)
            except CommandError as exc:
                if attempt == 4 or "deadlock detected" not in str(exc.__cause__):
                    raise
                time.sleep(0.2)

    return flush


@pytest.fixture(scope="module")
def shared_worker(django_db_setup, _engine_queue, shared_worker_env):
    """One worker for a whole module (starting one per test costs seconds). Tests that use
    it still take ``transactional_db``: a flushed row is simply not found by the worker."""
    started = Worker(extra_env=shared_worker_env).start()
    with flush_retrying_deadlocks():
        yield started
    started.stop()


@contextlib.contextmanager
def flush_retrying_deadlocks():
    """While a worker outlives single tests, the between-test flush retries its deadlocks."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            TransactionTestCase, "_fixture_teardown", _flush_retrying_deadlocks(TransactionTestCase._fixture_teardown)
        )
        yield


@pytest.fixture
def worker_factory(transactional_db, _engine_queue):
    """``make(isolated=True)`` puts the worker on a queue of its own, and this process sends
    there for the rest of the test, so a module's ``shared_worker`` never takes its steps."""
    workers: list[Worker] = []

    def make(isolated: bool = False, **kwargs) -> Worker:
        if isolated:
            kwargs["queue"] = f"{QUEUE}-{uuid.uuid4().hex[:6]}"
            celery_app.conf.task_default_queue = kwargs["queue"]
        w = Worker(**kwargs).start()
        workers.append(w)
        return w

    yield make
    celery_app.conf.task_default_queue = QUEUE
    for w in workers:
        w.stop()


class Recorder:
    """What a local HTTP server received; handlers answer per path."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.routes: dict[str, object] = {}

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r["path"].split("?")[0] == path)


@pytest.fixture
def http_server():
    """A threaded HTTP server on 127.0.0.1. ``server.routes[path] = (status, body, delay)`` or a callable."""
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            path = self.path.split("?")[0]
            with recorder.lock:
                recorder.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": raw}
                )
                attempt = sum(1 for r in recorder.requests if r["path"].split("?")[0] == path)
            route = recorder.routes.get(path, (200, {"ok": True}, 0))
            if callable(route):
                route = route(attempt, raw, dict(self.headers))
            status, body, delay = (list(route) + [0])[:3]
            if delay:
                time.sleep(delay)
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield recorder
    server.shutdown()
    server.server_close()


def wait_for_run(run_id: str, timeout: float = 30, statuses: tuple = ("completed", "failed", "cancelled", "timed_out")):
    from runs.models import Run

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = Run.objects.get(id=run_id)
        if run.status in statuses:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} is still {Run.objects.get(id=run_id).status} after {timeout} s")


def wait_for_step(run_id: str, step_id: str, statuses: tuple, timeout: float = 15):
    """Poll one top-level step run of a run until it reaches one of ``statuses``."""
    from runs.models import StepRun

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        step_run = StepRun.objects.filter(run_id=run_id, step_id=step_id, parent__isnull=True).first()
        if step_run is not None and step_run.status in statuses:
            return step_run
        time.sleep(0.05)
    raise AssertionError(f"step {step_id} of {run_id} did not reach {statuses} in {timeout} s")


def wait_for_request(server: Recorder, path: str, count: int = 1, timeout: float = 15) -> None:
    """Poll a local HTTP server until ``path`` was requested ``count`` times."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.count(path) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} was requested {server.count(path)} times, not {count}, in {timeout} s")
