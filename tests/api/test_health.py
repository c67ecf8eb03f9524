"""GET /api/health (SPEC 3): public; 503 when the database is down."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
from django.conf import settings
from rest_framework.test import APIClient

from tests.engine.conftest import Worker
from tests.live import ROOT


def test_health_is_public(anonymous_client, db):
    response = anonymous_client.get("/api/health")

    assert response.status_code == 200


def test_health_answers_status_service_version_timestamp_and_checks(anonymous_client, db):
    body = anonymous_client.get("/api/health").json()

    assert body["status"] in {"ok", "starting", "degraded"}
    assert body["service"] == "orchestrator"
    assert body["version"] == settings.ORCHESTRATOR_VERSION
    assert set(body["checks"]) == {"database", "broker", "channel_layer", "workers"}
    assert all(value in {"ok", "error"} for name, value in body["checks"].items() if name != "workers")
    assert body["checks"]["workers"] in {"ok", "starting", "error"}


def test_health_timestamp_is_the_current_utc_time(anonymous_client, db):
    body = anonymous_client.get("/api/health").json()

    stamp = datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))
    assert stamp.tzinfo is not None
    assert abs(datetime.now(UTC) - stamp) < timedelta(seconds=30)


def test_health_reports_a_reachable_database_and_redis_as_ok(anonymous_client, db):
    checks = anonymous_client.get("/api/health").json()["checks"]

    assert checks["database"] == "ok"
    assert checks["broker"] == "ok"
    assert checks["channel_layer"] == "ok"


def test_health_status_is_degraded_unless_every_check_is_ok_or_starting(anonymous_client, db):
    body = anonymous_client.get("/api/health").json()

    values = set(body["checks"].values())
    expected = "ok" if values == {"ok"} else "starting" if values <= {"ok", "starting"} else "degraded"
    assert body["status"] == expected


def test_health_ignores_bad_credentials(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer wfb_not-a-real-key-not-a-real-key")

    response = client.get("/api/health")

    assert response.status_code == 200


def test_a_server_without_its_database_starts_and_answers_503(live_servers):
    base_url = live_servers({"DATABASE_URL": "postgres://postgres@127.0.0.1:1/x"})

    response = httpx.get(f"{base_url}/api/health", timeout=15)

    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "error"
    assert body["status"] == "degraded"


def test_a_server_with_its_database_answers_200(live_servers):
    base_url = live_servers()

    response = httpx.get(f"{base_url}/api/health", timeout=15)

    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


def _workers_check(base_url: str) -> tuple[str, str]:
    body = httpx.get(f"{base_url}/api/health", timeout=15).json()
    return body["checks"]["workers"], body["status"]


def test_workers_read_starting_while_one_starts_and_ok_as_soon_as_it_answers(live_servers, private_redis):
    """A broker of the test's own: no other test's worker answers its pings."""
    base_url = live_servers({"REDIS_URL": private_redis})
    assert _workers_check(base_url) == ("error", "degraded")

    # What a worker process (or `serve`, before it starts one) does first: mark "starting".
    mark = "import django; django.setup(); from orchestrator.engine.presence import workers_starting_mark as m; m()"
    env = {**os.environ, "REDIS_URL": private_redis, "DJANGO_SETTINGS_MODULE": "config.settings"}
    subprocess.run([sys.executable, "-c", mark], env=env, check=True, timeout=60, cwd=ROOT)
    assert _workers_check(base_url) == ("starting", "starting")

    worker = Worker(extra_env={"REDIS_URL": private_redis}).start()  # returns once it logged "ready."
    try:
        deadline = time.monotonic() + 5  # the "none" answer is cached for one second only
        while _workers_check(base_url) != ("ok", "ok"):
            assert time.monotonic() < deadline, _workers_check(base_url)
            time.sleep(0.1)
        assert all(_workers_check(base_url) == ("ok", "ok") for _ in range(5))
    finally:
        worker.stop()
