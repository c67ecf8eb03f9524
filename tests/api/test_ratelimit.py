"""Rate limit (SPEC 3, 16): N requests per minute per user or key, shared through Redis.

The limit counts in fixed one-minute windows of the wall clock. In this process the
limiter's clock is a fake that a test sets and moves (``clock``), starting each test at
the beginning of a window of its own. Server subprocesses keep the real clock; their tests
read the window of every answer (``X-RateLimit-Reset``) instead of aligning to it."""

from __future__ import annotations

import random

import httpx
import pytest
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from orchestrator.tenancy import ratelimit
from orchestrator.tenancy.ratelimit import WINDOW_SECONDS
from tests.conftest import client_for


class Clock:
    """Stands in for the ``time`` module inside the limiter: ``time()`` is whatever was set."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    # A window no other test (or test process) counts in: the counters start at zero.
    window_start = WINDOW_SECONDS * random.randrange(10**8, 10**9)
    fake = Clock(window_start + 0.25)
    monkeypatch.setattr(ratelimit, "time", fake)
    return fake


def key_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key)
    return client


def test_the_request_over_the_limit_is_429_with_retry_after(api_client, settings, clock):
    settings.ORCHESTRATOR_RATE_LIMIT = 3
    for _ in range(3):
        assert api_client.get("/api/user").status_code == 200

    clock.advance(15)
    response = api_client.get("/api/user")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert response["Retry-After"] == "45"  # what is left of the window


def test_responses_carry_the_limit_and_a_decreasing_remaining_count(api_client, settings, clock):
    settings.ORCHESTRATOR_RATE_LIMIT = 3

    responses = [api_client.get("/api/user") for _ in range(4)]

    assert [r["X-RateLimit-Limit"] for r in responses] == ["3"] * 4
    assert [r["X-RateLimit-Remaining"] for r in responses] == ["2", "1", "0", "0"]
    window_end = int(clock.now // WINDOW_SECONDS + 1) * WINDOW_SECONDS
    assert {r["X-RateLimit-Reset"] for r in responses} == {str(window_end)}


def test_the_count_starts_over_in_the_next_window(api_client, settings, clock):
    settings.ORCHESTRATOR_RATE_LIMIT = 2
    assert [api_client.get("/api/user").status_code for _ in range(3)] == [200, 200, 429]

    clock.advance(WINDOW_SECONDS - 0.5)  # the last half second of the same window
    assert api_client.get("/api/user").status_code == 429
    clock.advance(0.5)

    response = api_client.get("/api/user")
    assert response.status_code == 200 and response["X-RateLimit-Remaining"] == "1"


def test_the_default_limit_is_100_a_minute(api_client, clock):
    response = api_client.get("/api/user")

    assert response["X-RateLimit-Limit"] == "100"
    assert response["X-RateLimit-Remaining"] == "99"


def test_error_responses_carry_the_rate_limit_headers_too(api_client, settings, clock):
    settings.ORCHESTRATOR_RATE_LIMIT = 3

    # A well-formed ID that names nothing (a malformed one never reaches a view: see converters.py).
    response = api_client.get("/api/workflows/wf_" + "0" * 26)

    assert response.status_code == 404
    assert response["X-RateLimit-Limit"] == "3"


def test_another_users_requests_do_not_count_against_the_caller(api_client, viewer, settings, clock):
    settings.ORCHESTRATOR_RATE_LIMIT = 3
    for _ in range(4):
        api_client.get("/api/user")

    response = client_for(viewer).get("/api/user")

    assert response.status_code == 200
    assert response["X-RateLimit-Remaining"] == "2"


def test_an_api_key_has_its_own_count(raw_member_key, settings, clock):
    settings.ORCHESTRATOR_RATE_LIMIT = 3
    client = key_client(raw_member_key)
    for _ in range(3):
        assert client.get("/api/user").status_code == 200

    assert client.get("/api/user").status_code == 429


def test_an_api_key_is_not_counted_with_the_user_who_created_it(api_client, raw_member_key, settings, clock):
    settings.ORCHESTRATOR_RATE_LIMIT = 3
    assert [api_client.get("/api/user").status_code for _ in range(4)] == [200, 200, 200, 429]

    response = key_client(raw_member_key).get("/api/user")

    assert response.status_code == 200 and response["X-RateLimit-Remaining"] == "2"


def test_a_user_whose_key_is_over_the_limit_still_calls_with_their_token(api_client, raw_member_key, settings, clock):
    settings.ORCHESTRATOR_RATE_LIMIT = 3
    client = key_client(raw_member_key)
    assert [client.get("/api/user").status_code for _ in range(4)] == [200, 200, 200, 429]

    response = api_client.get("/api/user")

    assert response.status_code == 200 and response["X-RateLimit-Remaining"] == "2"


def test_two_keys_of_one_user_count_apart(member, raw_member_key, settings, clock):
    settings.ORCHESTRATOR_RATE_LIMIT = 3
    first = key_client(raw_member_key)
    for _ in range(4):
        first.get("/api/user")

    response = key_client(api_key_create(user=member, name="second")[1]).get("/api/user")

    assert response.status_code == 200 and response["X-RateLimit-Remaining"] == "2"


def test_a_rate_limit_of_zero_turns_the_limit_off(api_client, settings, clock):
    settings.ORCHESTRATOR_RATE_LIMIT = 0

    statuses = [api_client.get("/api/user").status_code for _ in range(10)]

    assert statuses == [200] * 10


def test_health_is_never_rate_limited(anonymous_client, settings, clock):
    settings.ORCHESTRATOR_RATE_LIMIT = 1

    statuses = {anonymous_client.get("/api/health").status_code for _ in range(3)}

    assert 429 not in statuses


# --- server subprocesses (the real clock) ------------------------------------------------------


def within_one_window(send, member) -> list[httpx.Response]:
    """``send(raw_key)`` makes a fixed sequence of requests. A minute boundary may fall inside
    it (the servers' clocks are real): every answer names its window's end, so a sequence
    that spans two windows is sent once more, with a key of its own, inside the next one."""
    for attempt in range(2):
        responses = send(api_key_create(user=member, name=f"live {attempt}")[1])
        if len({r.headers["X-RateLimit-Reset"] for r in responses}) == 1:
            return responses
    raise AssertionError("two window boundaries within one short sequence of requests")


def test_the_count_is_shared_between_server_processes(live_servers, member):
    first = live_servers({"ORCHESTRATOR_RATE_LIMIT": "4"})
    second = live_servers({"ORCHESTRATOR_RATE_LIMIT": "4"})

    def send(raw_key: str) -> list[httpx.Response]:
        return [
            httpx.get(f"{base_url}/api/user", headers={"X-API-Key": raw_key}, timeout=10)
            for base_url in [first, second, first, second, first]
        ]

    responses = within_one_window(send, member)

    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]


def test_a_429_from_a_server_process_carries_retry_after(live_servers, member):
    base_url = live_servers({"ORCHESTRATOR_RATE_LIMIT": "1"})

    def send(raw_key: str) -> list[httpx.Response]:
        return [httpx.get(f"{base_url}/api/user", headers={"X-API-Key": raw_key}, timeout=10) for _ in range(2)]

    response = within_one_window(send, member)[1]

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= WINDOW_SECONDS


def test_a_server_process_with_rate_limit_zero_never_answers_429(live_servers, raw_member_key):
    base_url = live_servers({"ORCHESTRATOR_RATE_LIMIT": "0"})
    headers = {"X-API-Key": raw_member_key}

    statuses = [httpx.get(f"{base_url}/api/user", headers=headers, timeout=10).status_code for _ in range(8)]

    assert statuses == [200] * 8
