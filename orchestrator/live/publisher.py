"""Publishing events to the channel layer from sync code (web views, Celery tasks).

channels-redis keeps its connection pools per event loop. ``async_to_sync`` in a
Celery worker makes a fresh loop per call and leaves pools bound to closed
loops. So each process gets one publisher thread with one long-lived loop, fed
by a queue: publishing never blocks a transition and never touches a dead loop.
The channel layer is lossy; clients close gaps from the database by sequence.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
import time
from typing import Any

logger = logging.getLogger(__name__)

_queue: queue.SimpleQueue = queue.SimpleQueue()
_idle = threading.Event()  # set while nothing waits to be sent (best effort: a hint, not a barrier)
_idle.set()
_lock = threading.Lock()
_thread: threading.Thread | None = None
_pid: int | None = None


def group_names(tenant_id: str, workflow_id: str, run_id: str) -> list[str]:
    return [f"run.{run_id}", f"workflow.{workflow_id}", f"tenant.{tenant_id}"]


BATCH = 200  # events taken off the queue at once: one membership check for all of them


def _pump() -> None:
    """A daemon thread with one event loop that lives as long as the process: blocking
    reads of the queue never hold up interpreter exit (no executor threads)."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    while True:
        batch = [_queue.get()]
        while batch[-1] is not None and len(batch) < BATCH:
            try:
                batch.append(_queue.get_nowait())
            except queue.Empty:
                break
        items = [item for item in batch if item is not None]
        if items:
            loop.run_until_complete(_send(layer, items))
        if _queue.empty():
            _idle.set()
        if batch[-1] is None:
            return


async def _send(layer: Any, items: list[tuple[list[str], dict]]) -> None:
    listened = await _listened(layer, {group for groups, _ in items for group in groups})
    for groups, message in items:
        targets = [group for group in groups if group in listened]
        # The groups at once: one after another, each event waits a Redis round trip per group.
        # Per-run order holds: the next event is sent only after this one reached every group.
        results = await asyncio.gather(*(layer.group_send(group, message) for group in targets), return_exceptions=True)
        for group, result in zip(targets, results, strict=True):
            if isinstance(result, BaseException):  # a lossy layer: the database still has the event
                logger.warning("channel layer publish to %s failed: %r", group, result)


async def _listened(layer: Any, groups: set[str]) -> set[str]:
    """The groups that have a member, in one Redis round trip per shard. Most events have no
    listener at all (a run nobody watches), and ``group_send`` costs two round trips per
    group to find that out: six per event, most of an engine worker's publishing CPU.

    Nothing is missed by skipping an empty group: a stream joins its group before it reads
    the stored backlog, and this runs after the event's commit, so an event is either in
    that backlog or sent to the member. Other layers (in-memory, embedded): every group."""
    try:
        key_of, connection_of, expiry = layer._group_key, layer.connection, layer.group_expiry
        by_shard: dict[int, list[str]] = {}
        for group in groups:
            by_shard.setdefault(layer.consistent_hash(group), []).append(group)
        listened: set[str] = set()
        for shard, members in by_shard.items():
            pipe = connection_of(shard).pipeline(transaction=False)
            for group in members:
                pipe.zremrangebyscore(key_of(group), min=0, max=int(time.time()) - expiry)
                pipe.zrange(key_of(group), 0, 0)
            replies = await pipe.execute()
            listened.update(group for group, reply in zip(members, replies[1::2], strict=True) if reply)
        return listened
    except AttributeError:  # not channels-redis's layer
        return groups
    except Exception as exc:  # Redis away: group_send reports it per group, as before
        logger.debug("channel layer membership check failed: %r", exc)
        return groups


def _ensure_thread() -> None:
    global _thread, _pid
    with _lock:
        # After a fork (Celery prefork) the parent's thread does not exist here.
        if _thread is None or _pid != os.getpid() or not _thread.is_alive():
            _pid = os.getpid()
            _thread = threading.Thread(target=_pump, name="event-publisher", daemon=True)
            _thread.start()


def published(timeout: float) -> None:
    """Wait (at most ``timeout`` seconds) until this process's events are sent. A worker that
    runs steps back to back (eager successors) calls it between steps: otherwise the publisher
    thread, which needs the interpreter lock at each of its awaits, waits behind them, and a
    watched run's events reach their clients tens of milliseconds late."""
    if _thread is not None and _pid == os.getpid():
        _idle.wait(timeout)


def publish(tenant_id: str, workflow_id: str, run_id: str, payload: dict[str, Any]) -> None:
    _ensure_thread()
    _idle.clear()
    _queue.put((group_names(tenant_id, workflow_id, run_id), {"type": "run.event", "event": payload}))
