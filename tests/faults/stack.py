"""The distributed shape on private servers: a PostgreSQL and a Redis of the test's own,
migrated, with a tenant and an API key; the web process as ``manage.py serve`` runs it
(uvicorn), and a real Celery worker with its beat. The test process only speaks HTTP to
the web process and SQL (psycopg) to its PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from tests.engine.conftest import Worker
from tests.faults.private_services import PrivatePostgres, PrivateRedis
from tests.live import TEST_ENCRYPTION_KEY, free_port

ROOT = Path(__file__).resolve().parents[2]
TERMINAL = ("completed", "failed", "cancelled", "timed_out")


class Stack:
    def __init__(self, *, max_connections: int, env: dict[str, str] | None = None) -> None:
        self.pg = PrivatePostgres(max_connections=max_connections)
        self.redis = PrivateRedis()
        self.queue = f"test-stack-{uuid.uuid4().hex[:8]}"
        self.extra = env or {}
        self.web: subprocess.Popen | None = None
        self.web_log = tempfile.NamedTemporaryFile(prefix="web-", suffix=".log", delete=False)
        self.worker: Worker | None = None
        self.key = ""
        self.url = ""

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.pg.url(),
            "REDIS_URL": self.redis.url,
            "DJANGO_SECRET_KEY": "stack-test-secret-key-" + "x" * 40,
            "ORCHESTRATOR_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
            "ORCHESTRATOR_ENV_FILE": "",
            "ORCHESTRATOR_TASK_QUEUE": self.queue,
            "ORCHESTRATOR_RATE_LIMIT": "0",
            "ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS": "true",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            **self.extra,
        }

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=300
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout.strip()

    def start(self) -> Stack:
        self.pg.init()
        self.pg.create_database()
        self.redis.start()
        self.manage("migrate", "--noinput")
        self.manage("createtenant", "Acme", "--owner", "alice", "--password", "stack-password-1")
        self.key = self.manage("create_api_key", "alice", "--name", "stack").splitlines()[-1]
        self.start_web()
        env = self.env()
        self.worker = Worker(
            queue=self.queue,
            extra_env={
                k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "ORCHESTRATOR_TASK_QUEUE", "ORCHESTRATOR_ENV_FILE")
            }
            | {"ORCHESTRATOR_STEP_LEASE_SECONDS": "30", **self.extra},
        ).start()
        return self

    def start_web(self) -> None:
        """The web process as ``manage.py serve`` starts it in the distributed shape."""
        port = free_port()
        self.web = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
             "--lifespan", "off"],
            cwd=ROOT, env=self.env(), stdout=self.web_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.web.poll() is not None:
                raise RuntimeError(f"the web process exited:\n{self.web_output()}")
            try:
                httpx.get(f"{self.url}/api/health", timeout=10)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"the web process did not answer:\n{self.web_output()}")

    def web_output(self) -> str:
        return Path(self.web_log.name).read_text(errors="replace")[-5000:]

    def client(self, timeout: float = 60) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
            timeout=timeout,
        )

    def workflow(self, definition: dict) -> str:
        with self.client() as client:
            response = client.post("/api/workflows", json={"definition": definition})
        assert response.status_code == 201, response.text
        return response.json()["workflow"]["id"]

    def sql(self, query: str, params: tuple | None = None) -> list[tuple]:
        with self.pg.connect() as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def wait_for_runs(self, run_ids: list[str], timeout: float) -> dict[str, str]:
        """Polls the database until every run is terminal; answers {run_id: status}."""
        deadline = time.monotonic() + timeout
        statuses: dict[str, str] = {}
        while time.monotonic() < deadline:
            try:
                rows = self.sql("SELECT id, status FROM runs_run WHERE id = ANY(%s)", (run_ids,))
            except Exception:  # psycopg.OperationalError while the database is down
                rows = []
            statuses = dict(rows)
            if len(statuses) == len(run_ids) and all(s in TERMINAL for s in statuses.values()):
                return statuses
            time.sleep(0.1)
        waiting = {r: s for r, s in statuses.items() if s not in TERMINAL}
        raise AssertionError(
            f"{len(waiting)} of {len(run_ids)} runs not finished after {timeout} s: {list(waiting.items())[:5]}\n"
            f"worker:\n{self.worker.output()[-4000:] if self.worker else ''}"
        )

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        if self.web is not None and self.web.poll() is None:
            self.web.terminate()
            try:
                self.web.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.web.kill()
        self.redis.stop()
        self.pg.remove()
