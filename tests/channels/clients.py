"""Real clients of the live server: SSE over httpx, WebSockets with the websockets library."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from orchestrator.live.events import event_payload
from runs.models import Event


def stored(run_id: str) -> list[dict]:
    """The run's events as the API shapes them, JSON round-tripped like a client reads them."""
    return [json.loads(json.dumps(event_payload(e))) for e in Event.objects.filter(run_id=run_id).order_by("sequence")]


def sse_frames(lines: Iterator[str]) -> Iterator[dict]:
    """SSE lines → ``{"event", "id", "data"}`` frames and ``{"comment"}`` lines."""
    frame: dict = {}
    for line in lines:
        if line == "":
            if frame:
                yield frame
            frame = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            frame[field] = json.loads(value) if field == "data" else value
    if frame:
        yield frame


async def asse_frames(lines: AsyncIterator[str]) -> AsyncIterator[dict]:
    frame: dict = {}
    async for line in lines:
        if line == "":
            if frame:
                yield frame
            frame = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            frame[field] = json.loads(value) if field == "data" else value


def read_stream(url: str, headers: dict, timeout: float = 30) -> tuple[httpx.Response, list[dict]]:
    """Every event frame until the server closes the stream (which it must, within ``timeout``)."""
    deadline = time.monotonic() + timeout
    frames = []
    with httpx.stream("GET", url, headers={"Accept": "text/event-stream", **headers}, timeout=timeout) as response:
        if response.status_code != 200:
            response.read()
            return response, []
        for frame in sse_frames(response.iter_lines()):
            assert time.monotonic() < deadline, "the stream did not close"
            if "comment" not in frame:
                frames.append(frame)
    return response, frames


def check_frames(frames: list[dict]) -> list[dict]:
    """Each frame's event name and id agree with its data; returns the data."""
    for frame in frames:
        assert frame["event"] == frame["data"]["type"]
        assert int(frame["id"]) == frame["data"]["sequence"]
    return [frame["data"] for frame in frames]


async def ws_receive_until(ws, done, timeout: float = 30) -> list[dict]:
    """Frames until ``done(frames)`` is true."""
    frames: list[dict] = []
    async with asyncio.timeout(timeout):
        while not done(frames):
            frames.append(json.loads(await ws.recv()))
    return frames


async def ws_close_code(url: str, **kwargs) -> tuple[int | None, list]:
    """Connect; answer the close code the server sent and any frames before it."""
    frames = []
    async with connect(url, **kwargs) as ws:
        try:
            async with asyncio.timeout(10):
                while True:
                    frames.append(await ws.recv())
        except ConnectionClosed as closed:
            return (closed.rcvd.code if closed.rcvd else None), frames
    return None, frames


def terminal(frames: list[dict]) -> bool:
    return bool(frames) and frames[-1]["type"] in {"run_completed", "run_failed", "run_cancelled", "run_timed_out"}


__all__ = ["connect"]
