"""Management commands after `make run`, in the same directory, with nothing set: they read
``.env.local`` as make run did, and ``run_workflow`` runs its workflow in its own process."""

from __future__ import annotations

import json
import time

import pytest

from tests.embedded.conftest import Api
from tests.served import ServedCopy

pytestmark = [pytest.mark.embedded, pytest.mark.slow]

CHAIN = [
    {"id": "a", "type": "transform", "config": {"value": "{{ input.n }}"}},
    {"id": "b", "type": "transform", "config": {"value": "{{ steps.a.output * 2 }}"}, "depends_on": ["a"]},
    {"id": "c", "type": "transform", "config": {"value": "{{ steps.b.output + 1 }}"}, "depends_on": ["b"]},
]


def _run_workflow(copy: ServedCopy, workflow_id: str, *args: str) -> tuple[int, dict, str, float]:
    started = time.monotonic()
    result = copy.manage("run_workflow", workflow_id, *args)
    elapsed = time.monotonic() - started
    assert result.stdout.strip(), result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr, elapsed


def test_run_workflow_runs_the_workflow_in_its_own_process_while_make_run_is_up(served: ServedCopy, api: Api):
    workflow = api.workflow(CHAIN)

    code, body, progress, elapsed = _run_workflow(served, workflow, "--input", '{"n": 20}')

    assert code == 0, progress
    assert body["status"] == "completed" and body["outputs"] == {"c": 41}
    assert "[##############################] 3/3 completed" in progress
    assert api.get(body["run_id"])["status"] == "completed"  # the server reads the same database
    assert elapsed < 60, elapsed


def test_run_workflow_runs_the_demo_that_calls_the_server(served: ServedCopy, api: Api):
    """The seeded "Check this server" calls 127.0.0.1: allowed by .env.local, as under make run."""
    found = api.call("GET", "/api/workflows", params={"search": "Check this server"})["workflows"]
    demo = next(w for w in found if w["name"] == "Check this server")

    code, body, progress, _ = _run_workflow(served, demo["id"])

    assert code == 0, progress
    assert body["outputs"] == {"report_ok": "All checks passed", "report_problem": None}


def test_run_workflow_exits_1_for_a_failed_run(served: ServedCopy, api: Api):
    workflow = api.workflow([{"id": "bad", "type": "transform", "config": {"value": "{{ input.missing.key }}"}}])

    code, body, progress, _ = _run_workflow(served, workflow)

    assert code == 1 and body["status"] == "failed"
    assert "bad" in progress and "failed" in progress


def test_check_and_rotate_use_the_key_make_run_wrote(served: ServedCopy):
    assert "ORCHESTRATOR_ENCRYPTION_KEYS=" in (served.dir / ".env.local").read_text()

    check = served.manage("check")
    assert check.returncode == 0, check.stderr
    assert "ORCHESTRATOR_ENCRYPTION_KEYS" not in check.stdout + check.stderr

    rotate = served.manage("rotate_encryption_key")
    assert rotate.returncode == 0, rotate.stderr
    assert rotate.stdout.startswith("current key id ")

    # ... and the warning does appear when it is true: no env file, no key
    bare = served.manage("check", ORCHESTRATOR_ENV_FILE="")
    assert "ORCHESTRATOR_ENCRYPTION_KEYS is not set" in bare.stdout + bare.stderr


def test_benchmark_runs_what_the_embedded_shape_can_and_says_what_needs_redis(served: ServedCopy):
    result = served.manage("benchmark", timeout=300)

    assert result.returncode == 0, result.stderr
    assert "validation 10,000 steps:" in result.stdout
    assert "engine: skipped. The engine benchmark needs the distributed shape" in result.stdout
    assert "events: skipped." in result.stdout and "set REDIS_URL" in result.stdout

    named = served.manage("benchmark", "--only", "engine")
    assert named.returncode != 0 and "needs the distributed shape" in named.stderr


def test_run_workflow_runs_in_a_fresh_copy_where_make_run_never_ran():
    """Nothing set, no .env.local, no server: the command's own worker runs the steps."""
    copy = ServedCopy()
    try:
        for args in (
            ("migrate", "--noinput"),
            ("createtenant", "Solo", "--owner", "solo", "--password", "solo-pass-123"),
        ):
            done = copy.manage(*args)
            assert done.returncode == 0, done.stderr
        (copy.dir / "chain.json").write_text(json.dumps({"name": "Chain", "definition": {"steps": CHAIN}}))
        imported = copy.manage("import_workflows", "chain.json", "--user", "solo")
        assert imported.returncode == 0, imported.stderr
        workflow = imported.stdout.split("\t")[0]

        code, body, progress, _ = _run_workflow(copy, workflow, "--input", '{"n": 1}')

        assert code == 0, progress
        assert body["outputs"] == {"c": 3}
    finally:
        copy.remove()
