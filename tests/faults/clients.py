"""Live clients that resume after a dropped connection the way SPEC 8 lets them: SSE with
``Last-Event-ID``, a WebSocket with ``?after=``. They keep every frame they were sent, so
a test can compare them with the stored events: a gap or a duplicate shows."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from tests.channels.clients import sse_frames

TERMINAL = {"run_completed", "run_failed", "run_cancelled", "run_timed_out"}


class Follower:
    """Follows one run's events in a thread until its terminal event (or ``timeout``)."""

    def __init__(self, timeout: float = 180) -> None:
        self.events: list[dict] = []
        self.connections = 0
        self.errors: list[str] = []
        self.timeout = timeout
        self.thread = threading.Thread(target=self._main, daemon=True)

    @property
    def last(self) -> int:
        return self.events[-1]["sequence"] if self.events else 0

    def ended(self) -> bool:
        return bool(self.events) and self.events[-1]["type"] in TERMINAL

    def start(self) -> Follower:
        self.thread.start()
        return self

    def join(self) -> None:
        self.thread.join(self.timeout)
        assert not self.thread.is_alive(), f"{type(self).__name__} still following: {self.errors}"

    def _main(self) -> None:
        deadline = time.monotonic() + self.timeout
        while not self.ended() and time.monotonic() < deadline:
            self.connections += 1
            try:
                self.follow()
            except Exception as exc:  # a dropped stream: resume from the last event received
                self.errors.append(repr(exc))
                time.sleep(0.2)

    def follow(self) -> None:
        raise NotImplementedError


class SseFollower(Follower):
    def __init__(self, url: str, run_id: str, api_key: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.url = f"{url}/api/workflows/runs/{run_id}/stream"
        self.api_key = api_key

    def follow(self) -> None:
        headers = {"Accept": "text/event-stream", "X-API-Key": self.api_key}
        if self.events:
            headers["Last-Event-ID"] = str(self.last)
        with httpx.stream("GET", self.url, headers=headers, timeout=httpx.Timeout(5, read=60)) as response:
            response.raise_for_status()
            for frame in sse_frames(response.iter_lines()):
                if "comment" not in frame:
                    assert int(frame["id"]) == frame["data"]["sequence"]
                    self.events.append(frame["data"])
        if not self.ended():
            raise ConnectionError("the stream closed before the run's end")


class WsFollower(Follower):
    def __init__(self, url: str, run_id: str, api_key: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.url = f"{url.replace('http://', 'ws://')}/ws/runs/{run_id}"
        self.api_key = api_key

    def follow(self) -> None:
        asyncio.run(self._follow())

    async def _follow(self) -> None:
        try:
            async with connect(f"{self.url}?after={self.last}&api_key={self.api_key}", open_timeout=5) as socket:
                while not self.ended():
                    frame = json.loads(await asyncio.wait_for(socket.recv(), 60))
                    if "sequence" in frame:
                        self.events.append(frame)
        except WebSocketException as exc:
            raise ConnectionError(f"socket dropped: {exc!r}") from exc


def sequences(events: list[dict]) -> list[tuple[int, str, str | None]]:
    return [(event["sequence"], event["type"], event.get("step_id")) for event in events]
