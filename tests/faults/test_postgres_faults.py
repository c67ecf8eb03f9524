"""PostgreSQL connections dropped mid-step, then PostgreSQL restarted (SPEC 15): no run is
lost, no step is recorded twice, and the same worker and beat carry on (neither restarted).

The cluster is the test's own (tests/faults/servers.py); this process's ORM reads it too
(the ``on_cluster`` fixture). Each step is a call to a local server that takes a second,
so both faults land while steps are between their claim and their recorded result. Such a
step (running in the database, or its call being answered, when the fault struck) may be
called twice; every other step exactly once."""

from __future__ import annotations

import time

import pytest

from runs.services import run_create
from tests.factories import TenantFactory, UserFactory
from tests.faults.checks import (
    assert_recorded_once,
    assert_side_effects,
    chain,
    running_steps,
    wait_for_runs,
)
from tests.faults.servers import wait_until
from workflows.services import workflow_create

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]

RUNS = 10
STEPS = ["s0", "s1", "s2"]


def test_postgres_connections_dropped_and_a_restart_lose_no_run_and_record_no_step_twice(
    on_cluster, stack_factory, side_effects
):
    side_effects.delay = 1.0
    stack = stack_factory(database_url=on_cluster.url)
    worker = stack.worker(concurrency=4)
    beat = stack.beat()
    user = UserFactory(tenant=TenantFactory())
    workflow = workflow_create(user=user, definition=chain(side_effects.url), name="postgres faults")
    run_ids = [run_create(workflow=workflow, inputs={}, user=user).id for _ in range(RUNS)]

    # 1. Every client backend terminated while the worker's steps wait on their calls.
    wait_until(lambda: len(side_effects.in_flight()) >= 2, timeout=60, what="steps mid-call")
    in_flight = side_effects.in_flight() | running_steps()
    terminated = on_cluster.terminate_backends()
    in_flight |= side_effects.in_flight() | running_steps()
    assert terminated >= 1
    calls = side_effects.calls()

    # 2. The worker made progress on fresh connections; now PostgreSQL itself restarts.
    wait_until(
        lambda: side_effects.calls() >= calls + 4 and side_effects.in_flight(), timeout=90, what="progress after"
    )
    in_flight |= side_effects.in_flight() | running_steps()
    on_cluster.restart()
    restarted_at = time.monotonic()
    in_flight |= side_effects.in_flight() | running_steps()

    finished_at = wait_for_runs(run_ids, timeout=120)
    print(f"\npostgres restart: all {RUNS} runs finished {finished_at - restarted_at:.1f} s after the restart")

    assert_recorded_once(run_ids, STEPS)
    assert_side_effects(side_effects.counts(), run_ids, STEPS, may_repeat=in_flight)
    for process in (worker, beat):
        assert process.alive(), process.output()[-3000:]
