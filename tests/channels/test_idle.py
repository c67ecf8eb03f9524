"""Watchers that sit idle longer than the Redis client's read timeout keep working.

redis-py 8 reads with a 5 s socket timeout by default, the length of channels-redis's
blocking BZPOPMIN; without the setting in config/settings.py an idle WebSocket consumer
dies with 1011 and an SSE stream's receiver keeps failing (channels_redis#422).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.channels.clients import asse_frames, stored, terminal, ws_receive_until
from tests.channels.conftest import bearer, gated_steps, start, token
from tests.engine.conftest import wait_for_run

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]

IDLE_SECONDS = 7


def test_watchers_idle_past_the_redis_read_timeout_still_get_live_events(live, user):
    run = start(user, gated_steps(2))
    wait_for_run(run.id, statuses=("paused",))
    seen = len(stored(run.id))
    results: dict = {}
    both_idle = threading.Event()

    async def sse() -> list[dict]:
        events = []
        async with httpx.AsyncClient(timeout=30) as http:
            async with http.stream("GET", f"{live.url}/api/workflows/runs/{run.id}/stream", headers=bearer(user)) as r:
                async for frame in asse_frames(r.aiter_lines()):
                    if "data" in frame:
                        events.append(frame["data"])
        return events

    async def ws() -> list[dict]:
        async with connect(f"{live.ws}/ws/runs/{run.id}?token={token(user)}") as socket:
            await asyncio.sleep(IDLE_SECONDS)
            both_idle.set()
            return await ws_receive_until(socket, terminal)

    async def main() -> None:
        results["sse"], results["ws"] = await asyncio.gather(sse(), ws())

    thread = threading.Thread(target=lambda: asyncio.run(main()))
    thread.start()
    assert both_idle.wait(IDLE_SECONDS + 10)
    signalled = time.monotonic()
    response = httpx.post(
        f"{live.url}/api/workflows/runs/{run.id}/resume", json={"signal": {"go": True}}, headers=bearer(user)
    )
    assert response.status_code == 200
    thread.join(timeout=30)
    assert time.monotonic() - signalled < 5
    everything = stored(run.id)
    assert results["sse"] == everything
    assert results["ws"] == everything[seen:]
    assert json.dumps(results["ws"])  # plain JSON frames
