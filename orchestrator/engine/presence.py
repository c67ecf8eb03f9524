"""Whether a worker consumes: what the health check and ``run_workflow`` ask before relying on one.

Embedded, the worker is a thread of this process (``embedded.worker_state``). Distributed,
workers answer Celery's broadcast ping; while a worker process is still starting (Django,
the pool, the broker connection: a few seconds) it cannot answer yet, so ``serve`` and each
worker at ``worker_init`` leave a mark in the cache that reads as "starting" for a minute.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

STARTING_KEY = "workers:starting"
STARTING_SECONDS = 60
_COUNT_KEY = "workers:online"


def workers_starting_mark() -> None:
    """A worker process is starting: until one answers, say "starting" rather than "none"."""
    try:
        cache.set(STARTING_KEY, time.time(), timeout=STARTING_SECONDS)
    except Exception:  # the cache (Redis) is down: health reports the broker anyway
        logger.debug("could not mark workers as starting", exc_info=True)


def _starting() -> bool:
    try:
        return cache.get(STARTING_KEY) is not None
    except Exception:
        return False


def _ping(timeout: float) -> int:
    from config.celery import app

    try:
        return len(app.control.ping(timeout=timeout) or [])
    except Exception:  # broker down: counted as no workers
        return 0


def workers_online(*, timeout: float = 0.5) -> tuple[str, str]:
    """``("ok", detail)`` when a worker consumes, ``("starting", …)`` while one starts, else ``("error", …)``.

    A positive count is cached for 10 s; "none" for 1 s only, so the answer turns ``ok`` as
    soon as a worker is up (a cached zero once made a consuming worker read as missing).
    """
    if settings.EMBEDDED:
        from orchestrator.engine.embedded import worker_state

        state = worker_state()
        if state == "ok":
            return "ok", "embedded (in-process)"
        if state == "starting":
            return "starting", "embedded worker starting"
        return "error", "no worker in this process (the embedded broker is in-process: run manage.py serve)"
    try:
        count = cache.get(_COUNT_KEY)
    except Exception:
        count = None
    if count is None:
        count = _ping(timeout)
        try:
            cache.set(_COUNT_KEY, count, timeout=10 if count else 1)
        except Exception:
            logger.debug("could not cache the worker count", exc_info=True)
    if count:
        return "ok", f"{count} online"
    if _starting():
        return "starting", "a worker is starting"
    return "error", "no worker answered"
