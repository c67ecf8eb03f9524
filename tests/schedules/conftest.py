"""Schedule and webhook tests: workflows that run without the outside world, and API keys."""

from __future__ import annotations

import pytest

from apikeys.services import api_key_create

# The real-worker fixtures of the engine tests (a worker with beat, its private queue).
from tests.engine.conftest import _engine_queue, worker_factory  # noqa: F401
from tests.factories import WorkflowFactory

LOCAL_DEFINITION = {"steps": [{"id": "only", "type": "transform", "config": {"value": "done"}}]}


@pytest.fixture
def local_workflow(tenant, admin_user):
    return WorkflowFactory(tenant=tenant, created_by=admin_user, definition=LOCAL_DEFINITION)


@pytest.fixture
def webhook_workflow(tenant, admin_user):
    return WorkflowFactory(tenant=tenant, created_by=admin_user, definition=LOCAL_DEFINITION, trigger_type="webhook")


@pytest.fixture
def raw_key(admin_user) -> str:
    return api_key_create(user=admin_user, name="webhook")[1]
