"""Retries of database and broker errors, and the rule for everything else.

Two kinds of exception reach a task or the step-recording path:

* **transient**: the database or the broker was unreachable, refused a connection ("too
  many clients"), reset it, or aborted a transaction as a deadlock. Nothing was committed;
  doing the same again later succeeds. Retried with capped exponential backoff and jitter.
* **unexpected**: anything else (a ``DataError``, a bug). Retried a few times, since it may
  still be an effect of an outage, then given up: the caller fails the step and its run
  with the error, so that no run waits forever on a bug.

A Celery task retries by sending itself again (``Task.retry``) before its message is
acknowledged (``acks_late``), so a task is never acknowledged without its effect.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from celery.exceptions import Ignore, Reject, Retry
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _transient_types() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = [OperationalError, InterfaceError, BrokerError, ConnectionError, TimeoutError]
    try:
        import redis.exceptions

        types += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    except ImportError:  # pragma: no cover - redis is a dependency
        pass
    try:
        import psycopg
        import psycopg_pool

        types += [psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout]
    except ImportError:  # pragma: no cover - SQLite-only installs
        pass
    return tuple(types)


TRANSIENT = _transient_types()


def is_transient(exc: BaseException) -> bool:
    """A database or broker error that a later attempt may not meet (also when wrapped)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, TRANSIENT):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def backoff_delay(retries: int, *, base: float = 0.5) -> float:
    """Exponential in ``retries``, capped at ORCHESTRATOR_TASK_RETRY_MAX_DELAY, jittered over
    its upper half so that tasks refused together do not come back together."""
    delay = min(settings.ORCHESTRATOR_TASK_RETRY_MAX_DELAY, base * (2 ** min(retries, 16)))
    return random.uniform(delay / 2, delay)


def error_summary(exc: BaseException, limit: int = 500) -> str:
    """``Type: first line of the message``, short: what a person reads on a failed step."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    summary = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return summary if len(summary) <= limit else summary[: limit - 1] + "…"


def _connection_reset() -> None:
    """After a failed transaction the connection may be broken: drop it if so, so the next
    attempt opens (or takes from the pool) a fresh one."""
    try:
        if connection.in_atomic_block:
            return
        if connection.connection is not None and (connection.errors_occurred or not connection.is_usable()):
            connection.close()
        close_old_connections()
    except Exception:  # closing a dead connection can itself fail; the next attempt reconnects
        logger.debug("closing the connection failed", exc_info=True)


def call_retrying(fn: Callable[[], T], *, what: str) -> T:
    """``fn()`` retried in this process: transient errors up to ORCHESTRATOR_TASK_TRANSIENT_RETRIES
    times, any other exception up to ORCHESTRATOR_TASK_ERROR_RETRIES times; then it is raised.
    ``fn`` must be one transaction (all or nothing), so that running it again is safe."""
    transient = errors = 0
    while True:
        try:
            return fn()
        except Exception as exc:
            if is_transient(exc):
                transient += 1
                if transient > settings.ORCHESTRATOR_TASK_TRANSIENT_RETRIES:
                    raise
                delay = backoff_delay(transient - 1)
                logger.warning("%s: %s; again in %.1f s", what, error_summary(exc), delay)
            else:
                errors += 1
                if errors > settings.ORCHESTRATOR_TASK_ERROR_RETRIES:
                    raise
                delay = backoff_delay(errors - 1, base=1.0)
                logger.warning("%s failed unexpectedly; again in %.1f s", what, delay, exc_info=True)
            _connection_reset()
            time.sleep(delay)


def task_guarded(on_exhausted: Callable[..., None] | None = None) -> Callable:
    """For a bound Celery task whose last keyword argument is ``errors=0``.

    A transient error sends the task again after a backoff (its ``errors`` unchanged);
    another exception sends it again with ``errors + 1``, and once that passes
    ORCHESTRATOR_TASK_ERROR_RETRIES, ``on_exhausted(*args, exc=..., **kwargs)`` runs (fail
    what the task was about) instead. Celery's own control exceptions pass through.
    """

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run(self, *args: Any, errors: int = 0, **kwargs: Any) -> Any:
            try:
                return fn(self, *args, errors=errors, **kwargs)
            except (Retry, Ignore, Reject):
                raise
            except Exception as exc:
                _connection_reset()
                limit = settings.ORCHESTRATOR_TASK_TRANSIENT_RETRIES + settings.ORCHESTRATOR_TASK_ERROR_RETRIES
                if is_transient(exc):
                    delay = backoff_delay(self.request.retries)
                    logger.warning("%s: %s; sent again in %.1f s", self.name, error_summary(exc), delay)
                    raise self.retry(exc=exc, countdown=delay, max_retries=limit) from exc
                if errors < settings.ORCHESTRATOR_TASK_ERROR_RETRIES:
                    delay = backoff_delay(errors, base=1.0)
                    logger.warning("%s failed unexpectedly; sent again in %.1f s", self.name, delay, exc_info=True)
                    retry_kwargs = {**(self.request.kwargs or {}), "errors": errors + 1}
                    raise self.retry(exc=exc, countdown=delay, max_retries=limit, kwargs=retry_kwargs) from exc
                if on_exhausted is None:
                    raise
                logger.error("%s failed %d times; giving up", self.name, errors + 1, exc_info=True)
                try:
                    on_exhausted(*args, exc=exc, **kwargs)
                except Exception as final:
                    if not is_transient(final):
                        raise
                    # Giving up could not be recorded either: come back to it (errors unchanged).
                    delay = backoff_delay(self.request.retries)
                    raise self.retry(exc=final, countdown=delay, max_retries=limit) from final
                return None

        return run

    return decorate
