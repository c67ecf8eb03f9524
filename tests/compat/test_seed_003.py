"""Seed 003 (Orchestrate REST API, ``/api/eai/v3/orchestrate``): the document's request bodies
and paths, read from the document, answered in its shape, with a real worker running the runs."""

from __future__ import annotations

import json
import re

import pytest
from rest_framework.test import APIClient

from runs.models import Run
from runs.services import run_create
from tests.compat.seed_documents import assert_documented_fields, document, json_after
from tests.conftest import client_for
from tests.engine.conftest import wait_for_run
from workflows.models import Workflow
from workflows.services import workflow_create

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]

DOC = document("003")


def documented_path(method: str, ending: str) -> str:
    """The document's path for ``method`` ending in ``ending`` (with its ``:placeholders``)."""
    paths = set(re.findall(rf"^{method} (/api/eai/v3/orchestrate/\S+)$", DOC, re.MULTILINE))
    (path,) = [p for p in paths if p.endswith(ending)]
    return path


def answer_after(section: str) -> dict:
    return json_after(DOC, "Response", start=DOC.index(section))[0]


def request_body() -> dict:
    return json_after(DOC, "Request Body")[0]


def javascript_body() -> dict:
    """The body of the document's fetch() example: its JavaScript object literal read as JSON."""
    source = DOC[DOC.index("JSON.stringify(") + len("JSON.stringify(") : DOC.index("})\n});") + 1]
    return json.loads(re.sub(r"(\w+):", r'"\1":', source.replace("'", '"')))


def project_analysis(user) -> Workflow:
    """The document's "Project Analysis" workflow, its steps runnable here."""
    documented = answer_after("List Workflows")["data"][0]
    fetch, analyze = documented["steps"]
    return workflow_create(
        user=user,
        name=documented["name"],
        description=documented["description"],
        semantic_version=documented["version"],
        definition={
            "steps": [
                {
                    "id": fetch["id"],
                    "name": fetch["name"],
                    "type": "transform",
                    "config": {"value": {"project": "{{ input.projectId }}", "type": "{{ input.analysisType }}"}},
                },
                {
                    "id": analyze["id"],
                    "name": analyze["name"],
                    "type": "transform",
                    "depends_on": [fetch["id"]],
                    "config": {"value": "Project {{ steps.fetch_project.output.project }} is on track"},
                },
            ],
            "outputs": {"analysis": "{{ steps.analyze.output }}", "risks": "{{ [] }}"},
        },
    )


@pytest.fixture
def workflow(member):
    return project_analysis(member)


def path(template: str, **ids: str) -> str:
    for name, value in ids.items():
        template = template.replace(f":{name}", value)
    return template


def test_list_workflows_answers_data_with_steps(api_client, workflow):
    documented = answer_after("List Workflows")
    response = api_client.get(documented_path("GET", "/workflows"))
    assert response.status_code == 200
    body = response.json()
    assert_documented_fields(body, documented)
    (listed,) = body["data"]
    assert listed["id"] == workflow.id
    for name in ("name", "description", "version"):
        assert listed[name] == documented["data"][0][name]
    assert [(s["id"], s["name"]) for s in listed["steps"]] == [
        (s["id"], s["name"]) for s in documented["data"][0]["steps"]
    ]


def test_execute_async_answers_the_running_execution_and_keeps_the_metadata(api_client, workflow, shared_worker):
    body = request_body()
    response = api_client.post(path(documented_path("POST", "/execute"), workflowId=workflow.id), body, format="json")
    assert response.status_code == 202, response.content
    execution = response.json()
    documented = answer_after("Execute Workflow")
    assert_documented_fields(execution, documented)
    assert execution["workflowId"] == workflow.id and execution["input"] == body["input"]
    assert execution["state"] in ("queued", "running")
    assert [s["stepId"] for s in execution["steps"]] == [s["stepId"] for s in documented["steps"]]
    assert [s["name"] for s in execution["steps"]] == [s["name"] for s in documented["steps"]]
    run = wait_for_run(execution["id"])
    assert run.metadata == body["metadata"] and run.status == "completed"


def test_the_javascript_example_starts_an_execution_too(api_client, workflow, shared_worker):
    body = javascript_body()
    assert body == {"input": {"projectId": "proj_123", "analysisType": "comprehensive"}, "async": True}
    response = api_client.post(path(documented_path("POST", "/execute"), workflowId=workflow.id), body, format="json")
    assert response.status_code == 202
    wait_for_run(response.json()["id"])


def test_execute_with_async_false_answers_the_finished_execution(api_client, workflow, shared_worker):
    body = {**request_body(), "async": False}
    response = api_client.post(path(documented_path("POST", "/execute"), workflowId=workflow.id), body, format="json")
    assert response.status_code == 200, response.content
    execution = response.json()
    assert execution["state"] == "completed"
    assert execution["output"] == {"analysis": "Project proj_123 is on track", "risks": []}
    assert execution["completedAt"] and all(s["state"] == "completed" for s in execution["steps"])


def test_get_execution_answers_the_output_and_step_durations_in_milliseconds(api_client, workflow, shared_worker):
    started = api_client.post(
        path(documented_path("POST", "/execute"), workflowId=workflow.id), request_body(), format="json"
    ).json()
    wait_for_run(started["id"])
    documented = answer_after("Get Execution Status")
    response = api_client.get(path(documented_path("GET", "/:executionId"), executionId=started["id"]))
    assert response.status_code == 200
    execution = response.json()
    assert_documented_fields(execution, documented)
    assert execution["state"] == "completed" and execution["output"]["analysis"]
    run = Run.objects.get(id=started["id"])
    for step in execution["steps"]:
        step_run = run.step_runs.get(step_id=step["stepId"])
        assert step["duration"] == int((step_run.completed_at - step_run.started_at).total_seconds() * 1000)


def test_list_executions_takes_the_documented_query_parameters(api_client, workflow, member, shared_worker):
    other = workflow_create(
        user=member, definition={"steps": [{"id": "x", "type": "transform", "config": {"value": 1}}]}, name="Other"
    )
    done = run_create(workflow=workflow, inputs=request_body()["input"], user=member)
    wait_for_run(done.id)
    run_create(workflow=other, inputs={}, user=member)
    documented = answer_after("List Executions")
    table = DOC[DOC.index("Query Parameters") : DOC.index("Response", DOC.index("Query Parameters"))]
    params = re.findall(r"^(\w+) \| (?:string|number)", table, re.MULTILINE)
    assert params == ["workflowId", "state", "limit", "offset"]
    query = dict(zip(params, [workflow.id, "completed", "10", "0"], strict=True))
    response = api_client.get(documented_path("GET", "/executions"), query)
    assert response.status_code == 200
    body = response.json()
    assert_documented_fields(body, documented)
    assert [e["id"] for e in body["data"]] == [done.id]
    assert api_client.get(documented_path("GET", "/executions"), {"state": "done"}).status_code == 400


def test_cancel_answers_204_with_no_body(api_client, member):
    waiting = workflow_create(
        user=member, definition={"steps": [{"id": "gate", "type": "wait", "config": {"signal": "go"}}]}, name="Gate"
    )
    run = run_create(workflow=waiting, inputs={}, user=member)
    cancel = path(documented_path("POST", "/cancel"), executionId=run.id)
    response = api_client.post(cancel)
    assert "204 No Content" in DOC and response.status_code == 204 and response.content == b""
    assert Run.objects.get(id=run.id).status == "cancelled"
    again = api_client.post(cancel)
    assert again.status_code == 400 and again.json()["error"]["code"] == "run_terminal"


def test_another_tenants_execution_and_workflow_are_404(workflow, member, outsider):
    run = run_create(workflow=workflow, inputs={}, user=member)
    stranger = client_for(outsider)
    assert stranger.get(path(documented_path("GET", "/:executionId"), executionId=run.id)).status_code == 404
    assert stranger.post(path(documented_path("POST", "/cancel"), executionId=run.id)).status_code == 404
    execute = path(documented_path("POST", "/execute"), workflowId=workflow.id)
    assert stranger.post(execute, request_body(), format="json").status_code == 404
    assert stranger.get(documented_path("GET", "/workflows")).json() == {"data": []}
    assert APIClient().get(documented_path("GET", "/workflows")).status_code == 401
