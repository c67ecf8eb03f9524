"""What ``GET /api/health`` checks. Each check answers "ok" or "error"."""

from __future__ import annotations

import time
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection

_WORKERS_CACHE_KEY = "health:workers"


def _check_database() -> tuple[str, str]:
    try:
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


def _check_workers() -> tuple[str, str]:
    if settings.EMBEDDED:
        return "ok", "embedded (in-process)"
    cached = cache.get(_WORKERS_CACHE_KEY) if settings.REDIS_URL else None
    if cached is None:
        from config.celery import app

        try:
            replies = app.control.ping(timeout=0.5)
        except Exception:  # broker down: counted as no workers
            replies = []
        cached = len(replies)
        try:
            cache.set(_WORKERS_CACHE_KEY, cached, timeout=10)
        except Exception:
            pass
    return ("ok", f"{cached} online") if cached else ("error", "no worker answered")


def health_report() -> tuple[dict[str, Any], int]:
    started = time.monotonic()
    database, database_detail = _check_database()
    broker, broker_detail = _check_redis()
    layer = broker
    workers, workers_detail = _check_workers() if broker == "ok" else ("error", "broker unavailable")
    checks = {"database": database, "broker": broker, "channel_layer": layer, "workers": workers}
    healthy = all(value == "ok" for value in checks.values())
    body = {
        "status": "ok" if healthy else "degraded",
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
