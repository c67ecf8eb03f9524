"""Shared fixtures: tenants, users of every role, and API clients authenticated as them."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from orchestrator.models import Role
from orchestrator.tenancy.authentication import token_pair_for
from tests.factories import TenantFactory, UserFactory, WorkflowFactory

# Servers and workers the tests start read no .env.local (settings skip it in this process,
# pytest being loaded): a developer's `make run` settings must not leak into the suite.
os.environ["ORCHESTRATOR_ENV_FILE"] = ""


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_for(user)['access']}")
    return client


# Test processes run side by side (pytest-xdist) on one Redis, which also carries their
# Celery queues: each process keeps its cache keys under its own prefix and clears only
# those (a cache.clear() is a FLUSHDB, which would drop the other processes' messages).
CACHE_PREFIX = f"test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}"
settings.CACHES["default"]["KEY_PREFIX"] = CACHE_PREFIX


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    backend = settings.CACHES["default"]["BACKEND"]
    if not backend.endswith("RedisCache"):
        cache.clear()  # a process-local cache
        return
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{CACHE_PREFIX}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def tenant(db):
    return TenantFactory()


@pytest.fixture
def other_tenant(db):
    return TenantFactory()


@pytest.fixture
def member(tenant):
    return UserFactory(tenant=tenant, role=Role.MEMBER)


@pytest.fixture
def viewer(tenant):
    return UserFactory(tenant=tenant, role=Role.VIEWER)


@pytest.fixture
def admin_user(tenant):
    return UserFactory(tenant=tenant, role=Role.ADMIN)


@pytest.fixture
def owner(tenant):
    return UserFactory(tenant=tenant, role=Role.OWNER)


@pytest.fixture
def outsider(other_tenant):
    return UserFactory(tenant=other_tenant, role=Role.OWNER)


@pytest.fixture
def api_client(member) -> APIClient:
    return client_for(member)


@pytest.fixture
def viewer_client(viewer) -> APIClient:
    return client_for(viewer)


@pytest.fixture
def admin_client(admin_user) -> APIClient:
    return client_for(admin_user)


@pytest.fixture
def outsider_client(outsider) -> APIClient:
    return client_for(outsider)


@pytest.fixture
def workflow(tenant, member):
    return WorkflowFactory(tenant=tenant, created_by=member)


@pytest.fixture
def other_tenant_workflow(other_tenant):
    return WorkflowFactory(tenant=other_tenant)
