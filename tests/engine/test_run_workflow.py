"""``manage.py run_workflow`` in the distributed shape: the workers run the steps; with none
answering it says so at once and starts nothing. (The embedded shape: tests/embedded/.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from io import StringIO

import pytest
from django.core.management import call_command

from runs.models import Run
from tests.factories import TenantFactory, UserFactory
from tests.live import ROOT, start_redis, stop_redis, subprocess_database_url, subprocess_secrets
from workflows.services import workflow_create

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]

CHAIN = [
    {"id": "a", "type": "transform", "config": {"value": "{{ input.n }}"}},
    {"id": "b", "type": "transform", "config": {"value": "{{ steps.a.output * 2 }}"}, "depends_on": ["a"]},
    {"id": "c", "type": "transform", "config": {"value": "{{ steps.b.output + 1 }}"}, "depends_on": ["b"]},
]


@pytest.fixture
def user():
    return UserFactory(tenant=TenantFactory())


def _workflow(user, steps):
    return workflow_create(user=user, definition={"steps": steps}, name=f"wf {uuid.uuid4().hex[:8]}")


def _run(*args: str) -> tuple[int, dict, str]:
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("run_workflow", *args, stdout=out, stderr=err)
    return exit_.value.code, json.loads(out.getvalue()), err.getvalue()


def test_run_workflow_follows_the_run_with_a_progress_bar_and_exits_0(shared_worker, user):
    code, body, progress = _run(_workflow(user, CHAIN).id, "--input", '{"n": 4}')

    assert code == 0, progress
    assert body["status"] == "completed" and body["outputs"] == {"c": 9}
    assert "[##############################] 3/3 completed" in progress


def test_run_workflow_exits_1_when_the_run_fails(shared_worker, user):
    bad = _workflow(user, [{"id": "bad", "type": "transform", "config": {"value": "{{ input.missing.key }}"}}])

    code, body, progress = _run(bad.id)

    assert code == 1 and body["status"] == "failed"
    assert "bad" in progress


def test_run_workflow_without_a_worker_says_how_to_start_one_at_once_and_starts_nothing(user):
    workflow = _workflow(user, CHAIN)
    redis_url, redis_server = start_redis()  # a broker no worker listens on
    env = {
        **os.environ,
        **subprocess_secrets(),
        "DATABASE_URL": subprocess_database_url(),
        "REDIS_URL": redis_url,
    }
    try:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "manage.py", "run_workflow", workflow.id],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        elapsed = time.monotonic() - started
    finally:
        stop_redis(redis_server)

    assert result.returncode == 2, result.stderr
    assert "No worker answered" in result.stderr and "celery -A config worker" in result.stderr
    assert elapsed < 30, elapsed  # process start and one ping, not a long wait
    assert not Run.objects.filter(workflow=workflow).exists()
