"""WebSocket consumers for live progress (SPEC 8).

Routes (config/routing.py):

* ``/ws/runs/{run_id}``: one run's events;
* ``/ws/workflows/{workflow_id}``: the events of every run of a workflow.

Authentication (orchestrator/live/ws_auth.py): ``?token=<JWT>``, ``?api_key=wfb_…``, the API's
``Authorization`` / ``X-API-Key`` headers, or the session cookie from an allowed origin.

Close codes (the socket is accepted first, so that clients see the code, not a bare
HTTP 403 handshake failure; no event frame is sent before such a close):

* ``4400``: ``?after=`` is not a non-negative integer;
* ``4401``: no credentials, or invalid / expired ones;
* ``4403``: authenticated, but the account belongs to no tenant;
* ``4404``: no such run / workflow, or another tenant's (indistinguishable on purpose),
  or no such route.

Frames from the server are event objects, the same JSON as ``GET /api/events`` items
(``id, sequence, type, run_id, workflow_id, step_id, timestamp, data``), or an error
``{"error": {"code", "message", "details"}}`` answering a bad client frame.

What is sent, without gap or duplicate per run (orchestrator/live/streams.py ``RunCursor``):

* ``/ws/runs/{id}``: with ``?after=N``, the stored events after N, then live ones; without
  it, live events from the moment of connection (nothing already stored). The socket
  stays open after the terminal event; the client closes it.
* ``/ws/workflows/{id}``: live events of every run. A run created after the connection is
  sent whole from its first event; a run already going when the client connected is sent
  from its first event received live.
* ``{"action": "replay", "after": N}`` (on a workflow socket also ``"run_id"``) sends the
  run's stored events after N, then live ones continue from the furthest point sent.

The channel layer is lossy; gaps are filled from the database when a later event
arrives, and every heartbeat interval each unfinished run is re-read.

Refusals happen before a consumer exists (``as_asgi`` wraps it): channels starts a
channel-layer receive for every consumer, and cancelling that receive right after it
began can hang in redis-py 8, holding up the server's shutdown. A refused socket never
touches the channel layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from abc import ABC, abstractmethod
from collections import OrderedDict
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone

from orchestrator.live.streams import RunCursor, heartbeat_seconds, run_group
from runs.models import Run
from workflows.models import Workflow

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404

# Finished runs a workflow socket remembers, so that a late duplicate is not taken for a new run.
FINISHED_RUNS_REMEMBERED = 1000


def _error(code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


def _non_negative(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isascii() or not value.isdigit() or len(value) > 10:
            return None
        value = int(value)
    # A sequence is a PostgreSQL integer: a larger one reached the query (out of range).
    return value if isinstance(value, int) and 0 <= value <= 2_147_483_647 else None


@functools.partial(database_sync_to_async, thread_sensitive=False)
def _run_of(*, tenant_id: str, run_id: str, workflow_id: str | None = None) -> Run | None:
    runs = Run.objects.filter(tenant_id=tenant_id, id=run_id)
    if workflow_id is not None:
        runs = runs.filter(workflow_id=workflow_id)
    return runs.only("id", "tenant_id", "workflow_id", "created_at", "event_sequence").first()


@functools.partial(database_sync_to_async, thread_sensitive=False)
def _workflow_exists(*, tenant_id: str, workflow_id: str) -> bool:
    return Workflow.objects.filter(tenant_id=tenant_id, id=workflow_id).exists()


async def refuse(code: int, receive: Any, send: Any) -> None:
    """Accept, then close with ``code`` (a close before accepting reaches clients as a bare HTTP 403)."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": code})


async def not_found(scope: dict, receive: Any, send: Any) -> None:
    """Any other WebSocket path."""
    await refuse(CLOSE_NOT_FOUND, receive, send)


class _EventsConsumer(AsyncJsonWebsocketConsumer, ABC):
    """Authenticate, subscribe, and send each run's events through its cursor."""

    @classmethod
    def as_asgi(cls, **initkwargs: Any) -> Any:
        consumer = super().as_asgi(**initkwargs)

        async def app(scope: dict, receive: Any, send: Any) -> None:
            admitted = await cls.admit(scope)
            if isinstance(admitted, int):
                return await refuse(admitted, receive, send)
            return await consumer({**scope, "events": admitted}, receive, send)

        return app

    @classmethod
    async def admit(cls, scope: dict) -> dict | int:
        """What the socket may watch (``tenant_id``, ``target``, ``after``), or the close code."""
        user = scope.get("user")
        if user is None or not user.is_authenticated:
            return CLOSE_UNAUTHENTICATED
        if not user.tenant_id:
            return CLOSE_FORBIDDEN
        query = parse_qs(scope.get("query_string", b"").decode("latin1"))
        raw_after = (query.get("after") or [""])[0]
        after = _non_negative(raw_after) if raw_after else None
        if raw_after and after is None:
            return CLOSE_BAD_REQUEST
        target = await cls.find(tenant_id=user.tenant_id, kwargs=scope["url_route"]["kwargs"])
        if target is None:
            return CLOSE_NOT_FOUND
        return {"tenant_id": user.tenant_id, "target": target, "after": after}

    async def connect(self) -> None:
        admitted = self.scope["events"]
        self.tenant_id: str = admitted["tenant_id"]
        self.lock = asyncio.Lock()  # live delivery, replays and the poller take turns
        self.poller: asyncio.Task | None = None
        group = self.subscribe_to(admitted["target"])
        # Subscribe before reading the database (see orchestrator/live/streams.py).
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups.append(group)
        await self.accept()
        await self.start(admitted["after"])
        self.poller = asyncio.create_task(self._poll())

    async def disconnect(self, code: int) -> None:
        if getattr(self, "poller", None) is not None:
            self.poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.poller

    # What subclasses decide (RunConsumer, WorkflowConsumer) ------------------------------

    @classmethod
    @abstractmethod
    async def find(cls, *, tenant_id: str, kwargs: dict) -> str | None:
        """The ID of what the socket watches, or None when it is not the caller's to see."""

    @abstractmethod
    def subscribe_to(self, target: str) -> str:
        """Remember the target; answer the group to join."""

    @abstractmethod
    async def start(self, after: int | None) -> None:
        """Send what the socket owes on connect (a replay after ``after``, or nothing)."""

    @abstractmethod
    async def cursor_for(self, event: dict) -> RunCursor | None:
        """The cursor a live event belongs to, or None to ignore it."""

    @abstractmethod
    def open_cursors(self) -> list[RunCursor]:
        """The cursors of runs not finished yet (the poller re-reads them)."""

    @abstractmethod
    async def replay_cursor(self, content: dict) -> RunCursor | dict:
        """The cursor a replay request extends, or an error frame."""

    def finished(self, cursor: RunCursor) -> None:
        """A cursor's terminal event was sent."""

    # Delivery ----------------------------------------------------------------------------

    async def _send_events(self, events: list[dict], cursor: RunCursor) -> None:
        for event in events:
            await self.send_json(event)
        if events and cursor.ended:
            self.finished(cursor)

    async def run_event(self, message: dict) -> None:
        """A ``run.event`` message from the channel layer (orchestrator/live/publisher.py)."""
        event = message.get("event")
        if not isinstance(event, dict):
            return
        async with self.lock:
            cursor = await self.cursor_for(event)
            if cursor is not None:
                await self._send_events(await cursor.receive(event), cursor)

    async def _poll(self) -> None:
        interval = heartbeat_seconds()
        while True:
            await asyncio.sleep(interval)
            async with self.lock:
                for cursor in self.open_cursors():
                    await self._send_events(await cursor.catch_up(), cursor)

    async def replay(self, cursor: RunCursor, after: int) -> None:
        """Stored events after ``after``, even ones sent before (the client asked); then live as usual."""
        replay = RunCursor(tenant_id=cursor.tenant_id, run_id=cursor.run_id, last=after)
        async for page in replay.backlog():
            for event in page:
                await self.send_json(event)
        was_ended = cursor.ended
        cursor.merge(replay)
        if cursor.ended and not was_ended:
            self.finished(cursor)

    # Client frames -----------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        try:
            content = json.loads(text_data) if text_data is not None else None
        except ValueError:
            content = None
        if not isinstance(content, dict):
            await self.send_json(_error("parse_error", 'Send a JSON object, e.g. {"action": "replay", "after": 0}.'))
            return
        await self.receive_json(content)

    async def receive_json(self, content: dict, **kwargs: Any) -> None:
        if content.get("action") != "replay":
            await self.send_json(
                _error("validation_error", 'Unknown action; the only one is "replay".', [{"field": "action"}])
            )
            return
        after = _non_negative(content.get("after", 0))
        if after is None:
            await self.send_json(
                _error(
                    "validation_error",
                    "after must be a non-negative integer (an event sequence).",
                    [{"field": "after"}],
                )
            )
            return
        async with self.lock:
            cursor = await self.replay_cursor(content)
            if isinstance(cursor, dict):
                await self.send_json(cursor)
                return
            await self.replay(cursor, after)


class RunConsumer(_EventsConsumer):
    """``/ws/runs/{run_id}``."""

    @classmethod
    async def find(cls, *, tenant_id: str, kwargs: dict) -> str | None:
        run = await _run_of(tenant_id=tenant_id, run_id=kwargs["run_id"])
        return run.id if run else None

    def subscribe_to(self, target: str) -> str:
        self.run_id = target
        return run_group(target)

    async def start(self, after: int | None) -> None:
        if after is None:
            # Live from now on: everything stored at subscription time counts as already seen.
            run = await _run_of(tenant_id=self.tenant_id, run_id=self.run_id)
            after = run.event_sequence if run else 0
            self.cursor = RunCursor(tenant_id=self.tenant_id, run_id=self.run_id, last=after)
            return
        self.cursor = RunCursor(tenant_id=self.tenant_id, run_id=self.run_id, last=after)
        async with self.lock:
            async for page in self.cursor.backlog():
                await self._send_events(page, self.cursor)

    async def cursor_for(self, event: dict) -> RunCursor | None:
        return self.cursor if event.get("run_id") == self.run_id else None

    def open_cursors(self) -> list[RunCursor]:
        return [] if self.cursor.ended else [self.cursor]

    async def replay_cursor(self, content: dict) -> RunCursor | dict:
        run_id = content.get("run_id")
        if run_id not in (None, self.run_id):
            return _error("not_found", "This socket carries one run; run_id must be that run's.", [{"field": "run_id"}])
        return self.cursor


class WorkflowConsumer(_EventsConsumer):
    """``/ws/workflows/{workflow_id}``."""

    @classmethod
    async def find(cls, *, tenant_id: str, kwargs: dict) -> str | None:
        workflow_id = kwargs["workflow_id"]
        return workflow_id if await _workflow_exists(tenant_id=tenant_id, workflow_id=workflow_id) else None

    def subscribe_to(self, target: str) -> str:
        self.workflow_id = target
        self.cursors: dict[str, RunCursor] = {}
        self.finished_runs: OrderedDict[str, None] = OrderedDict()
        return f"workflow.{target}"

    async def start(self, after: int | None) -> None:
        # Sequences are per run, so ?after= means nothing here; replay takes a run_id.
        self.connected_at: datetime = timezone.now()

    async def cursor_for(self, event: dict) -> RunCursor | None:
        run_id = event.get("run_id")
        if not isinstance(run_id, str) or run_id in self.finished_runs:
            return None
        cursor = self.cursors.get(run_id)
        if cursor is None:
            run = await _run_of(tenant_id=self.tenant_id, run_id=run_id, workflow_id=self.workflow_id)
            if run is None:
                return None
            sequence = event.get("sequence")
            # A run born after we subscribed is sent whole; an older one from this event on.
            if run.created_at >= self.connected_at or not isinstance(sequence, int):
                last = 0
            else:
                last = sequence - 1
            cursor = self.cursors[run_id] = RunCursor(tenant_id=self.tenant_id, run_id=run_id, last=last)
        return cursor

    def open_cursors(self) -> list[RunCursor]:
        return list(self.cursors.values())

    def finished(self, cursor: RunCursor) -> None:
        self.cursors.pop(cursor.run_id, None)
        self.finished_runs[cursor.run_id] = None
        while len(self.finished_runs) > FINISHED_RUNS_REMEMBERED:
            self.finished_runs.popitem(last=False)

    async def replay_cursor(self, content: dict) -> RunCursor | dict:
        run_id = content.get("run_id")
        if not isinstance(run_id, str) or not run_id:
            return _error(
                "validation_error", "A workflow socket replays one run at a time: give run_id.", [{"field": "run_id"}]
            )
        cursor = self.cursors.get(run_id)
        if cursor is not None:
            return cursor
        run = await _run_of(tenant_id=self.tenant_id, run_id=run_id, workflow_id=self.workflow_id)
        if run is None:
            return _error("not_found", f"Run {run_id!r} of this workflow was not found.")
        cursor = RunCursor(tenant_id=self.tenant_id, run_id=run_id, last=0)
        if run_id in self.finished_runs:
            cursor.ended = True  # replayed, but nothing live follows a finished run
            return cursor
        self.cursors[run_id] = cursor
        return cursor
