"""The Celery app: `celery -A config worker` and `celery -A config beat`."""

import logging
import os

from celery import Celery
from celery.signals import beat_init, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("orchestrator")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each app's tasks.py, and the engine's, which lives in the orchestrator package's engine/.
app.autodiscover_tasks()
app.autodiscover_tasks(["orchestrator.engine"])


def _refuse(what: str) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from orchestrator.startup import refuse_insecure_start

    try:
        refuse_insecure_start(what)
    except ImproperlyConfigured as exc:
        # Celery logs and ignores an Exception raised by a signal receiver; SystemExit stops it.
        raise SystemExit(str(exc)) from None


@worker_init.connect
def _refuse_insecure_worker(sender=None, **kwargs) -> None:
    if getattr(sender, "embedded", False):
        return  # a thread of `serve` (which checked already) or of a command that serves nothing
    _refuse("worker")
    from orchestrator.engine.presence import workers_starting_mark

    workers_starting_mark()  # /api/health says "starting" until this worker answers a ping


@beat_init.connect
def _refuse_insecure_beat(**kwargs) -> None:
    _refuse("beat")


@task_prerun.connect
def _connection_checked(**kwargs) -> None:
    """Connections live across tasks (CELERY_DB_REUSE_MAX): before each task, Django's rule for a
    request: a connection that failed its health check, errored, or outlived CONN_MAX_AGE is
    closed, and the task opens a new one (after a database restart, say)."""
    from django.db import close_old_connections

    close_old_connections()


class _QuietClock(logging.Filter):
    """The engine's clock sends a sweep every second and a reap every few: at INFO, beat and the
    worker would log a line or two for each, burying what a person watches the log for."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        clock = {entry["task"] for entry in (app.conf.beat_schedule or {}).values()}
        args = record.args
        if isinstance(args, dict):  # the worker: "Task %(name)s[%(id)s] received"
            return args.get("name") not in clock
        if isinstance(args, tuple) and len(args) == 2:  # beat: "Scheduler: Sending due task %s (%s)"
            return args[1] not in clock
        return True


def _quiet_clock() -> bool:
    # ORCHESTRATOR_LOG_CLOCK=true keeps the clock's lines: the engine tests wait on a sweep's
    # "received"/"succeeded" lines instead of sleeping.
    return os.environ.get("ORCHESTRATOR_LOG_CLOCK", "").strip().lower() not in ("1", "true", "yes", "on")


if _quiet_clock():
    for _name in ("celery.worker.strategy", "celery.app.trace", "celery.beat"):
        logging.getLogger(_name).addFilter(_QuietClock())
