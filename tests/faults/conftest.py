from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.db import connections

from config.celery import app as celery_app
from tests.engine.conftest import _engine_queue, flush_retrying_deadlocks, http_server, worker, worker_factory  # noqa: F401
from tests.faults.servers import PostgresCluster, RedisServer, Stack
from tests.live import subprocess_database_url


class SideEffects:
    """A local HTTP server each step calls: it counts every call per path (a step's side
    effect), knows which calls are still being answered (steps in flight), and answers
    after ``delay`` seconds, so that a fault can land while steps are mid-call."""

    def __init__(self, delay: float = 0.2) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.started: Counter[str] = Counter()
        self.finished: Counter[str] = Counter()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                with recorder.lock:
                    recorder.started[path] += 1
                time.sleep(recorder.delay)
                payload = b'{"ok": true}'
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller was killed mid-call
                finally:
                    with recorder.lock:
                        recorder.finished[path] += 1

            do_POST = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def calls(self) -> int:
        with self.lock:
            return sum(self.started.values())

    def in_flight(self) -> set[str]:
        with self.lock:
            return {path for path, count in self.started.items() if count > self.finished[path]}

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(self.started)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def side_effects():
    server = SideEffects()
    yield server
    server.close()


@pytest.fixture
def redis_server():
    server = RedisServer().start()
    yield server
    server.remove()


@pytest.fixture
def pg_cluster():
    cluster = PostgresCluster().init()
    cluster.migrate()
    yield cluster
    cluster.remove()


@pytest.fixture
def stack_factory(transactional_db):
    """``make(redis_url=…, database_url=…)``: worker/beat/web processes; by default against the
    test database and the suite's Redis. Tasks this process sends go to the stack's queue."""
    stacks: list[Stack] = []
    previous = celery_app.conf.task_default_queue

    def make(*, redis_url: str | None = None, database_url: str | None = None, env: dict | None = None) -> Stack:
        stack = Stack(
            database_url=database_url or subprocess_database_url(), redis_url=redis_url or settings.REDIS_URL, env=env
        )
        celery_app.conf.task_default_queue = stack.queue
        stacks.append(stack)
        return stack

    with flush_retrying_deadlocks():
        yield make
    celery_app.conf.task_default_queue = previous
    for stack in stacks:
        stack.stop()


@pytest.fixture
def on_cluster(transactional_db, pg_cluster):
    """This test process's ORM on the private cluster for the test (so that the test reads what
    the worker writes there); pytest-django's flush afterwards runs on the test database again."""
    conn = connections["default"]
    saved = dict(conn.settings_dict)

    def drop_connections() -> None:
        with contextlib.suppress(Exception):
            conn.close()
        if hasattr(conn, "close_pool"):  # a pool is per alias: one to the old address must go
            with contextlib.suppress(Exception):
                conn.close_pool()

    drop_connections()
    conn.settings_dict.update(HOST="127.0.0.1", PORT=pg_cluster.port, NAME=pg_cluster.name, USER="postgres")
    try:
        yield pg_cluster
    finally:
        drop_connections()
        conn.settings_dict.clear()
        conn.settings_dict.update(saved)
