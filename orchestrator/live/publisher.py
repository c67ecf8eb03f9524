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
from typing import Any

logger = logging.getLogger(__name__)

_queue: queue.SimpleQueue = queue.SimpleQueue()
_lock = threading.Lock()
_thread: threading.Thread | None = None
_pid: int | None = None


def group_names(tenant_id: str, workflow_id: str, run_id: str) -> list[str]:
    return [f"run.{run_id}", f"workflow.{workflow_id}", f"tenant.{tenant_id}"]


def _pump() -> None:
    """A daemon thread with one event loop that lives as long as the process: blocking
    reads of the queue never hold up interpreter exit (no executor threads)."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    while True:
        item = _queue.get()
        if item is None:
            return
        groups, message = item
        # The three groups at once: one after another, each event waits three Redis round trips.
        # Per-run order holds: the next event is sent only after this one reached every group.
        results = loop.run_until_complete(
            asyncio.gather(*(layer.group_send(group, message) for group in groups), return_exceptions=True)
        )
        for group, result in zip(groups, results, strict=True):
            if isinstance(result, BaseException):  # a lossy layer: the database still has the event
                logger.warning("channel layer publish to %s failed: %r", group, result)


def _ensure_thread() -> None:
    global _thread, _pid
    with _lock:
        # After a fork (Celery prefork) the parent's thread does not exist here.
        if _thread is None or _pid != os.getpid() or not _thread.is_alive():
            _pid = os.getpid()
            _thread = threading.Thread(target=_pump, name="event-publisher", daemon=True)
            _thread.start()


def publish(tenant_id: str, workflow_id: str, run_id: str, payload: dict[str, Any]) -> None:
    _ensure_thread()
    _queue.put((group_names(tenant_id, workflow_id, run_id), {"type": "run.event", "event": payload}))
