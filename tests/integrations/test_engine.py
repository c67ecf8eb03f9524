"""Integrations in real runs: a worker process (with ORCHESTRATOR_ENCRYPTION_KEYS in its
environment) runs agent_task, integration and http_request steps against the local
provider servers, and no secret shows up in run rows, step rows, events or logs."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import connection

from integrations.services import integration_create
from runs.models import Event, Run, StepRun
from runs.services import run_create
from tests.engine.conftest import wait_for_run
from tests.factories import TenantFactory, UserFactory
from tests.integrations.conftest import (
    ALL_SECRETS,
    http_config,
    llm_config,
    slack_config,
    smtp_config,
)
from workflows.services import workflow_create

pytestmark = [
    pytest.mark.engine,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]


@pytest.fixture
def user(transactional_db):
    return UserFactory(tenant=TenantFactory(), role="admin")


def start(user, steps, inputs=None):
    workflow = workflow_create(user=user, definition={"steps": steps}, name=f"wf {uuid.uuid4().hex[:10]}")
    return run_create(workflow=workflow, inputs=inputs or {}, user=user)


def everything_stored_about(run: Run) -> str:
    """Every row of the run, its steps and its events, as text (raw SQL: what is on disk)."""
    chunks = []
    with connection.cursor() as cursor:
        for table, column in (
            (Run._meta.db_table, "id"),
            (StepRun._meta.db_table, "run_id"),
            (Event._meta.db_table, "run_id"),
        ):
            cursor.execute(f"SELECT * FROM {table} WHERE {column} = %s", [run.id])
            chunks.append(json.dumps(cursor.fetchall(), default=str))
    return "\n".join(chunks)


def assert_no_secret_in(text: str) -> None:
    for secret in ALL_SECRETS:
        assert secret not in text, f"{secret[:6]}… leaked"


def test_a_workflow_with_agent_and_integration_steps_runs_end_to_end(integration_worker, apis, smtp_server, user):
    for type_name, config in (
        ("llm", llm_config(apis)),
        ("slack", slack_config(apis)),
        ("smtp", smtp_config(smtp_server)),
        ("http", http_config(apis)),
    ):
        integration_create(user=user, name=f"{type_name}-main", type=type_name, config=config)
    apis.llm_answer = '{"label": "bug", "summary": "3 items need a look"}'
    steps = [
        {"id": "fetch", "type": "http_request", "config": {"url": "/items", "integration_id": "http-main"}},
        {
            "id": "classify",
            "type": "agent_task",
            "depends_on": ["fetch"],
            "config": {
                "agent_id": "llm-main",
                "goal": "Classify the items for {{ input.team }}",
                "input": "{{ steps.fetch.output.body }}",
                "response_format": "json",
            },
        },
        {
            "id": "notify",
            "type": "integration",
            "action": "slack.post_message",
            "depends_on": ["classify"],
            "config": {"channel": "#deployments", "message": "{{ steps.classify.output.json.summary }}"},
        },
        {
            "id": "mail",
            "type": "integration",
            "depends_on": ["classify"],
            "config": {
                "action": "email.send",
                "integration_id": "smtp-main",
                "params": {
                    "to": "{{ input.email }}",
                    "subject": "Label: {{ steps.classify.output.json.label }}",
                    "body": "{{ steps.classify.output.text }}",
                },
            },
        },
    ]

    run = wait_for_run(start(user, steps, {"team": "ops", "email": "ops@example.com"}).id, timeout=60)

    assert run.status == "completed", (run.error, list(StepRun.objects.filter(run=run).values("step_id", "error")))
    step = {sr.step_id: sr for sr in StepRun.objects.filter(run=run)}
    assert step["fetch"].output["body"] == {"items": [1, 2, 3]}
    classify = step["classify"].output
    assert classify["json"] == {"label": "bug", "summary": "3 items need a look"}
    assert classify["usage"] == {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49}
    assert "42 prompt + 7 completion = 49 tokens" in step["classify"].logs
    sent = apis.chat_requests[0]
    assert sent["model"] == "gpt-test" and "Classify the items for ops" in sent["messages"][1]["content"]
    assert '"items": [1, 2, 3]' in sent["messages"][1]["content"]
    assert apis.slack_messages == [{"channel": "#deployments", "text": "3 items need a look"}]
    assert step["notify"].output["ok"] is True
    [mail] = smtp_server.messages
    assert mail.rcpt_tos == ["ops@example.com"] and "Subject: Label: bug" in mail.content.decode()
    assert step["mail"].output["accepted"] == ["ops@example.com"]
    assert_no_secret_in(everything_stored_about(run))
    assert_no_secret_in(integration_worker.output())


def test_failing_and_echoing_providers_leak_no_secret_into_runs(integration_worker, apis, user):
    wrong_key = "sk-wrong-key-abcdefghijkl"
    integration_create(user=user, name="bad-llm", type="llm", config=llm_config(apis, key=wrong_key))
    integration_create(user=user, name="api", type="http", config=http_config(apis))
    steps = [
        {"id": "ask", "type": "agent_task", "config": {"goal": "Say hi"}},
        {"id": "echo", "type": "http_request", "config": {"url": "echo", "integration_id": "api"}},
        {
            "id": "missing",
            "type": "integration",
            "config": {"action": "slack.post_message", "channel": "#x", "text": "hi"},
        },
    ]

    run = wait_for_run(start(user, steps).id, timeout=60)

    assert run.status == "failed"
    step = {sr.step_id: sr for sr in StepRun.objects.filter(run=run)}
    assert step["ask"].status == "failed" and "HTTP 401" in step["ask"].error
    assert "the API key was rejected" in step["ask"].error
    assert step["missing"].status == "failed"
    assert "No slack integration is configured for slack.post_message" in step["missing"].error
    assert step["echo"].status == "completed"
    echoed = {k.lower(): v for k, v in step["echo"].output["body"]["headers"].items()}
    assert echoed["authorization"] == "Bearer [REDACTED]"
    stored = everything_stored_about(run)
    assert wrong_key not in stored
    assert_no_secret_in(stored)
    assert wrong_key not in integration_worker.output()
    assert_no_secret_in(integration_worker.output())
