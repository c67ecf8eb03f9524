"""The web tier's PostgreSQL pool (Django's, on psycopg_pool), and its reconnection backoff capped.

``web_pool_enable()`` runs in the web entry points before any connection opens: the default
database (PostgreSQL only) gets ``OPTIONS["pool"] = ORCHESTRATOR_DB_POOL`` and CONN_MAX_AGE=0,
which Django's pool needs. Other processes keep plain connections (config/settings.py says why).

After the database goes away, psycopg_pool retries each lost connection with a backoff that
doubles without limit (1, 2, 4, 8, 16 s…). After a 10 s outage its next attempt can come
15-30 s later, and a request waiting for a connection meanwhile times out although the
database is back. Capped at ``RECONNECT_MAX_DELAY``, a waiting request gets a connection
within a couple of seconds of the database's return. (psycopg-pool is pinned in
requirements.txt; its ``AttemptWithBackoff`` is what ``pool.py`` schedules attempts with.)
"""

from __future__ import annotations

RECONNECT_MAX_DELAY = 2.0


def web_pool_enable() -> None:
    from django.conf import settings
    from django.db import connections

    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("postgresql") or "pool" in database.get("OPTIONS", {}):
        return
    # Nothing should be open yet (a plain connection would bypass the pool). close() itself is
    # refused in an event loop, where uvicorn's worker processes import this module.
    if connections["default"].connection is not None:
        connections["default"].close()
    # The same dict every connection object of every thread reads its settings from.
    database.setdefault("OPTIONS", {})["pool"] = dict(settings.ORCHESTRATOR_DB_POOL)
    database["CONN_MAX_AGE"] = 0
    reconnect_backoff_cap()


def reconnect_backoff_cap() -> None:
    try:
        from psycopg_pool import base, pool
    except ImportError:  # SQLite-only install: no pool
        return
    if getattr(pool.AttemptWithBackoff, "capped", False):
        return

    class CappedBackoff(base.AttemptWithBackoff):
        capped = True

        def update_delay(self, now: float) -> None:
            super().update_delay(now)
            self.delay = min(self.delay, RECONNECT_MAX_DELAY)

    pool.AttemptWithBackoff = CappedBackoff
