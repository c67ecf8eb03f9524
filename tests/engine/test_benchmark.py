"""``manage.py benchmark`` starts its own worker with nothing more set than the command had."""

from __future__ import annotations

import os
import uuid

import pytest

from config.celery import app
from orchestrator.benchmarks.engine import BenchWorker

pytestmark = [pytest.mark.engine]


def test_the_benchmarks_worker_starts_with_debug_off_and_no_secrets_set(settings, monkeypatch):
    settings.DEBUG = False
    settings.ORCHESTRATOR_ENCRYPTION_KEYS = ""
    for name in ("DEBUG", "DJANGO_SECRET_KEY", "ORCHESTRATOR_ENCRYPTION_KEYS"):
        monkeypatch.delenv(name, raising=False)
    queue = f"bench-test-{uuid.uuid4().hex[:8]}"

    with BenchWorker(queue) as worker:  # raises CommandError with the worker's log if it refused to start
        assert worker.proc.poll() is None
        assert app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=2)
