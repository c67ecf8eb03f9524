"""Real server subprocesses for tests that need more than one process.

``start_server`` runs ``uvicorn config.asgi:application`` on a free port against
the *test* database (read from ``django.conf.settings`` inside the test, where
its NAME is ``test_…``) and the same Redis, and waits until ``/api/health``
answers. A test using it needs ``transactional_db``: the subprocess only sees
committed rows. Stop every server before the test ends, so that no connection
of the subprocess outlives the test database's flush.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 60.0  # a loaded 2-core CI machine starts a server in seconds, rarely in tens


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def subprocess_database_url() -> str:
    """The URL of the database this test runs against (``test_…`` under pytest-django)."""
    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql"):
        raise RuntimeError(f"live servers need PostgreSQL, not {db['ENGINE']}")
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{quote(db['NAME'], safe='')}"


# A fixed key for subprocesses when the test process has none: servers and workers
# refuse to start without one when DEBUG is off (orchestrator/startup.py).
TEST_ENCRYPTION_KEY = "dGVzdC1vbmx5LWtleS1mb3ItdGhlLXRlc3Qtc3VpdGU="


def subprocess_secrets() -> dict[str, str]:
    """What a server or worker started by a test needs to start, matching this process."""
    return {
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "ORCHESTRATOR_ENCRYPTION_KEYS": settings.ORCHESTRATOR_ENCRYPTION_KEYS or TEST_ENCRYPTION_KEY,
    }


def _python() -> str:
    venv_python = ROOT / ".venv" / "bin" / "python"
    return str(venv_python) if venv_python.exists() else sys.executable


def start_server(env_overrides: dict[str, str] | None = None) -> tuple[str, subprocess.Popen]:
    """Start a server; answer ``(base_url, process)`` once ``/api/health`` answers (any status)."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": subprocess_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        **subprocess_secrets(),
        "ORCHESTRATOR_RATE_LIMIT": str(settings.ORCHESTRATOR_RATE_LIMIT),
        "ORCHESTRATOR_MAX_BODY_BYTES": str(settings.ORCHESTRATOR_MAX_BODY_BYTES),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    env.update({name: str(value) for name, value in (env_overrides or {}).items()})
    log = tempfile.TemporaryFile(mode="w+b")
    process = subprocess.Popen(
        [_python(), "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log = log  # type: ignore[attr-defined]
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = server_log(process)
            stop_server(process)
            raise RuntimeError(f"the server exited with status {process.returncode}:\n{output}")
        try:
            httpx.get(f"{base_url}/api/health", timeout=5.0)  # a check may wait 1 s for the database
            return base_url, process
        except httpx.TransportError:
            time.sleep(0.1)
    process.terminate()
    process.wait(timeout=10)
    output = server_log(process)
    stop_server(process)
    raise RuntimeError(f"the server did not answer /api/health within {STARTUP_TIMEOUT:.0f}s:\n{output}")


def server_log(process: subprocess.Popen) -> str:
    log = getattr(process, "log", None)
    if log is None or log.closed:
        return ""
    log.seek(0)
    return log.read().decode(errors="replace")[-5000:]


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    log = getattr(process, "log", None)
    if log is not None and not log.closed:
        log.close()


def start_redis() -> tuple[str, subprocess.Popen]:
    """A redis-server of the test's own on a free port (no persistence): a broker no other
    test's worker listens on. Answers ``(url, process)``; stop it with ``stop_redis``."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return f"redis://127.0.0.1:{port}/0", process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"redis-server did not start on port {port}")


def stop_redis(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
