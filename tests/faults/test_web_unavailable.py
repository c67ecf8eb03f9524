"""The web tier with its database away: 503 in the error envelope, never a 500."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from tests.live import free_port, subprocess_secrets

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def web_without_database():
    """uvicorn as `manage.py serve` runs it, its DATABASE_URL a port nothing listens on."""
    port, nothing = free_port(), free_port()
    log = tempfile.TemporaryFile()
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{nothing}/orchestrator",
        "REDIS_URL": settings.REDIS_URL,
        "ORCHESTRATOR_ENV_FILE": "",
        "ORCHESTRATOR_DB_POOL_TIMEOUT": "1",
        "ORCHESTRATOR_RATE_LIMIT": "0",
        **subprocess_secrets(),
    }
    web = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--lifespan", "off"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/api/nowhere", timeout=5)
            break
        except httpx.TransportError:
            if web.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(log.read().decode(errors="replace")[-3000:]) from None
            time.sleep(0.1)
    yield url
    web.terminate()
    web.wait(timeout=15)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/workflows", None),
        ("POST", "/api/auth/token", {"username": "alice", "password": "whatever-it-is"}),
        ("POST", "/api/workflows/wf_x/run", {"input_data": {}}),
    ],
)
def test_a_request_that_cannot_reach_the_database_answers_503_in_the_envelope(web_without_database, method, path, body):
    response = httpx.request(
        method,
        f"{web_without_database}{path}",
        json=body,
        headers={"Authorization": "Bearer wfb_thisKeyIsNotChecked000000000000000000000"},
        timeout=30,
    )
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response.headers["Retry-After"]
