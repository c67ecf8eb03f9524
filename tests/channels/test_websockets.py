"""WebSockets ``/ws/runs/{id}`` and ``/ws/workflows/{id}`` against a real uvicorn server and worker."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from django.conf import settings
from django.test import Client

from apikeys.services import api_key_create
from orchestrator.live.events import event_publish
from runs.services import run_create, run_signal
from tests.channels.clients import connect, stored, terminal, ws_close_code, ws_receive_until
from tests.channels.conftest import HEARTBEAT, add_unpublished_events, gated_steps, make_workflow, start, token
from tests.engine.conftest import wait_for_run

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]


def finished_run(user, steps: int = 2):
    run = start(user, gated_steps(steps))
    wait_for_run(run.id, statuses=("paused",))
    run_signal(run=run, payload={"go": True})
    wait_for_run(run.id)
    return run


async def silent(ws, seconds: float = 1.0) -> bool:
    """Nothing more arrives for ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            await ws.recv()
    except TimeoutError:
        return True
    return False


def test_a_run_socket_with_after_gets_the_whole_run_in_order(live, http_server, user):
    http_server.routes["/flaky"] = lambda attempt, body, headers: (503, {}, 0.5) if attempt == 1 else (200, {})
    retry = {"max_attempts": 2, "backoff": "fixed", "initial_interval_seconds": 0.1, "retry_on": ["5xx"]}
    run = start(
        user,
        [
            {"id": "call", "type": "http_request", "config": {"url": f"{http_server.url}/flaky"}, "retry": retry},
            {
                "id": "check",
                "type": "condition",
                "config": {"expression": "steps.call.output.status_code == 200", "then": ["yes"], "else": ["no"]},
                "depends_on": ["call"],
            },
            {"id": "yes", "type": "transform", "config": {"value": 1}, "depends_on": ["check"]},
            {"id": "no", "type": "transform", "config": {"value": 0}, "depends_on": ["check"]},
        ],
    )

    async def main() -> list[dict]:
        async with connect(f"{live.ws}/ws/runs/{run.id}?after=0&token={token(user)}") as ws:
            return await ws_receive_until(ws, terminal)

    frames = asyncio.run(main())
    assert frames == stored(run.id)
    types = [f["type"] for f in frames]
    assert "step_retrying" in types and "step_skipped" in types and types[-1] == "run_completed"


def test_a_workflow_socket_gets_every_run_started_after_it_connected(live, user):
    workflow = make_workflow(user, [{"id": "t", "type": "transform", "config": {"value": 1}}])
    subscribed = threading.Event()
    results: dict = {}

    async def main() -> list[dict]:
        async with connect(f"{live.ws}/ws/workflows/{workflow.id}?token={token(user)}") as ws:
            subscribed.set()  # accepted means subscribed
            return await ws_receive_until(ws, lambda frames: sum(terminal([f]) for f in frames) == 2)

    # The socket listens in a thread; runs start from the test's thread (the ORM stays out of event loops).
    thread = threading.Thread(target=lambda: results.setdefault("frames", asyncio.run(main())))
    thread.start()
    assert subscribed.wait(10)
    runs = [run_create(workflow=workflow, inputs={}, user=user) for _ in range(2)]
    thread.join(timeout=30)
    frames = results["frames"]
    for run in runs:
        assert [f for f in frames if f["run_id"] == run.id] == stored(run.id)


def test_replay_sends_stored_events_after_n_then_nothing_twice(live, user):
    run = finished_run(user)
    everything = stored(run.id)

    async def main() -> None:
        async with connect(f"{live.ws}/ws/runs/{run.id}?token={token(user)}") as ws:
            assert await silent(ws, 0.5)  # no ?after=: live only, and this run is over
            await ws.send(json.dumps({"action": "replay", "after": 2}))
            assert await ws_receive_until(ws, terminal) == everything[2:]
            assert await silent(ws, HEARTBEAT + 0.5)  # the heartbeat's read finds nothing new: no duplicate
            await ws.send(json.dumps({"action": "replay", "after": len(everything) - 1}))
            assert await ws_receive_until(ws, terminal) == everything[-1:]

        async with connect(f"{live.ws}/ws/workflows/{run.workflow_id}?token={token(user)}") as ws:
            await ws.send(json.dumps({"action": "replay", "after": 0}))
            error = json.loads(await ws.recv())
            assert error["error"]["code"] == "validation_error"
            await ws.send(json.dumps({"action": "replay", "run_id": run.id, "after": 4}))
            assert await ws_receive_until(ws, terminal) == everything[4:]
            await ws.send("not json")
            assert json.loads(await ws.recv())["error"]["code"] == "parse_error"
            await ws.send(json.dumps({"action": "dance"}))
            assert json.loads(await ws.recv())["error"]["code"] == "validation_error"

    asyncio.run(main())


def test_a_run_socket_without_after_sends_what_happens_after_it_connected(live, user):
    run = start(user, gated_steps(2))
    wait_for_run(run.id, statuses=("paused",))
    seen = stored(run.id)
    results: dict = {}
    subscribed = threading.Event()

    async def main() -> list[dict]:
        async with connect(f"{live.ws}/ws/runs/{run.id}?token={token(user)}") as ws:
            subscribed.set()
            return await ws_receive_until(ws, terminal)

    thread = threading.Thread(target=lambda: results.setdefault("frames", asyncio.run(main())))
    thread.start()
    assert subscribed.wait(10)
    run_signal(run=run, payload={"go": True})
    thread.join(timeout=30)
    assert results["frames"] == stored(run.id)[len(seen) :]


def test_another_tenants_run_or_workflow_closes_4404_without_a_frame(live, user, stranger):
    run = start(user, gated_steps(1))
    other = token(stranger)

    async def main() -> list:
        return [
            await ws_close_code(f"{live.ws}/ws/runs/{run.id}?after=0&token={other}"),
            await ws_close_code(f"{live.ws}/ws/workflows/{run.workflow_id}?token={other}"),
            await ws_close_code(f"{live.ws}/ws/runs/run_nope?token={token(user)}"),
            await ws_close_code(f"{live.ws}/ws/elsewhere?token={token(user)}"),
        ]

    assert asyncio.run(main()) == [(4404, [])] * 4


def test_credentials_decide_4401_or_a_connection(live, user):
    run = finished_run(user, steps=1)
    _, raw_key = api_key_create(user=user, name="ws")
    browser = Client()
    browser.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
    url = f"{live.ws}/ws/runs/{run.id}?after=0"

    async def first_frame(full_url: str, **kwargs) -> dict:
        async with connect(full_url, **kwargs) as ws:
            return json.loads(await ws.recv())

    async def main() -> None:
        assert await ws_close_code(url) == (4401, [])
        assert await ws_close_code(f"{url}&token=not-a-jwt") == (4401, [])
        assert await ws_close_code(f"{url}&api_key=wfb_nope") == (4401, [])
        assert await ws_close_code(f"{url}&token={token(user)}&after=-1".replace("after=0&", "")) == (4400, [])
        assert (await first_frame(f"{url}&token={token(user)}"))["sequence"] == 1
        assert (await first_frame(f"{url}&api_key={raw_key}"))["sequence"] == 1
        assert (await first_frame(url, additional_headers={"Authorization": f"Bearer {token(user)}"}))["sequence"] == 1
        assert (await first_frame(url, additional_headers={"Cookie": cookie}))["sequence"] == 1
        host = live.url.removeprefix("http://")
        own_page = {"Cookie": cookie, "Origin": f"http://{host}"}
        assert (await first_frame(url, additional_headers=own_page))["sequence"] == 1
        # A foreign page's script cannot ride on the user's cookie.
        assert await ws_close_code(url, additional_headers={"Cookie": cookie, "Origin": "https://evil.example"}) == (
            4401,
            [],
        )

    asyncio.run(main())


def test_tokens_in_the_query_string_stay_out_of_the_server_log(live, user):
    run = finished_run(user, steps=1)
    secret = token(user)

    async def main() -> None:
        async with connect(f"{live.ws}/ws/runs/{run.id}?after=0&token={secret}") as ws:
            await ws.recv()

    asyncio.run(main())
    log = live.log()
    assert f"/ws/runs/{run.id}" in log  # the handshake was logged...
    assert secret not in log  # ...without its token


def test_a_socket_fills_lost_events_from_the_database(live, user):
    run = start(user, gated_steps(1))
    wait_for_run(run.id, statuses=("paused",))
    before = stored(run.id)
    steps = {"lost": threading.Event(), "tail": threading.Event()}
    results: dict = {}

    async def main() -> None:
        async with connect(f"{live.ws}/ws/runs/{run.id}?after=0&token={token(user)}") as ws:
            results["before"] = await ws_receive_until(ws, lambda fs: len(fs) == len(before))
            steps["lost"].set()
            results["gap"] = await ws_receive_until(ws, lambda fs: len(fs) == 3)
            steps["tail"].set()
            # Nothing follows the last lost event: the heartbeat's read finds it.
            results["tail"] = await ws_receive_until(ws, terminal, timeout=HEARTBEAT * 3)

    thread = threading.Thread(target=lambda: asyncio.run(main()))
    thread.start()
    assert steps["lost"].wait(10)
    lost = add_unpublished_events(run, ["step_waiting"] * 3)
    event_publish(lost[-1])  # two lost on the way, the third delivered
    assert steps["tail"].wait(10)
    add_unpublished_events(run, ["run_cancelled"])
    thread.join(timeout=HEARTBEAT * 3 + 5)
    assert results["before"] + results["gap"] + results["tail"] == stored(run.id)
    assert [e["sequence"] for e in results["gap"]] == [e.sequence for e in lost]
