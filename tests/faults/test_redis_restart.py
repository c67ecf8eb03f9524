"""Redis restarted mid-run (SPEC 15): runs in flight, events streaming to an SSE and a
WebSocket client, beat running. Every run completes with each step recorded once, the
clients resume without gap or duplicate, and the worker, beat and web server reconnect
by themselves (none of them is restarted).

The Redis is the test's own (tests/faults/servers.py), with its append-only file: a
restart keeps the queued messages, as a restarted production Redis does, and drops
every connection of every process."""

from __future__ import annotations

import time

import httpx
import pytest

from apikeys.services import api_key_create
from runs.models import Event
from tests.factories import TenantFactory, UserFactory
from tests.faults.checks import assert_recorded_once, assert_side_effects, chain, running_steps, wait_for_runs
from tests.faults.clients import SseFollower, WsFollower, sequences
from tests.faults.servers import wait_until
from workflows.services import workflow_create

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]

RUNS = 10


def _definition(url: str) -> dict:
    """Two calls, a one-second wait (a due row the sweeper, i.e. beat, dispatches), two calls."""
    definition = chain(url, length=4)
    steps = definition["steps"]
    steps.insert(2, {"id": "w", "type": "wait", "config": {"seconds": 1}, "depends_on": ["s1"]})
    steps[3]["depends_on"] = ["w"]
    return definition


def test_a_redis_restart_mid_run_loses_no_run_and_no_live_event(stack_factory, redis_server, side_effects):
    side_effects.delay = 0.5
    stack = stack_factory(
        redis_url=redis_server.url,
        env={
            "ORCHESTRATOR_STREAM_HEARTBEAT_SECONDS": "5",
            # A message the worker had taken but not yet started when the connection dropped
            # stays unacknowledged in Redis (until its visibility timeout, an hour): the reaper
            # sends its step again after this long (600 s by default).
            "ORCHESTRATOR_REDISPATCH_AFTER_SECONDS": "10",
        },
    )
    worker = stack.worker(concurrency=4)
    beat = stack.beat()
    web = stack.web()
    user = UserFactory(tenant=TenantFactory())
    _, api_key = api_key_create(user=user, name="faults")
    workflow = workflow_create(user=user, definition=_definition(side_effects.url), name="redis restart")

    run_ids = []
    for _ in range(RUNS):
        response = httpx.post(
            f"{web.url}/api/workflows/{workflow.id}/run", json={"input_data": {}}, headers={"X-API-Key": api_key}
        )
        assert response.status_code in (200, 201, 202), response.text
        run_ids.append(response.json()["run_id"])
    sse = SseFollower(web.url, run_ids[0], api_key).start()
    ws = WsFollower(web.url, run_ids[1], api_key).start()

    # Mid-run: every run has made a call, calls are being answered, both clients are receiving.
    wait_until(
        lambda: side_effects.calls() >= RUNS and side_effects.in_flight() and len(sse.events) >= 3 and ws.events,
        timeout=60,
        what="runs under way and both clients receiving",
    )
    wait_until(lambda: _health(web) == "ok", timeout=30, what="health ok before the restart")
    marks = {process: len(process.output()) for process in (worker, beat)}
    in_flight = side_effects.in_flight() | running_steps()
    redis_server.restart()
    restarted_at = time.monotonic()
    in_flight |= side_effects.in_flight() | running_steps()

    try:
        finished_at = wait_for_runs(run_ids, timeout=120)
    except AssertionError as stuck:
        logs = "\n".join(
            f"--- {name}:\n{p.output()[marks[p] :][-6000:]}" for name, p in (("worker", worker), ("beat", beat))
        )
        raise AssertionError(f"{stuck}\n{logs}") from None
    sse.join()
    ws.join()
    print(
        f"\nredis restart: all {RUNS} runs finished {finished_at - restarted_at:.1f} s after the restart "
        f"(SSE connections {sse.connections}, WebSocket connections {ws.connections})"
    )

    steps = ["s0", "s1", "w", "s2", "s3"]
    assert_recorded_once(run_ids, steps)
    assert_side_effects(side_effects.counts(), run_ids, ["s0", "s1", "s2", "s3"], may_repeat=in_flight)
    for follower, run_id in ((sse, run_ids[0]), (ws, run_ids[1])):
        stored = sequences([{"sequence": s, "type": t, "step_id": i} for s, t, i in _stored(run_id)])
        assert sequences(follower.events) == stored, (type(follower).__name__, follower.errors)

    # The same processes, reconnected: beat still ticks and the worker still sweeps.
    for process in (worker, beat):
        assert process.alive(), process.output()[-3000:]
    beat.wait_for_log(r"Sending due task orchestrator-sweep", after=marks[beat])
    worker.wait_for_log(r"Task orchestrator\.sweep\[[\w-]+\] succeeded", after=marks[worker])
    wait_until(lambda: _health(web) == "ok", timeout=30, what=f"health ok again (last: {_health(web)})")


def _stored(run_id: str) -> list[tuple]:
    return list(Event.objects.filter(run_id=run_id).order_by("sequence").values_list("sequence", "type", "step_id"))


def _health(web) -> str:
    try:
        return httpx.get(f"{web.url}/api/health", timeout=5).json()["status"]
    except httpx.HTTPError as exc:
        return repr(exc)
