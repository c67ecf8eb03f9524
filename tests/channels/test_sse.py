"""SSE ``GET /api/workflows/runs/{id}/stream`` against a real uvicorn server and a real worker."""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import datetime

import httpx
import pytest
import redis
from django.conf import settings
from django.test import Client

from orchestrator.live.events import event_publish
from tests.channels.clients import asse_frames, check_frames, read_stream, sse_frames, stored
from tests.channels.conftest import HEARTBEAT, add_unpublished_events, bearer, gated_steps, start
from tests.engine.conftest import wait_for_run

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]


def stream_url(live, run_id: str, query: str = "") -> str:
    return f"{live.url}/api/workflows/runs/{run_id}/stream{query}"


def signal(live, user, run_id: str) -> None:
    response = httpx.post(
        f"{live.url}/api/workflows/runs/{run_id}/resume", json={"signal": {"go": True}}, headers=bearer(user)
    )
    assert response.status_code == 200, response.text


def retry_and_skip_steps(url: str) -> list[dict]:
    retry = {"max_attempts": 2, "backoff": "fixed", "initial_interval_seconds": 0.1, "retry_on": ["5xx"]}
    return [
        {"id": "call", "type": "http_request", "config": {"method": "GET", "url": f"{url}/flaky"}, "retry": retry},
        {
            "id": "check",
            "type": "condition",
            "config": {"expression": "steps.call.output.status_code == 200", "then": ["yes"], "else": ["no"]},
            "depends_on": ["call"],
        },
        {"id": "yes", "type": "transform", "config": {"value": 1}, "depends_on": ["check"]},
        {"id": "no", "type": "transform", "config": {"value": 0}, "depends_on": ["check"]},
    ]


def flaky(attempt, body, headers):
    # Slow first answer: the client is connected while the run is still going, so most events arrive live.
    return (503, {}, 0.5) if attempt == 1 else (200, {"ok": True})


def test_a_client_gets_the_whole_run_in_order_with_a_retry_and_a_skip(live, http_server, user):
    http_server.routes["/flaky"] = flaky
    run = start(user, retry_and_skip_steps(http_server.url))
    response, frames = read_stream(stream_url(live, run.id), bearer(user))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    events = check_frames(frames)
    assert events == stored(run.id)  # everything, in order, nothing twice, the same JSON as the API
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    types = [e["type"] for e in events]
    assert "step_retrying" in types and "step_skipped" in types
    assert types[-1] == "run_completed"
    assert wait_for_run(run.id).status == "completed"


def test_reconnecting_with_last_event_id_gets_exactly_the_rest(live, user):
    run = start(user, gated_steps(3))
    wait_for_run(run.id, statuses=("paused",))
    first: list[dict] = []
    with httpx.stream("GET", stream_url(live, run.id), headers=bearer(user), timeout=10) as response:
        for frame in sse_frames(response.iter_lines()):
            if "data" in frame:
                first.append(frame["data"])
            if len(first) == 3:
                break  # the client goes away mid-run
    signal(live, user, run.id)
    wait_for_run(run.id)

    response, frames = read_stream(stream_url(live, run.id), {**bearer(user), "Last-Event-ID": "3"})
    rest = check_frames(frames)
    everything = stored(run.id)
    assert first + rest == everything
    assert [e["sequence"] for e in rest] == list(range(4, len(everything) + 1))

    # ?after= does the same; the header (what EventSource sends on reconnect) wins over it.
    _, by_query = read_stream(stream_url(live, run.id, "?after=5"), bearer(user))
    assert check_frames(by_query) == everything[5:]
    _, both = read_stream(stream_url(live, run.id, "?after=1"), {**bearer(user), "Last-Event-ID": "6"})
    assert check_frames(both) == everything[6:]


def test_a_client_connecting_after_the_end_gets_the_stored_events_and_the_stream_closes(live, user):
    run = start(user, gated_steps(1))
    wait_for_run(run.id, statuses=("paused",))
    signal(live, user, run.id)
    wait_for_run(run.id)
    started = time.monotonic()
    response, frames = read_stream(stream_url(live, run.id), bearer(user), timeout=10)
    assert time.monotonic() - started < 3
    assert check_frames(frames) == stored(run.id)
    assert frames[-1]["event"] == "run_completed"


def test_reconnecting_after_the_last_event_gets_nothing_and_the_stream_closes(live, user):
    run = start(user, gated_steps(1))
    wait_for_run(run.id, statuses=("paused",))
    signal(live, user, run.id)
    last = wait_for_run(run.id) and stored(run.id)[-1]["sequence"]

    for query, headers in (("", {"Last-Event-ID": str(last)}), (f"?after={last + 5}", {})):
        started = time.monotonic()
        response, frames = read_stream(stream_url(live, run.id, query), {**bearer(user), **headers}, timeout=10)
        assert response.status_code == 200 and frames == []
        assert time.monotonic() - started < 3


def test_fifty_concurrent_clients_each_get_every_event(live, user):
    run = start(user, gated_steps(8))
    wait_for_run(run.id, statuses=("paused",))
    headers = {**bearer(user), "Accept": "text/event-stream"}
    url = stream_url(live, run.id)

    async def client(http: httpx.AsyncClient, subscribed: asyncio.Event, counter: list) -> list[dict]:
        events = []
        async with http.stream("GET", url, headers=headers) as response:
            assert response.status_code == 200
            async for frame in asse_frames(response.aiter_lines()):
                if "data" not in frame:
                    continue
                events.append(frame["data"])
                if frame["data"]["type"] == "run_paused":
                    counter.append(1)
                    if len(counter) == 50:
                        subscribed.set()
        return events

    async def main() -> list[list[dict]]:
        subscribed, counter = asyncio.Event(), []
        limits = httpx.Limits(max_connections=60)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            tasks = [asyncio.create_task(client(http, subscribed, counter)) for _ in range(50)]
            async with asyncio.timeout(20):
                await subscribed.wait()  # every client has replayed up to the pause: all are subscribed
            response = await http.post(
                f"{live.url}/api/workflows/runs/{run.id}/resume", json={"signal": {"go": True}}, headers=bearer(user)
            )
            assert response.status_code == 200, response.text
            async with asyncio.timeout(30):
                return await asyncio.gather(*tasks)

    results = asyncio.run(main())
    everything = stored(run.id)
    assert everything[-1]["type"] == "run_completed" and len(everything) > 20
    assert all(events == everything for events in results)


def test_another_tenants_run_is_a_404_before_any_frame(live, user, stranger):
    run = start(user, gated_steps(1))
    response, frames = read_stream(stream_url(live, run.id), bearer(stranger))
    assert response.status_code == 404 and frames == []
    assert response.json()["error"]["code"] == "not_found"
    assert response.headers["content-type"].startswith("application/json")


def test_no_credentials_is_a_401_and_a_bad_last_event_id_a_400(live, user):
    run = start(user, gated_steps(1))
    response, _ = read_stream(stream_url(live, run.id), {})
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
    response, _ = read_stream(stream_url(live, run.id), {**bearer(user), "Last-Event-ID": "x"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"
    response, _ = read_stream(stream_url(live, "run_nope"), bearer(user))
    assert response.status_code == 404


def test_api_keys_and_sessions_authenticate_too(live, user):
    from apikeys.services import api_key_create

    run = start(user, gated_steps(1))
    wait_for_run(run.id, statuses=("paused",))
    signal(live, user, run.id)
    wait_for_run(run.id)
    _, raw = api_key_create(user=user, name="stream")
    _, by_key = read_stream(stream_url(live, run.id), {"X-API-Key": raw})
    browser = Client()
    browser.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
    _, by_session = read_stream(stream_url(live, run.id), {"Cookie": cookie})
    assert check_frames(by_key) == check_frames(by_session) == stored(run.id)


def test_a_quiet_stream_sends_keepalive_comments(live, user):
    run = start(user, gated_steps(1))
    wait_for_run(run.id, statuses=("paused",))
    comments = 0
    with httpx.stream("GET", stream_url(live, run.id), headers=bearer(user), timeout=10) as response:
        started = time.monotonic()
        for frame in sse_frames(response.iter_lines()):
            if frame.get("comment") == "keepalive":
                comments += 1
                break
    assert comments == 1 and HEARTBEAT <= time.monotonic() - started < HEARTBEAT + 2


def _group_size(run_id: str) -> int:
    return redis.Redis.from_url(settings.REDIS_URL).zcard(f"asgi:group:run.{run_id}")


def test_a_client_that_goes_away_leaves_the_runs_group(live, user):
    run = start(user, gated_steps(1))
    wait_for_run(run.id, statuses=("paused",))
    with httpx.stream("GET", stream_url(live, run.id), headers=bearer(user), timeout=10) as response:
        # Held in a name: breaking out of a loop over a temporary would close it, and the connection with it.
        frames = sse_frames(response.iter_lines())
        for frame in frames:
            if frame.get("data", {}).get("type") == "run_paused":
                break
        deadline = time.monotonic() + 5
        while _group_size(run.id) != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _group_size(run.id) == 1
    deadline = time.monotonic() + 5
    while _group_size(run.id) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _group_size(run.id) == 0


def test_events_the_channel_layer_lost_are_filled_from_the_database(live, user):
    run = start(user, gated_steps(1))
    wait_for_run(run.id, statuses=("paused",))
    with httpx.stream("GET", stream_url(live, run.id), headers=bearer(user), timeout=10) as response:
        lines = sse_frames(response.iter_lines())
        before = []
        for frame in lines:
            if "data" in frame:
                before.append(frame["data"])
                if frame["data"]["type"] == "run_paused":
                    break
        # Two events lost on the way, a third delivered: the client gets all three, in order.
        lost = add_unpublished_events(run, ["step_waiting", "step_waiting", "step_waiting"])
        event_publish(lost[-1])
        after = []
        for frame in lines:
            if "data" in frame:
                after.append(frame["data"])
                if len(after) == 3:
                    break
        assert [e["sequence"] for e in after] == [e.sequence for e in lost]
        # The last event lost with nothing after it: the heartbeat's database read finds it, and the stream ends.
        (last,) = add_unpublished_events(run, ["run_cancelled"])
        tail = [frame["data"] for frame in lines if "data" in frame]
    assert [e["sequence"] for e in tail] == [last.sequence]
    assert before + after + tail == stored(run.id)


def test_events_arrive_live_not_by_the_heartbeats_database_read(live, user):
    run = start(user, gated_steps(6))
    wait_for_run(run.id, statuses=("paused",))
    latencies = []
    with httpx.stream("GET", stream_url(live, run.id), headers=bearer(user), timeout=30) as response:
        frames = sse_frames(response.iter_lines())
        for frame in frames:
            if frame.get("data", {}).get("type") == "run_paused":
                break
        signal(live, user, run.id)
        for frame in frames:
            if "data" in frame:
                sent = datetime.fromisoformat(frame["data"]["timestamp"])
                latencies.append(time.time() - sent.timestamp())
    assert len(latencies) >= 14
    # A read every HEARTBEAT seconds would put the median near HEARTBEAT / 2.
    assert statistics.median(latencies) < 0.25, latencies
