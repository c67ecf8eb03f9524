"""The embedded shape's worker and clocks: threads in the process that needs them.

The memory broker only exists inside one process, so the worker must too: Celery's
own WorkController (a small thread pool) in a thread, which installs no signal
handlers (only the main thread may). ``manage.py serve`` runs one beside the API;
``manage.py run_workflow`` runs its own, on the same database, for one run.

Two clocks send periodic tasks to it:

* the engine clock sends each entry of ``beat_schedule`` (sweep, reap) on its
  interval, with no database writes of its own;
* the schedule clock (``serve`` only) is django-celery-beat's database scheduler,
  as ``celery beat`` runs it in the distributed shape, for the workflows' schedules.

``worker_state()`` tells the health check whether this process's worker consumes yet.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

EMBEDDED_CONCURRENCY = 4

_state = {"worker": "off"}  # off → starting → ok (consuming)


def worker_state() -> str:
    """``off`` (no worker in this process), ``starting``, or ``ok`` once it consumes."""
    return _state["worker"]


def _run_engine_clock(stop: threading.Event) -> None:
    from config.celery import app

    last: dict[str, float] = {}
    while not stop.wait(0.25):
        now = time.monotonic()
        for name, entry in (app.conf.beat_schedule or {}).items():
            interval = entry["schedule"]
            seconds = interval.total_seconds() if hasattr(interval, "total_seconds") else float(interval)
            if now - last.get(name, 0.0) >= seconds:
                last[name] = now
                app.send_task(entry["task"], args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))


def _schedule_clock():
    """django-celery-beat's scheduler for the PeriodicTask rows of workflow schedules only:
    the engine clock already sends sweep and reap."""
    from celery.beat import Service
    from django_celery_beat.models import PeriodicTasks
    from django_celery_beat.schedulers import DatabaseScheduler

    from config.celery import app

    # The scheduler notices new rows by the change stamp moving on from the one it read at
    # start; with no stamp yet (a fresh database: this clock installs no rows of its own) it
    # takes the first stamp as its starting point and misses the first schedule created.
    if PeriodicTasks.last_change() is None:
        PeriodicTasks.update_changed()

    class ScheduleRowsOnly(DatabaseScheduler):
        def setup_schedule(self) -> None:
            pass  # no beat_schedule entries: the engine clock sends those

        def all_as_schedule(self) -> dict:
            engine_entries = set(app.conf.beat_schedule or {})
            return {name: e for name, e in super().all_as_schedule().items() if name not in engine_entries}

    return Service(app, scheduler_cls=ScheduleRowsOnly, max_interval=1)


def start_embedded_worker(*, schedules: bool = False) -> Callable[[], None]:
    """Start the worker and the engine clock (and with ``schedules`` the schedule clock);
    answer a function that stops them."""
    from celery.worker import WorkController

    from config.celery import app

    class EmbeddedWorker(WorkController):
        # Started by `serve`, which has already refused an insecure start, or by a
        # command that serves nothing (config/celery.py reads this).
        embedded = True

    _state["worker"] = "starting"

    def ready(consumer: object) -> None:
        _state["worker"] = "ok"
        logger.info("embedded worker ready")

    worker = EmbeddedWorker(
        app=app,
        pool_cls="threads",
        concurrency=EMBEDDED_CONCURRENCY,
        hostname="embedded@localhost",
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
        loglevel=logging.INFO,
        ready_callback=ready,
    )
    stop = threading.Event()
    threads = [
        threading.Thread(target=worker.start, name="embedded-worker", daemon=True),
        threading.Thread(target=_run_engine_clock, args=(stop,), name="embedded-clock", daemon=True),
    ]
    service = _schedule_clock() if schedules else None
    if service is not None:
        threads.append(threading.Thread(target=service.start, name="embedded-schedules", daemon=True))
    for thread in threads:
        thread.start()

    def stop_all() -> None:
        stop.set()
        _state["worker"] = "off"
        if service is not None:
            service.stop()
        try:
            worker.stop(in_sighandler=False)
        except Exception:  # already stopped with the process
            logger.debug("embedded worker stop", exc_info=True)

    return stop_all
