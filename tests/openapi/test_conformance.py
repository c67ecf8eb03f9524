"""Schemathesis over every operation of the OpenAPI document, against the real server.

One live server (uvicorn, the test database, Redis) and one real worker serve a tenant whose
owner's API key authenticates every request, with real objects (workflows, a finished run, an
integration, a schedule, a template, a second API key) so that paths resolve. Each operation
gets a bounded number of derandomized examples, positive data (with the real IDs in its path)
and negative data, and every answer must:

* not be a 5xx (``not_a_server_error``);
* have a documented status code, content type and body (``status_code_conformance``,
  ``content_type_conformance``, ``response_schema_conformance``);
* if it is a 4xx of a canonical operation, be the error envelope ``{"error": {code, message,
  details}}`` (a seed surface documents its own error shape; the schema check holds it to it).

Operations that delete run last, so the others still find their objects.
"""

from __future__ import annotations

import os
import re
import time

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apikeys.services import api_key_create
from orchestrator.models import Role
from tests.engine.conftest import Worker
from tests.factories import UserFactory
from tests.live import start_server, stop_server

pytestmark = pytest.mark.timeout(600)

EXAMPLES = 5  # per operation and generation mode
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Negative-data answers that are gaps in input guards another change closes (issue 11, the
# "edge" branch: NUL and lone surrogates refused at the edge, bounded limit/offset and lengths,
# path converters). Each entry: (operationId, what breaks). Remove an entry once it passes.
KNOWN_GAPS: dict[str, str] = {}

QUICK_DEFINITION = {"steps": [{"id": "shape", "type": "transform", "config": {"expression": "`1`"}}]}


def _checked(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def _objects(base: str, headers: dict, tenant_owner) -> dict[str, str]:
    """Real objects for the path parameters, made through the API itself."""
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        workflow = _checked(
            client.post("/api/workflows", json={"name": "conformance", "definition": QUICK_DEFINITION}), 201
        )["workflow"]
        run = _checked(
            client.post(f"/api/workflows/{workflow['id']}/execute", json={"async": False, "wait_seconds": 60}), 200
        )["run"]
        assert run["status"] == "completed", run
        integration = _checked(
            client.post(
                "/api/integrations",
                json={
                    "name": "reports",
                    "type": "http",
                    "config": {"base_url": "https://reports.example.com", "auth_type": "bearer", "token": "t0ken"},
                },
            ),
            201,
        )["integration"]
        schedule = _checked(
            client.post(f"/api/workflows/{workflow['id']}/schedules", json={"cron_expression": "0 9 * * 1"}), 201
        )["schedule"]
        template = _checked(
            client.post("/api/workflows/templates", json={"workflow_id": workflow["id"], "name": "conformance"}), 201
        )["template"]
    other_key, _ = api_key_create(user=tenant_owner, name="to-revoke")
    return {
        "workflow_id": workflow["id"],
        "run_id": run["id"],
        "execution_id": run["id"],
        "integration_id": integration["id"],
        "schedule_id": schedule["id"],
        "template_id": template["id"],
        "key_id": other_key.id,
        "type_name": "transform",
        "version": 1,
    }


def _envelope_check(operation, response) -> None:
    if not 400 <= response.status_code < 500 or operation.path.startswith("/api/v2/"):
        return
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "details"} <= set(body["error"]), body
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str), body


def _exercise(operation, mode: GenerationMode, path_ids: dict, base: str, headers: dict, counts: dict) -> None:
    """``EXAMPLES`` derandomized cases of one operation in one generation mode; raises on the first failure."""

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_ids or None))
    @hypothesis_settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # no shrinking: the first failing case is reported as it was sent
        suppress_health_check=list(HealthCheck),
    )
    def exercise(case) -> None:
        counts["cases"] += 1
        response = case.call(base_url=base, headers=headers, timeout=60)
        case.validate_response(response, checks=CHECKS, headers=headers)
        _envelope_check(operation, response)

    exercise()


def _order(operation) -> tuple:
    return (operation.method.upper() == "DELETE", operation.path, operation.method)


@pytest.fixture
def live(transactional_db):
    owner = UserFactory(role=Role.OWNER)
    _, raw_key = api_key_create(user=owner, name="conformance")
    worker = Worker(concurrency=1).start()
    base, server = start_server(
        {"ORCHESTRATOR_TASK_QUEUE": worker.queue, "ORCHESTRATOR_RATE_LIMIT": "0", "LOG_LEVEL": "ERROR"}
    )
    try:
        yield base, {"Authorization": f"Bearer {raw_key}"}, owner, server
    finally:
        stop_server(server)
        worker.stop()


def test_every_operation_conforms(live):
    base, headers, owner, server = live
    ids = _objects(base, headers, owner)
    schema = schemathesis.openapi.from_url(f"{base}/api/schema/?format=json")
    operations = sorted((result.ok() for result in schema.get_all_operations()), key=_order)
    # OPENAPI_OPERATIONS=<regex of paths> narrows a run while debugging; the suite runs them all.
    only = re.compile(os.environ.get("OPENAPI_OPERATIONS", ""))
    operations = [operation for operation in operations if only.search(operation.path)]
    counts = {"operations": 0, "cases": 0, "no negative case": 0}
    failures: list[str] = []
    started = time.monotonic()

    timings: list[tuple[float, str]] = []
    for operation in operations:
        op_started = time.monotonic()
        counts["operations"] += 1
        operation_id = operation.definition.raw.get("operationId", operation.label)
        path_ids = {p.name: ids[p.name] for p in operation.path_parameters if p.name in ids}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _exercise(operation, mode, path_ids, base, headers, counts)
            except Unsatisfiable:
                counts["no negative case"] += 1  # nothing to negate beside the fixed path IDs
                continue
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected, reported together below
                if operation_id in KNOWN_GAPS and mode is GenerationMode.NEGATIVE:
                    continue
                failures.append(f"{operation_id} [{mode.value}]: {str(exc)[:1500]}")
        timings.append((time.monotonic() - op_started, operation_id))

    elapsed = time.monotonic() - started
    print(
        f"\nschemathesis: {counts['operations']} operations, {counts['cases']} cases in {elapsed:.0f} s "
        f"({counts['no negative case']} operations had nothing negative to send beside their path IDs)"
    )
    print("slowest:", ", ".join(f"{name} {seconds:.1f}s" for seconds, name in sorted(timings)[-5:]))
    assert counts["operations"] >= 90 or only.pattern
    if failures:
        print("\n\n".join(failures))
        print("\nserver log (errors):\n" + _errors_in(server))
    assert not failures, f"{len(failures)} failures: " + ", ".join(f.split(":")[0] for f in failures)


def _errors_in(server) -> str:
    server.log.seek(0)
    lines = server.log.read().decode(errors="replace").splitlines()
    noise = ("WARNING django.request", "INFO:")  # 4xx lines and uvicorn's access log
    return "\n".join(line for line in lines if not line.startswith(noise) and noise[0] not in line)[-20000:]
