"""Fixtures for the API tests: API keys, and real server subprocesses."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from tests.live import start_redis, start_server, stop_redis, stop_server


@pytest.fixture
def member_key(member) -> tuple:
    """An API key created by ``member``: (ApiKey row, raw key)."""
    return api_key_create(user=member, name="ci")


@pytest.fixture
def raw_member_key(member_key) -> str:
    return member_key[1]


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


@pytest.fixture
def live_servers(transactional_db) -> Iterator[Callable[..., str]]:
    """``start(env_overrides) -> base_url``; every server started is stopped at teardown,
    before the test database is flushed."""
    processes = []

    def start(env_overrides: dict[str, str] | None = None) -> str:
        base_url, process = start_server(env_overrides or {})
        processes.append(process)
        return base_url

    yield start
    for process in processes:
        stop_server(process)


@pytest.fixture
def private_redis() -> Iterator[str]:
    """The URL of a redis-server of this test's own (no other worker listens there)."""
    url, process = start_redis()
    yield url
    stop_redis(process)
