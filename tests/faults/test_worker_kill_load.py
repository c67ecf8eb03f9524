"""A worker SIGKILLed under load (SPEC 15): 50 runs of three steps each, every step's side
effect counted by a local server; only the steps in flight at the kill run twice."""

from __future__ import annotations

import time

import pytest

from runs.services import run_create
from tests.factories import TenantFactory, UserFactory
from tests.faults.checks import assert_recorded_once, assert_side_effects, chain, running_steps, wait_for_runs
from tests.faults.servers import wait_until
from workflows.services import workflow_create

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]

RUNS = 50
STEPS = ["s0", "s1", "s2"]


def test_a_worker_killed_under_load_loses_no_run_and_repeats_only_steps_in_flight(stack_factory, side_effects):
    # A message the killed worker had taken but not yet started stays unacknowledged in Redis
    # for its visibility timeout (an hour); the reaper sends its step again after this long
    # (600 s by default). Leases (3 s) cover the steps that had started.
    stack = stack_factory(env={"ORCHESTRATOR_REDISPATCH_AFTER_SECONDS": "10"})
    stack.beat()
    first = stack.worker(concurrency=4)
    user = UserFactory(tenant=TenantFactory())
    workflow = workflow_create(user=user, definition=chain(side_effects.url), name="under load")
    run_ids = [run_create(workflow=workflow, inputs={}, user=user).id for _ in range(RUNS)]

    # A third of the work done, and calls under way: kill the worker while they are answered.
    wait_until(lambda: side_effects.calls() >= RUNS and side_effects.in_flight(), timeout=60, what="steps in flight")
    in_flight = side_effects.in_flight() | running_steps()
    first.kill()
    killed_at = time.monotonic()
    in_flight |= side_effects.in_flight() | running_steps()  # the server still answers the killed calls for a moment
    stack.worker(concurrency=4)
    restarted = time.monotonic() - killed_at

    finished_at = wait_for_runs(run_ids, timeout=120)
    recovery = finished_at - killed_at
    assert_recorded_once(run_ids, STEPS)
    repeated = assert_side_effects(side_effects.counts(), run_ids, STEPS, may_repeat=in_flight)
    print(
        f"\nworker SIGKILL under load: all {RUNS} runs finished {recovery:.1f} s after the kill "
        f"(new worker ready after {restarted:.1f} s; {len(in_flight)} calls in flight, {repeated} repeated)"
    )
