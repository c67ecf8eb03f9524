"""Live progress of a run (SPEC 8): its stored events, then live ones, without gap or duplicate.

PostgreSQL holds every event with a gap-free per-run ``sequence``; the channel layer
only carries them fast, and is lossy (per-channel capacity, message expiry, a Redis
restart) and unordered across the worker processes that publish one run's events.
So a ``RunCursor`` remembers the last sequence it handed out and:

* drops a live event at or below it (a duplicate, or one the database already gave);
* fills a jump (live sequence > last + 1) from the database: a committed sequence
  implies every lower one is committed, since sequences are taken under the run's
  row lock and held until commit;
* when nothing arrives for a heartbeat interval, asks the database for anything
  newer: a lost *last* event has no successor to reveal the gap.

A subscriber joins the run's group *before* it reads the database, so an event
committed in between arrives live (and is dropped if the read already had it)
instead of falling between the two.

The SSE stream ends after the run's terminal event. Its live part needs an ASGI
server (uvicorn); under WSGI the stream sends the stored events and ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import StreamingHttpResponse

from orchestrator.live.events import event_payload
from runs.models import Event

logger = logging.getLogger(__name__)

EVENT_TYPES = (
    "run_queued",
    "run_started",
    "step_started",
    "step_completed",
    "step_failed",
    "step_retrying",
    "step_skipped",
    "step_waiting",
    "run_paused",
    "run_resumed",
    "run_completed",
    "run_failed",
    "run_cancelled",
    "run_timed_out",
)
TERMINAL_EVENT_TYPES = frozenset({"run_completed", "run_failed", "run_cancelled", "run_timed_out"})

# A comment line this often keeps proxies from closing an idle stream; each beat also
# re-reads the database (see above). ORCHESTRATOR_STREAM_HEARTBEAT_SECONDS overrides it.
HEARTBEAT_SECONDS = 15.0
# Events read from the database per query, and live events a slow client may have queued.
PAGE_SIZE = 500
INBOX_SIZE = 1000
# Pause before receiving again after the channel layer failed (Redis restarting).
RECEIVE_RETRY_SECONDS = 1.0


def heartbeat_seconds() -> float:
    return float(getattr(settings, "ORCHESTRATOR_STREAM_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS))


def run_group(run_id: str) -> str:
    return f"run.{run_id}"


# Not thread-sensitive: under Django's ASGI handler that would give every open stream its own
# thread and keep a database connection for the stream's whole life. The shared executor bounds
# both; database_sync_to_async closes stale connections around each call.
@functools.partial(database_sync_to_async, thread_sensitive=False)
def stored_events(*, tenant_id: str, run_id: str, after: int, upto: int | None = None, limit: int) -> list[dict]:
    events = Event.objects.filter(tenant_id=tenant_id, run_id=run_id, sequence__gt=after)
    if upto is not None:
        events = events.filter(sequence__lte=upto)
    return [event_payload(event) for event in events.order_by("sequence")[:limit]]


@functools.partial(database_sync_to_async, thread_sensitive=False)
def terminal_sequence(*, tenant_id: str, run_id: str) -> int | None:
    """The sequence of the run's terminal event, or None while it runs."""
    terminal = Event.objects.filter(tenant_id=tenant_id, run_id=run_id, type__in=TERMINAL_EVENT_TYPES)
    return terminal.values_list("sequence", flat=True).first()


class RunCursor:
    """Where one subscriber is in one run's event sequence."""

    def __init__(self, *, tenant_id: str, run_id: str, last: int = 0) -> None:
        self.tenant_id = tenant_id
        self.run_id = run_id
        self.last = last
        self.ended = False  # the terminal event has been handed out: nothing follows it

    async def backlog(self, upto: int | None = None) -> AsyncIterator[list[dict]]:
        """Stored events after the cursor (up to ``upto``), a page at a time."""
        while not self.ended:
            page = await stored_events(
                tenant_id=self.tenant_id, run_id=self.run_id, after=self.last, upto=upto, limit=PAGE_SIZE
            )
            taken = self._take(page)
            if taken:
                yield taken
            if len(page) < PAGE_SIZE:
                return

    async def catch_up(self) -> list[dict]:
        return [event async for page in self.backlog() for event in page]

    async def receive(self, event: dict) -> list[dict]:
        """What a live event means for this subscriber: nothing, itself, or a filled gap."""
        sequence = event.get("sequence")
        if self.ended or not isinstance(sequence, int) or sequence <= self.last:
            return []
        if sequence == self.last + 1:
            return self._take([event])
        return [e async for page in self.backlog(upto=sequence) for e in page]

    async def end_if_behind(self) -> None:
        """A subscriber that starts at or past the terminal event (``Last-Event-ID`` of the last
        one) is handed nothing more, yet nothing follows either: it has ended too."""
        if not self.ended:
            terminal = await terminal_sequence(tenant_id=self.tenant_id, run_id=self.run_id)
            self.ended = terminal is not None and terminal <= self.last

    def merge(self, other: RunCursor) -> None:
        """Take over how far ``other`` (a replay of the same run) got."""
        self.last = max(self.last, other.last)
        self.ended = self.ended or other.ended

    def _take(self, events: list[dict]) -> list[dict]:
        taken = []
        for event in events:
            if self.ended:
                break
            if event["sequence"] <= self.last:
                continue
            taken.append(event)
            self.last = event["sequence"]
            self.ended = event["type"] in TERMINAL_EVENT_TYPES
        return taken


async def forward_live(layer: Any, channel: str, inbox: asyncio.Queue) -> None:
    """Channel layer → inbox, until cancelled. A full inbox drops: the cursor refills from the database."""
    while True:
        try:
            message = await layer.receive(channel)
        except Exception:
            if asyncio.current_task().cancelling():
                raise  # a cancellation the Redis client reported as another error: stop, as asked
            logger.warning("receiving live events failed; retrying", exc_info=True)
            await asyncio.sleep(RECEIVE_RETRY_SECONDS)
            continue
        event = message.get("event")
        if isinstance(event, dict):
            with contextlib.suppress(asyncio.QueueFull):
                inbox.put_nowait(event)


def sse_frame(event: dict) -> bytes:
    data = json.dumps(event, separators=(",", ":"), default=str)
    return f"event: {event['type']}\nid: {event['sequence']}\ndata: {data}\n\n".encode()


KEEPALIVE = b": keepalive\n\n"


async def run_event_stream(*, tenant_id: str, run_id: str, after: int) -> AsyncIterator[bytes]:
    layer = get_channel_layer()
    group = run_group(run_id)
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    inbox: asyncio.Queue = asyncio.Queue(maxsize=INBOX_SIZE)
    reader = asyncio.create_task(forward_live(layer, channel, inbox))
    cursor = RunCursor(tenant_id=tenant_id, run_id=run_id, last=after)
    try:
        async for page in cursor.backlog():
            yield b"".join(sse_frame(event) for event in page)
        await cursor.end_if_behind()
        interval = heartbeat_seconds()
        while not cursor.ended:
            try:
                live = await asyncio.wait_for(inbox.get(), timeout=interval)
            except TimeoutError:
                yield KEEPALIVE
                events = await cursor.catch_up()
            else:
                events = await cursor.receive(live)
            if events:
                yield b"".join(sse_frame(event) for event in events)
    finally:
        # Also reached when the client goes away: Django cancels the response on http.disconnect.
        reader.cancel()
        await asyncio.wait({reader}, timeout=RECEIVE_RETRY_SECONDS)
        await layer.group_discard(group, channel)


def stored_event_frames(*, tenant_id: str, run_id: str, after: int) -> Iterator[bytes]:
    """Without an event loop (WSGI, Django's test client) there is no live part: what is stored, then the end.
    An EventSource reconnects with Last-Event-ID, so such a client polls instead of hanging."""
    events = Event.objects.filter(tenant_id=tenant_id, run_id=run_id, sequence__gt=after).order_by("sequence")
    for event in events.iterator(chunk_size=PAGE_SIZE):
        yield sse_frame(event_payload(event))


def run_stream_response(*, tenant_id: str, run_id: str, after: int, live: bool = True) -> StreamingHttpResponse:
    """``live``: served by an ASGI server, which can hold the stream open without holding a thread."""
    stream = run_event_stream if live else stored_event_frames
    response = StreamingHttpResponse(
        stream(tenant_id=tenant_id, run_id=run_id, after=after), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each frame through at once
    if live:
        # The live stream reads through short calls of its own (each takes a pooled connection and
        # gives it back). The connection the request's thread holds (authentication, the run) goes
        # back to the pool now, not when the stream ends minutes later: open streams must not use
        # up the web process's ORCHESTRATOR_DB_POOL_MAX_SIZE.
        connection.close()
    return response
