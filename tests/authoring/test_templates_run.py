"""Every built-in template validates, installs, and runs to completion in a real worker against
local servers standing in for its outside services: an OpenAI-compatible API for agent steps,
Slack and a bearer HTTP API (tests/integrations), an SMTP server, and plain HTTP routes."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from orchestrator.authoring.templates import library, template_install
from runs.models import StepRun
from runs.services import run_create, run_signal
from tests.engine.conftest import wait_for_run, wait_for_step
from tests.factories import TenantFactory, UserFactory
from tests.integrations.conftest import http_config, llm_config, slack_config, smtp_config
from workflows.models import Template

pytestmark = [
    pytest.mark.engine,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]
SLUGS = [entry["slug"] for entry in library()]


@pytest.fixture
def user(transactional_db):
    return UserFactory(tenant=TenantFactory(), role="admin")


@pytest.fixture
def connect(user, make_integration, apis, smtp_server):
    """Integrations of the user's tenant on the local stand-ins, by template placeholder type."""

    def make(*types: str) -> dict[str, str]:
        configs = {
            "slack": lambda: slack_config(apis),
            "llm": lambda: llm_config(apis),
            "http": lambda: http_config(apis),
            "smtp": lambda: smtp_config(smtp_server),
        }
        return {t: make_integration(user, t, configs[t](), f"{t} stand-in").id for t in types}

    return make


def install(user, slug: str, inputs: dict, integrations: dict | None = None):
    template = Template.objects.get(slug=slug)
    return template_install(template=template, user=user, name=f"{slug} test", inputs=inputs, integrations=integrations)


def run(user, workflow, inputs=None, timeout=30):
    started = run_create(workflow=workflow, inputs=inputs or {}, user=user)
    return wait_for_run(started.id, timeout=timeout)


def assert_completed(finished):
    steps = {s.step_id: (s.status, s.error) for s in StepRun.objects.filter(run_id=finished.id, parent__isnull=True)}
    assert finished.status == "completed", (finished.error, steps)
    return steps


def mails(inbox) -> list[str]:
    return [envelope.content.decode() for envelope in inbox.messages]


def test_every_builtin_has_a_run_test_here():
    tested = {name.removeprefix("test_run_").replace("_", "-") for name in globals() if name.startswith("test_run_")}
    assert set(SLUGS) <= tested, sorted(set(SLUGS) - tested)


def test_run_uptime_check(integration_worker, user, connect, apis, http_server):
    ids = connect("slack")
    workflow = install(user, "uptime-check", {"channel": "#ops"}, {"alerts": ids["slack"]})
    http_server.routes["/up"] = (200, {"status": "ok"})
    http_server.routes["/down"] = (503, {"status": "down"})
    up = run(user, workflow, {"url": f"{http_server.url}/up"})
    assert assert_completed(up)["alert"][0] == "skipped" and up.outputs["up"] is True
    down = run(user, workflow, {"url": f"{http_server.url}/down"})
    steps = assert_completed(down)
    assert steps["check"][0] == "failed" and steps["alert"][0] == "completed" and down.outputs["up"] is False
    assert http_server.count("/down") == 2  # one retry before alerting
    assert apis.slack_messages[-1]["channel"] == "#ops"
    assert f"{http_server.url}/down is down: HTTP 503" in apis.slack_messages[-1]["text"]


def test_run_endpoint_health_sweep(integration_worker, user, connect, apis, http_server):
    connect("slack")
    http_server.routes["/a"] = (200, {})
    http_server.routes["/b"] = (500, {})
    urls = [f"{http_server.url}/a", f"{http_server.url}/b"]
    finished = run(user, install(user, "endpoint-health-sweep", {"urls": urls}))
    steps = assert_completed(finished)
    assert steps["probe"][0] == "failed" and steps["report"][0] == "completed" and finished.outputs["all_up"] is False
    text = apis.slack_messages[-1]["text"]
    assert f"{urls[0]}: 200" in text and f"{urls[1]}: 500" in text


def test_run_fetch_transform_webhook(integration_worker, user, http_server):
    http_server.routes["/source"] = (200, {"items": [{"id": 1, "x": "a"}, {"id": 2, "x": "b"}]})
    inputs = {
        "source_url": f"{http_server.url}/source",
        "select": "items[].id",
        "target_url": f"{http_server.url}/hook",
        "signing_secret": "s3cret",
    }
    finished = run(user, install(user, "fetch-transform-webhook", inputs))
    assert_completed(finished)
    assert finished.outputs == {"delivered": True}
    delivery = next(r for r in http_server.requests if r["path"] == "/hook")
    assert json.loads(delivery["body"])["data"] == [1, 2]
    expected = "sha256=" + hmac.new(b"s3cret", delivery["body"], hashlib.sha256).hexdigest()
    assert delivery["headers"]["X-Signature-256"] == expected


def test_run_api_record_sync(integration_worker, user, connect, apis, http_server):
    ids = connect("http")
    inputs = {"source_url": f"{apis.http_base}/items", "target_url": f"{http_server.url}/crm", "max_concurrency": 2}
    workflow = install(user, "api-record-sync", inputs, {"source_api": ids["http"]})
    http_server.routes["/crm"] = (201, {"ok": True})
    finished = run(user, workflow)
    assert_completed(finished)
    assert finished.outputs == {"synced": 3}
    assert sorted(json.loads(r["body"]) for r in http_server.requests if r["path"] == "/crm") == [1, 2, 3]
    assert apis.api_requests  # the source was read with the integration's bearer token


def test_run_fan_out_concurrency(integration_worker, user, http_server):
    urls = [f"{http_server.url}/item/{i}" for i in range(4)]
    finished = run(user, install(user, "fan-out-concurrency", {"urls": urls, "max_concurrency": 2}))
    assert_completed(finished)
    assert finished.outputs == {"statuses": [200, 200, 200, 200]}
    assert sorted(r["path"] for r in http_server.requests) == sorted(f"/item/{i}" for i in range(4))


def test_run_data_quality_check(integration_worker, user, connect, smtp_server, http_server):
    connect("smtp")
    http_server.routes["/dataset"] = (200, {"items": [{"id": 1}, {"name": "no id"}, {"id": 3}]})
    inputs = {"dataset_url": f"{http_server.url}/dataset", "alert_email": "data@example.com"}
    finished = run(user, install(user, "data-quality-check", inputs))
    assert_completed(finished)
    assert finished.outputs == {"passed": False, "total": 3, "missing": 1}
    assert smtp_server.messages[-1].rcpt_tos == ["data@example.com"]
    assert "3 records (at least 1 expected), 1 without 'id'" in mails(smtp_server)[-1]


def test_run_daily_llm_digest(integration_worker, user, connect, apis, smtp_server, http_server):
    connect("llm", "smtp")
    apis.llm_answer = "- Release 2.0 shipped\n- Two incidents closed"
    http_server.routes["/feed"] = (200, {"entries": [{"title": "Release 2.0"}, {"title": "Incidents"}]})
    inputs = {"feed_url": f"{http_server.url}/feed", "recipients": "team@example.com"}
    finished = run(user, install(user, "daily-llm-digest", inputs))
    assert_completed(finished)
    assert finished.outputs == {"digest": apis.llm_answer}
    assert "Release 2.0" in apis.chat_requests[-1]["messages"][-1]["content"]
    assert smtp_server.messages[-1].rcpt_tos == ["team@example.com"]
    assert "Release 2.0 shipped" in mails(smtp_server)[-1]


def test_run_lead_qualification(integration_worker, user, connect, apis, http_server):
    connect("llm", "slack")
    apis.llm_answer = '{"score": 85, "summary": "Large team, budget this quarter."}'
    workflow = install(user, "lead-qualification", {"nurture_url": f"{http_server.url}/nurture"})
    finished = run(user, workflow)
    steps = assert_completed(finished)
    assert finished.outputs == {"score": 85, "hot": True} and steps["nurture"][0] == "skipped"
    assert apis.slack_messages[-1]["channel"] == "#sales"
    assert "Ada Lovelace" in apis.slack_messages[-1]["text"] and "score 85" in apis.slack_messages[-1]["text"]
    apis.llm_answer = '{"score": 20, "summary": "Student project."}'
    cold = run(user, workflow)
    assert assert_completed(cold)["notify_sales"][0] == "skipped"
    assert json.loads(next(r for r in http_server.requests if r["path"] == "/nurture")["body"])["score"] == 20


def test_run_translate_and_publish(integration_worker, user, connect, apis, http_server):
    connect("llm")
    apis.llm_answer = "Bonjour le monde"
    http_server.routes["/article"] = (200, b"Hello world")
    inputs = {"article_url": f"{http_server.url}/article", "publish_url": f"{http_server.url}/cms"}
    finished = run(user, install(user, "translate-and-publish", inputs))
    assert_completed(finished)
    published = json.loads(next(r for r in http_server.requests if r["path"] == "/cms")["body"])
    assert published["content"] == "Bonjour le monde" and published["language"] == "French"
    assert "Hello world" in apis.chat_requests[-1]["messages"][-1]["content"]


def test_run_approval_with_timeout(integration_worker, user, connect, apis, http_server):
    connect("slack")
    inputs = {"action_url": f"{http_server.url}/act", "timeout_seconds": 60}
    workflow = install(user, "approval-with-timeout", inputs)
    started = run_create(workflow=workflow, inputs={}, user=user)
    wait_for_step(started.id, "approval", ("waiting",))
    assert f"/api/workflows/runs/{started.id}/resume" in apis.slack_messages[-1]["text"]
    run_signal(run=started, payload={"approved": True, "by": "ada"})
    approved = wait_for_run(started.id)
    assert assert_completed(approved)["decline"][0] == "skipped" and approved.outputs == {"approved": True}
    assert json.loads(http_server.requests[-1]["body"])["approval"] == {"approved": True, "by": "ada"}
    # Nobody answers: the wait gives up after its timeout and the decline branch says so.
    timed_out = run(user, workflow, {"timeout_seconds": 1})
    steps = assert_completed(timed_out)
    assert steps["proceed"][0] == "skipped" and timed_out.outputs == {"approved": False}
    assert apis.slack_messages[-1]["text"].startswith("Not approved (timed out)")
    assert StepRun.objects.get(run_id=timed_out.id, step_id="approval").output["timed_out"] is True


def test_run_webhook_delivery_dead_letter(integration_worker, user, http_server):
    inputs = {"target_url": f"{http_server.url}/events", "dead_letter_url": f"{http_server.url}/dlq"}
    workflow = install(user, "webhook-delivery-dead-letter", inputs)
    delivered = run(user, workflow, {"payload": {"n": 1}})
    assert assert_completed(delivered)["dead_letter"][0] == "skipped" and delivered.outputs == {"delivered": True}
    http_server.routes["/events"] = (503, {"error": "busy"})
    failed = run(user, workflow, {"payload": {"n": 2}}, timeout=60)
    steps = assert_completed(failed)
    assert steps["deliver"][0] == "failed" and failed.outputs == {"delivered": False}
    assert http_server.count("/events") == 1 + 4  # the first run's delivery, then four attempts
    dead = json.loads(next(r for r in http_server.requests if r["path"] == "/dlq")["body"])
    assert dead["payload"] == {"n": 2} and "503" in dead["error"] and dead["run_id"] == failed.id


def test_run_weekly_metrics_email(integration_worker, user, connect, smtp_server, http_server):
    connect("smtp")
    http_server.routes["/metrics"] = (200, {"signups": 42, "churn": 3})
    inputs = {"metrics_url": f"{http_server.url}/metrics", "recipients": "leads@example.com"}
    finished = run(user, install(user, "weekly-metrics-email", inputs))
    assert_completed(finished)
    assert finished.outputs == {"report": "- churn: 3\n- signups: 42\n"}
    assert "- signups: 42" in mails(smtp_server)[-1]


def test_run_deployment_notification(integration_worker, user, connect, apis, smtp_server):
    connect("slack", "smtp")
    workflow = install(user, "deployment-notification", {})
    ok = run(user, workflow, {"deployment": {"service": "api", "version": "1.2.0", "status": "success", "url": "u"}})
    assert assert_completed(ok)["page"][0] == "skipped"
    assert apis.slack_messages[-1]["text"] == ":rocket: api 1.2.0 deployed."
    bad = run(user, workflow, {"deployment": {"service": "api", "version": "1.3.0", "status": "failed", "url": "u"}})
    assert assert_completed(bad)["announce"][0] == "skipped"
    assert smtp_server.messages[-1].rcpt_tos == ["oncall@example.com"]
    assert "Deployment failed: api 1.3.0" in mails(smtp_server)[-1]


def test_run_github_issue_triage(integration_worker, user, connect, apis, http_server):
    connect("llm", "slack")
    apis.llm_answer = '{"label": "bug", "priority": "high", "reason": "It crashes on start."}'
    http_server.routes["/repos/acme/app/issues"] = (
        200,
        [{"number": 7, "title": "Crash on start", "body": "Stack trace"}, {"number": 8, "title": "Docs", "body": None}],
    )
    finished = run(user, install(user, "github-issue-triage", {"api_base": http_server.url}))
    assert_completed(finished)
    assert finished.outputs == {"triaged": 2}
    text = apis.slack_messages[-1]["text"]
    assert "Triage of acme/app (2 open issues)" in text
    assert "- #7 Crash on start: bug, high priority. It crashes on start." in text
    query = next(r for r in http_server.requests if r["path"].startswith("/repos/acme/app/issues"))["path"]
    assert "state=open" in query and "per_page=20" in query
