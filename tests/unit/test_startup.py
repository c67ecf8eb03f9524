"""SPEC 16: with DEBUG off, the web app, worker and beat refuse to start without their secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEY = "dGVzdC1vbmx5LWtleS1mb3ItdGhlLXRlc3Qtc3VpdGU="


def _start(code: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SECRET_KEY", "ORCHESTRATOR_ENCRYPTION_KEYS")}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**base, "DEBUG": "false", **env},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("entry", ["import config.wsgi", "import config.asgi"])
def test_the_web_app_refuses_without_secrets(entry):
    result = _start(entry)
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    assert "ORCHESTRATOR_ENCRYPTION_KEYS is not set" in result.stderr


def test_a_malformed_key_is_refused_with_the_reason():
    result = _start("import config.wsgi", DJANGO_SECRET_KEY="x" * 50, ORCHESTRATOR_ENCRYPTION_KEYS="short")
    assert result.returncode != 0
    assert "key #1" in result.stderr and "short" not in result.stderr.split("Refusing", 1)[1].split("\n")[0][-10:]


def test_the_worker_refuses_without_secrets():
    code = "from config.celery import app; app.worker_main(['worker', '--pool=solo', '-Q', 'never-used-queue'])"
    result = _start(code)
    assert result.returncode != 0
    assert "Refusing to start the worker" in result.stdout + result.stderr


def test_with_secrets_or_in_debug_it_starts():
    assert _start("import config.wsgi", DJANGO_SECRET_KEY="x" * 50, ORCHESTRATOR_ENCRYPTION_KEYS=KEY).returncode == 0
    assert _start("import config.wsgi", DEBUG="true").returncode == 0
