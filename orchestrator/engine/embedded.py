"""The embedded mode's worker and beat: threads in the serving process.

The memory broker only exists inside this process, so the worker must too. It
is Celery's own WorkController (solo pool) in a thread; it installs no signal
handlers, which only the main thread may do. "Beat" is a thread that sends each
entry of ``beat_schedule`` on its interval (the database scheduler needs the
beat service, which also wants the main thread).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


def _run_beat(stop: threading.Event) -> None:
    from config.celery import app

    last: dict[str, float] = {}
    while not stop.wait(0.5):
        now = time.monotonic()
        for name, entry in (app.conf.beat_schedule or {}).items():
            interval = entry["schedule"]
            seconds = interval.total_seconds() if hasattr(interval, "total_seconds") else float(interval)
            if now - last.get(name, 0.0) >= seconds:
                last[name] = now
                app.send_task(entry["task"], args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))


def start_embedded_worker() -> Callable[[], None]:
    from celery.worker import WorkController

    from config.celery import app

    worker = WorkController(
        app=app,
        pool_cls="solo",
        concurrency=1,
        hostname="embedded@localhost",
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
        loglevel=logging.INFO,
    )
    stop = threading.Event()
    threads = [
        threading.Thread(target=worker.start, name="embedded-worker", daemon=True),
        threading.Thread(target=_run_beat, args=(stop,), name="embedded-beat", daemon=True),
    ]
    for thread in threads:
        thread.start()

    def stop_all() -> None:
        stop.set()
        try:
            worker.stop(in_sighandler=False)
        except Exception:  # already stopped with the process
            logger.debug("embedded worker stop", exc_info=True)

    return stop_all
