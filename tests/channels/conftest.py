"""One real worker and one real uvicorn server for the whole folder (starting them per
test would cost seconds each); each test still gets a flushed database."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from django.db import connection, transaction

from orchestrator.tenancy.authentication import token_pair_for
from runs.models import Event, Run
from runs.services import run_create
from tests.engine.conftest import QUEUE, Worker, _engine_queue, flush_retrying_deadlocks, http_server  # noqa: F401
from tests.factories import TenantFactory, UserFactory
from tests.live import server_log, start_server, stop_server
from workflows.services import workflow_create

# Long enough that a test can tell live delivery from the heartbeat's database read.
HEARTBEAT = 2.0


@pytest.fixture(scope="package")
def live(django_db_setup, _engine_queue):  # noqa: F811
    """``live.url``: the server's base URL; ``live.ws``: its ws:// base; ``live.log()``: its output.

    Package-scoped: the worker reads the suite's shared queue, so it must be gone before
    other packages' tests start workers with other settings on that queue."""
    worker = Worker(concurrency=2).start()
    try:
        base_url, server = start_server(
            {
                "ORCHESTRATOR_STREAM_HEARTBEAT_SECONDS": str(HEARTBEAT),
                "ORCHESTRATOR_RATE_LIMIT": "0",
                "ORCHESTRATOR_TASK_QUEUE": QUEUE,  # runs resumed through the server reach our worker
            }
        )
    except Exception:
        worker.stop()
        raise
    with flush_retrying_deadlocks():
        yield SimpleNamespace(url=base_url, ws=base_url.replace("http://", "ws://"), log=lambda: server_log(server))
    stop_server(server)
    worker.stop()


@pytest.fixture
def user(transactional_db):
    return UserFactory(tenant=TenantFactory())


@pytest.fixture
def stranger(transactional_db):
    return UserFactory(tenant=TenantFactory())


def token(user) -> str:
    return token_pair_for(user)["access"]


def bearer(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(user)}"}


def make_workflow(user, steps, **definition):
    return workflow_create(user=user, definition={"steps": steps, **definition}, name=f"wf {uuid.uuid4().hex[:10]}")


def start(user, steps, **definition):
    return run_create(workflow=make_workflow(user, steps, **definition), inputs={}, user=user)


def gated_steps(count: int = 3) -> list[dict]:
    """A signal wait, then a chain of ``count`` transforms: the run pauses until resumed."""
    steps = [{"id": "gate", "type": "wait", "config": {"signal": "go"}}]
    for i in range(count):
        steps.append({"id": f"t{i}", "type": "transform", "config": {"value": i}, "depends_on": [steps[-1]["id"]]})
    return steps


def add_unpublished_events(run: Run, types: list[str]) -> list[Event]:
    """Events the channel layer never carried: what a lossy layer looks like to a client."""
    events = []
    with transaction.atomic():
        for type_ in types:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {Run._meta.db_table} SET event_sequence = event_sequence + 1 WHERE id = %s "
                    "RETURNING event_sequence",
                    [run.id],
                )
                (sequence,) = cursor.fetchone()
            events.append(
                Event.objects.create(
                    tenant_id=run.tenant_id, run_id=run.id, workflow_id=run.workflow_id, sequence=sequence, type=type_
                )
            )
    return events
