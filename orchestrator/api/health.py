"""What ``GET /api/health`` checks. Each check answers "ok" or "error"; ``workers`` may also
answer "starting" (a worker process is starting and cannot answer yet), and then, if
nothing else is wrong, so does ``status``: right after start nothing reads as "degraded"."""

from __future__ import annotations

import time
from typing import Any

import redis
from django.conf import settings
from django.db import connection

from orchestrator.engine.presence import workers_online

# Health answers within a second or so even when the database is away, whatever the pool's
# ORCHESTRATOR_DB_POOL_TIMEOUT (a request's wait for a busy pool).
DATABASE_CHECK_TIMEOUT = 1.0


def _check_database() -> tuple[str, str]:
    try:
        pool = getattr(connection, "pool", None)
        if pool is not None and connection.connection is None:
            pool.open()
            with pool.connection(timeout=DATABASE_CHECK_TIMEOUT) as conn:
                conn.execute("SELECT 1")
            return "ok", connection.vendor
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok", connection.vendor
    except Exception as exc:  # any driver error means "down"
        return "error", type(exc).__name__


def _check_redis() -> tuple[str, str]:
    if settings.EMBEDDED:
        return "ok", "embedded (in-process)"
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5).ping()
        return "ok", "redis"
    except redis.RedisError as exc:
        return "error", type(exc).__name__


# "starting": every check is ok but no worker has answered yet.
HEALTH_STATUSES = ["ok", "starting", "degraded"]


def health_report() -> tuple[dict[str, Any], int]:
    started = time.monotonic()
    database, database_detail = _check_database()
    broker, broker_detail = _check_redis()
    layer = broker
    workers, workers_detail = workers_online() if broker == "ok" else ("error", "broker unavailable")
    checks = {"database": database, "broker": broker, "channel_layer": layer, "workers": workers}
    if all(value == "ok" for value in checks.values()):
        overall = "ok"
    elif all(value in ("ok", "starting") for value in checks.values()):
        overall = "starting"
    else:
        overall = "degraded"
    body = {
        "status": overall,
        "service": "orchestrator",
        "version": settings.ORCHESTRATOR_VERSION,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "checks": checks,
        "details": {
            "database": database_detail,
            "broker": broker_detail,
            "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1],
            "workers": workers_detail,
        },
        "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
    }
    return body, 503 if database != "ok" else 200
