"""Fixtures of the seed-surface tests: sending a document's example as it is, API keys, and the
engine tests' real worker (a module's ``shared_worker``)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from tests.compat.seed_documents import Example, with_ids
from tests.engine.conftest import _engine_queue, http_server, shared_worker, shared_worker_env  # noqa: F401


@pytest.fixture
def member_key(member) -> str:
    return api_key_create(user=member, name="seed client")[1]


@pytest.fixture
def admin_key(admin_user) -> str:
    return api_key_create(user=admin_user, name="seed admin client")[1]


@pytest.fixture
def send() -> Callable:
    """``send(example, key, ids)``: the example's method, path, headers and body as the document
    writes them; only its example IDs (``ids``) and ``YOUR_API_KEY`` (``key``) are replaced."""

    def call(example: Example, key: str | None = None, ids: dict[str, str] | None = None):
        ids = ids or {}
        headers = {}
        for name, value in example.headers.items():
            if name.lower() == "content-type":
                continue  # given to the client below
            if key is not None:
                value = value.replace("YOUR_API_KEY", key)
            headers["HTTP_" + name.upper().replace("-", "_")] = value
        path = with_ids(example.path, ids)
        body = json.dumps(with_ids(example.body, ids)) if example.body is not None else None
        client = APIClient()
        if body is None:
            return client.generic(example.method, path, **headers)
        return client.generic(example.method, path, body, content_type="application/json", **headers)

    return call
