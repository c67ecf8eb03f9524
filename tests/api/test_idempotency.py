"""``Idempotency-Key`` is scoped to the endpoint it was sent to and to the caller's tenant:
the same key elsewhere starts a new run. (Replays of the same request are tested with a
worker in tests/engine/test_runs_api.py.) No worker here: the runs stay queued."""

from __future__ import annotations

import uuid

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory

from runs.idempotency import idempotent
from runs.models import IdempotencyKey, Run
from runs.services import run_create
from workflows.services import workflow_create


def make(user):
    definition = {"steps": [{"id": "one", "type": "transform", "config": {"value": 1}}]}
    return workflow_create(user=user, definition=definition, name=f"wf {uuid.uuid4().hex[:10]}")


def start(client, workflow, key: str, endpoint: str = "run"):
    return client.post(f"/api/workflows/{workflow.id}/{endpoint}", {}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def run_id_of(response) -> str:
    body = response.json()
    return body["run_id"] if "run_id" in body else body["run"]["id"]


def test_the_same_key_on_another_workflow_starts_a_new_run(api_client, member):
    first_workflow, second_workflow = make(member), make(member)

    first = start(api_client, first_workflow, "order-42")
    second = start(api_client, second_workflow, "order-42")

    assert first.status_code == second.status_code == 202
    assert not second.has_header("Idempotent-Replayed")
    assert Run.objects.get(id=run_id_of(second)).workflow_id == second_workflow.id
    # Each workflow replays its own first answer.
    assert run_id_of(start(api_client, first_workflow, "order-42")) == run_id_of(first)
    assert run_id_of(start(api_client, second_workflow, "order-42")) == run_id_of(second)
    assert Run.objects.filter(tenant=member.tenant).count() == 2


def test_the_same_key_on_run_and_on_execute_of_one_workflow_starts_two_runs(api_client, member):
    workflow = make(member)

    by_run = start(api_client, workflow, "k-1")
    by_execute = start(api_client, workflow, "k-1", endpoint="execute")

    assert by_run.status_code == by_execute.status_code == 202
    assert not by_execute.has_header("Idempotent-Replayed")
    assert run_id_of(by_execute) != run_id_of(by_run)


def test_the_same_key_in_another_tenant_starts_that_tenants_own_run(api_client, outsider_client, member, outsider):
    ours, theirs = make(member), make(outsider)

    first = start(api_client, ours, "shared-key")
    other = start(outsider_client, theirs, "shared-key")

    assert other.status_code == 202 and not other.has_header("Idempotent-Replayed")
    assert Run.objects.get(id=run_id_of(other)).tenant_id == outsider.tenant_id != member.tenant_id
    assert run_id_of(other) != run_id_of(first)


def test_keys_are_per_tenant_even_where_two_tenants_send_to_one_path(member, outsider):
    """An endpoint whose path names nothing tenant-owned (one URL for every tenant) scopes
    keys by tenant alone: one tenant's key never replays another tenant's answer."""
    factory = APIRequestFactory()
    path = "/api/runs/start"  # the same scope for both tenants

    def send(user, workflow) -> Response:
        request = Request(factory.post(path, {}, format="json", HTTP_IDEMPOTENCY_KEY="nightly"))
        request.user = user

        def begin() -> Response:
            return Response({"run_id": run_create(workflow=workflow, inputs={}, user=user).id}, status=202)

        return idempotent(request, begin)

    ours = send(member, make(member))
    theirs = send(outsider, make(outsider))

    assert not theirs.has_header("Idempotent-Replayed")
    assert Run.objects.get(id=theirs.data["run_id"]).tenant_id == outsider.tenant_id
    assert theirs.data["run_id"] != ours.data["run_id"]
    assert IdempotencyKey.objects.filter(key="nightly", scope=path).count() == 2
    # Within a tenant the key still replays.
    assert send(member, make(member)).data == ours.data
