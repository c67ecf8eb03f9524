"""Rate limit (SPEC 3, 16): N requests per minute per user or key, shared through Redis."""

from __future__ import annotations

import time

import httpx
from rest_framework.test import APIClient

from orchestrator.tenancy.ratelimit import WINDOW_SECONDS
from tests.conftest import client_for


def start_early_in_a_window(margin: float) -> None:
    """The limit counts in fixed one-minute windows; a test that counts requests must
    not straddle a window boundary, or the count starts over half-way through."""
    into_window = time.time() % WINDOW_SECONDS
    if into_window > WINDOW_SECONDS - margin:
        time.sleep(WINDOW_SECONDS - into_window + 0.1)


def test_the_request_over_the_limit_is_429_with_retry_after(api_client, settings):
    settings.ORCHESTRATOR_RATE_LIMIT = 3
    start_early_in_a_window(5)
    for _ in range(3):
        assert api_client.get("/api/user").status_code == 200

    response = api_client.get("/api/user")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= WINDOW_SECONDS


def test_responses_carry_the_limit_and_a_decreasing_remaining_count(api_client, settings):
    settings.ORCHESTRATOR_RATE_LIMIT = 3
    start_early_in_a_window(5)

    responses = [api_client.get("/api/user") for _ in range(4)]

    assert [r["X-RateLimit-Limit"] for r in responses] == ["3"] * 4
    assert [r["X-RateLimit-Remaining"] for r in responses] == ["2", "1", "0", "0"]


def test_the_default_limit_is_100_a_minute(api_client):
    response = api_client.get("/api/user")

    assert response["X-RateLimit-Limit"] == "100"
    assert response["X-RateLimit-Remaining"] == "99"


def test_error_responses_carry_the_rate_limit_headers_too(api_client, settings):
    settings.ORCHESTRATOR_RATE_LIMIT = 3

    response = api_client.get("/api/workflows/wf_missing")

    assert response.status_code == 404
    assert response["X-RateLimit-Limit"] == "3"


def test_another_users_requests_do_not_count_against_the_caller(api_client, viewer, settings):
    settings.ORCHESTRATOR_RATE_LIMIT = 3
    start_early_in_a_window(5)
    for _ in range(4):
        api_client.get("/api/user")

    response = client_for(viewer).get("/api/user")

    assert response.status_code == 200
    assert response["X-RateLimit-Remaining"] == "2"


def test_an_api_key_has_its_own_count(member, raw_member_key, settings):
    settings.ORCHESTRATOR_RATE_LIMIT = 3
    start_early_in_a_window(5)
    key_client = APIClient()
    key_client.credentials(HTTP_X_API_KEY=raw_member_key)
    for _ in range(3):
        assert key_client.get("/api/user").status_code == 200

    assert key_client.get("/api/user").status_code == 429


def test_a_rate_limit_of_zero_turns_the_limit_off(api_client, settings):
    settings.ORCHESTRATOR_RATE_LIMIT = 0

    statuses = [api_client.get("/api/user").status_code for _ in range(10)]

    assert statuses == [200] * 10


def test_health_is_never_rate_limited(anonymous_client, settings):
    settings.ORCHESTRATOR_RATE_LIMIT = 1

    statuses = {anonymous_client.get("/api/health").status_code for _ in range(3)}

    assert 429 not in statuses


def test_the_count_is_shared_between_server_processes(live_servers, raw_member_key):
    first = live_servers({"ORCHESTRATOR_RATE_LIMIT": "4"})
    second = live_servers({"ORCHESTRATOR_RATE_LIMIT": "4"})
    headers = {"X-API-Key": raw_member_key}
    start_early_in_a_window(10)

    statuses = [
        httpx.get(f"{base_url}/api/user", headers=headers, timeout=10).status_code
        for base_url in [first, second, first, second, first]
    ]

    assert statuses == [200, 200, 200, 200, 429]


def test_a_429_from_a_server_process_carries_retry_after(live_servers, raw_member_key):
    base_url = live_servers({"ORCHESTRATOR_RATE_LIMIT": "1"})
    headers = {"X-API-Key": raw_member_key}
    start_early_in_a_window(10)
    httpx.get(f"{base_url}/api/user", headers=headers, timeout=10)

    response = httpx.get(f"{base_url}/api/user", headers=headers, timeout=10)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= WINDOW_SECONDS


def test_a_server_process_with_rate_limit_zero_never_answers_429(live_servers, raw_member_key):
    base_url = live_servers({"ORCHESTRATOR_RATE_LIMIT": "0"})
    headers = {"X-API-Key": raw_member_key}

    statuses = [httpx.get(f"{base_url}/api/user", headers=headers, timeout=10).status_code for _ in range(8)]

    assert statuses == [200] * 8
