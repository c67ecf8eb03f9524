"""Every step type (SPEC 7) on a real worker: the success path, and the failure path with
the clear error a person reads in the step's ``error``. What tests/engine/test_runs.py
already covers (retry then success, fail_fast, a plain wait, a signal via the service,
a waiting sub-workflow, private IP literals) is not repeated here."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from runs.models import Event, Run, StepRun
from runs.services import run_cancel, run_create, run_signal
from tests.conftest import client_for
from tests.engine.conftest import wait_for_run, wait_for_step
from tests.factories import TenantFactory, UserFactory
from workflows.services import workflow_create

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]

WEBHOOK_SECRET = "whsec-3b9f1c7a5e"


@pytest.fixture(scope="module")
def shared_worker_env() -> dict:
    # Scripts are off by default; this module's worker runs them (the default is tested apart).
    return {"ORCHESTRATOR_ENABLE_SCRIPTS": "true"}


@pytest.fixture
def user():
    return UserFactory(tenant=TenantFactory())


@pytest.fixture
def scripts_on(settings):
    # Validation (in this process) must accept script steps; the worker has them on too.
    settings.ORCHESTRATOR_ENABLE_SCRIPTS = True


def make(user, steps, **definition):
    return workflow_create(user=user, definition={"steps": steps, **definition}, name=f"wf {uuid.uuid4().hex[:10]}")


def run_of(user, steps, inputs=None, timeout: float = 30, **definition) -> Run:
    run = run_create(workflow=make(user, steps, **definition), inputs=inputs or {}, user=user)
    return wait_for_run(run.id, timeout=timeout)


def step_runs(run) -> dict[str, StepRun]:
    return {sr.step_id: sr for sr in StepRun.objects.filter(run=run, parent__isnull=True)}


def event_types(run, step_id: str | None = None) -> list[str]:
    events = Event.objects.filter(run=run).order_by("sequence")
    if step_id is not None:
        events = events.filter(step_id=step_id)
    return list(events.values_list("type", flat=True))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- http_request -------------------------------------------------------------------------


def test_http_request_sends_method_headers_query_and_body_and_parses_the_answer(shared_worker, http_server, user):
    http_server.routes["/orders"] = lambda attempt, body, headers: (201, {"id": 7, "received": json.loads(body)})
    http_server.routes["/text"] = (200, b"plain words, not JSON")
    steps = [
        {
            "id": "create",
            "type": "http_request",
            "config": {
                "method": "post",
                "url": http_server.url + "/orders",
                "headers": {"X-Request-Source": "orchestrator"},
                "query": {"page": "{{ input.page }}"},
                "json": {"customer": "{{ input.customer }}", "items": "{{ input.items }}"},
                "expected_status": [200, 201],
            },
        },
        {"id": "text", "type": "http_request", "config": {"url": http_server.url + "/text"}},
        {
            "id": "form",
            "type": "http_request",
            "config": {
                "method": "PUT",
                "url": http_server.url + "/form",
                "form": {"a": "1", "b": "{{ input.customer }}"},
            },
        },
    ]
    run = run_of(user, steps, inputs={"page": 2, "customer": "c-1", "items": [1, 2]})
    assert run.status == "completed", run.error
    outputs = {sid: sr.output for sid, sr in step_runs(run).items()}

    sent = next(r for r in http_server.requests if r["path"].startswith("/orders"))
    assert sent["method"] == "POST" and sent["path"] == "/orders?page=2"
    assert sent["headers"]["X-Request-Source"] == "orchestrator"
    assert json.loads(sent["body"]) == {"customer": "c-1", "items": [1, 2]}  # the list kept its type
    assert outputs["create"]["status_code"] == 201
    assert outputs["create"]["headers"]["content-type"] == "application/json"
    assert outputs["create"]["body"] == {"id": 7, "received": {"customer": "c-1", "items": [1, 2]}}
    assert outputs["text"]["body"] == "plain words, not JSON"
    form = next(r for r in http_server.requests if r["path"] == "/form")
    assert form["method"] == "PUT" and form["body"] == b"a=1&b=c-1"
    assert form["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


def test_http_request_failures_follow_the_retry_policy_and_say_what_happened(shared_worker, http_server, user):
    http_server.routes["/down"] = (503, {"error": "maintenance"})
    http_server.routes["/bad"] = (400, {"error": "missing field"})
    http_server.routes["/limited"] = (429, {})
    http_server.routes["/ok"] = (200, {})
    quick = {"backoff": "fixed", "initial_interval_seconds": 0.1}
    port = closed_port()
    steps = [
        {
            "id": "down",
            "type": "http_request",
            "config": {"url": http_server.url + "/down"},
            "retry": {"max_attempts": 3, "retry_on": ["5xx"], **quick},
        },
        # 4xx is not retryable by default, whatever max_attempts says.
        {
            "id": "bad",
            "type": "http_request",
            "config": {"url": http_server.url + "/bad"},
            "retry": {"max_attempts": 3, **quick},
        },
        {
            "id": "limited",
            "type": "http_request",
            "config": {"url": http_server.url + "/limited"},
            "retry": {"max_attempts": 3, "retry_on": ["5xx"], **quick},
        },
        {
            "id": "unexpected",
            "type": "http_request",
            "config": {"url": http_server.url + "/ok", "expected_status": 201},
        },
        {
            "id": "refused",
            "type": "http_request",
            "config": {"url": f"http://127.0.0.1:{port}/nothing-listens"},
            "retry": {"max_attempts": 2, "retry_on": ["network"], **quick},
        },
    ]
    run = run_of(user, steps)
    assert run.status == "failed"
    by_id = step_runs(run)
    assert all(sr.status == "failed" for sr in by_id.values())

    down = by_id["down"]
    assert down.attempt == 3 and http_server.count("/down") == 3
    assert down.error == f"HTTP 503 from {http_server.url}/down"
    assert down.output["status_code"] == 503 and down.output["body"] == {"error": "maintenance"}
    assert event_types(run, "down").count("step_retrying") == 2 and event_types(run, "down")[-1] == "step_failed"

    assert by_id["bad"].attempt == 1 and http_server.count("/bad") == 1
    assert by_id["bad"].error == f"HTTP 400 from {http_server.url}/bad"
    assert by_id["bad"].output["body"] == {"error": "missing field"}
    assert by_id["limited"].attempt == 1 and http_server.count("/limited") == 1
    assert by_id["unexpected"].error == f"HTTP 200 from {http_server.url}/ok"
    assert by_id["refused"].attempt == 2 and "127.0.0.1 failed" in by_id["refused"].error


def test_steps_refuse_loopback_and_private_hosts_after_dns_without_the_setting(worker_factory, http_server, user):
    worker_factory(isolated=True, extra_env={"ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS": "false"})
    port = http_server.url.rsplit(":", 1)[1]
    steps = [
        # A name that resolves to loopback is refused after resolution, not by its spelling.
        {"id": "by_name", "type": "http_request", "config": {"url": f"http://localhost:{port}/ok"}},
        {"id": "private", "type": "http_request", "config": {"url": "http://10.20.30.40/"}},
        {"id": "hook", "type": "webhook", "config": {"url": http_server.url + "/hook", "payload": {"a": 1}}},
    ]
    run = run_of(user, steps)
    errors = {sid: sr.error for sid, sr in step_runs(run).items()}
    assert errors["by_name"].startswith("Refused to connect to localhost (127.0.0.1)")
    assert errors["private"].startswith("Refused to connect to 10.20.30.40")
    assert errors["hook"].startswith("Refused to connect to 127.0.0.1")
    assert all("ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS=false" in error for error in errors.values())
    assert http_server.requests == []


# --- webhook ------------------------------------------------------------------------------


def _verifying(secret: str, header: str):
    """A receiver that checks the HMAC-SHA256 of the raw body, as a real one would."""

    def route(attempt, body, headers):
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        given = headers.get(header, "")
        return (200, {"verified": True}) if hmac.compare_digest(given, expected) else (401, {"error": "bad signature"})

    return route


def test_webhook_posts_the_templated_payload_signed_with_hmac(shared_worker, http_server, user):
    http_server.routes["/hub"] = _verifying(WEBHOOK_SECRET, "X-Hub-Signature-256")
    http_server.routes["/default"] = _verifying(WEBHOOK_SECRET, "X-Signature-256")
    steps = [
        {
            "id": "notify",
            "type": "webhook",
            "config": {
                "url": http_server.url + "/hub",
                "payload": {"event": "order.created", "order": "{{ input.order }}", "run_id": "{{ run.id }}"},
                "headers": {"X-Source": "orchestrator"},
                "secret": "{{ input.signing_secret }}",
                "signature_header": "X-Hub-Signature-256",
            },
        },
        {
            "id": "plain",
            "type": "webhook",
            "config": {"url": http_server.url + "/default", "payload": [1], "secret": WEBHOOK_SECRET},
        },
    ]
    run = run_of(user, steps, inputs={"order": {"id": 9, "total": 12.5}, "signing_secret": WEBHOOK_SECRET})
    assert run.status == "completed", run.error
    by_id = step_runs(run)
    assert by_id["notify"].output == {"status_code": 200, "delivered": True}
    assert by_id["plain"].output == {"status_code": 200, "delivered": True}

    sent = next(r for r in http_server.requests if r["path"] == "/hub")
    assert sent["method"] == "POST" and sent["headers"]["Content-Type"] == "application/json"
    assert sent["headers"]["X-Source"] == "orchestrator"
    assert json.loads(sent["body"]) == {"event": "order.created", "order": {"id": 9, "total": 12.5}, "run_id": run.id}
    # The signing secret is kept out of what people read.
    assert by_id["notify"].input["secret"] == "[REDACTED]"
    assert WEBHOOK_SECRET not in json.dumps(list(Event.objects.filter(run=run).values_list("data", flat=True)))


def test_webhook_failures_say_what_the_receiver_answered(shared_worker, http_server, user):
    http_server.routes["/hub"] = _verifying(WEBHOOK_SECRET, "X-Signature-256")
    http_server.routes["/busy"] = (503, {})
    steps = [
        {
            "id": "wrong_key",
            "type": "webhook",
            "config": {"url": http_server.url + "/hub", "payload": {}, "secret": "not-the-key"},
        },
        {
            "id": "busy",
            "type": "webhook",
            "config": {"url": http_server.url + "/busy", "payload": {}},
            "retry": {"max_attempts": 2, "backoff": "fixed", "initial_interval_seconds": 0.1},
        },
    ]
    run = run_of(user, steps)
    by_id = step_runs(run)
    assert run.status == "failed"
    assert by_id["wrong_key"].error == "The receiver answered HTTP 401"
    assert by_id["wrong_key"].output == {"status_code": 401, "delivered": False}
    assert by_id["busy"].error == "The receiver answered HTTP 503" and by_id["busy"].attempt == 2
    assert http_server.count("/busy") == 2


# --- script -------------------------------------------------------------------------------


PYTHON_SUM = """
import json, os, sys
data = json.load(sys.stdin)
print(f"working on {len(data['numbers'])} numbers", file=sys.stderr)
print("an intermediate line")
print(json.dumps({"total": sum(data["numbers"]), "env": sorted(os.environ), "cwd": os.path.basename(os.getcwd())}))
"""


def test_script_runs_python_and_shell_with_json_in_and_the_last_line_out(shared_worker, scripts_on, user):
    steps = [
        {"id": "py", "type": "script", "config": {"language": "python", "code": PYTHON_SUM}},
        {
            "id": "sh",
            "type": "script",
            "config": {"language": "shell", "code": "echo '{\"n\": 1}'; echo 'done, not JSON'"},
        },
        {"id": "silent", "type": "script", "config": {"language": "shell", "code": "true"}},
    ]
    run = run_of(user, steps, inputs={"numbers": [1, 2, 3]})
    assert run.status == "completed", run.error
    by_id = step_runs(run)
    py = by_id["py"].output
    assert py["total"] == 6
    # An empty environment: nothing of the worker's (database URL, Redis, settings) leaks in.
    assert set(py["env"]) <= {"PATH", "HOME", "LANG", "LC_CTYPE"}
    assert py["cwd"].startswith("step-")
    assert "working on 3 numbers" in by_id["py"].logs
    assert by_id["sh"].output == "done, not JSON"
    assert by_id["silent"].output is None


def test_script_failures_exit_status_and_timeout(shared_worker, scripts_on, user):
    steps = [
        {
            "id": "crash",
            "type": "script",
            "config": {
                "language": "python",
                "code": "import sys\nprint('boom: no input', file=sys.stderr)\nsys.exit(3)",
            },
        },
        {"id": "slow", "type": "script", "config": {"language": "shell", "code": "sleep 20", "timeout": 1}},
    ]
    began = time.monotonic()
    run = run_of(user, steps)
    assert time.monotonic() - began < 15
    by_id = step_runs(run)
    assert run.status == "failed"
    assert by_id["crash"].error == "The script exited with status 3: boom: no input"
    assert "boom: no input" in by_id["crash"].logs
    assert by_id["slow"].error == "The script ran longer than 1 s."


def test_scripts_are_off_by_default_with_a_clear_error(worker_factory, settings, user):
    settings.ORCHESTRATOR_ENABLE_SCRIPTS = False
    script = {"id": "py", "type": "script", "config": {"language": "python", "code": "print(1)"}}
    response = client_for(user).post("/api/workflows/validate", {"definition": {"steps": [script]}}, format="json")
    assert response.status_code == 200 and response.json()["valid"] is False
    assert any("disabled" in e and "ORCHESTRATOR_ENABLE_SCRIPTS=true" in e for e in response.json()["errors"])

    # Saved while scripts were on, run by a worker where they are off: refused when it runs.
    settings.ORCHESTRATOR_ENABLE_SCRIPTS = True
    workflow = make(user, [script])
    worker_factory(isolated=True, extra_env={"ORCHESTRATOR_ENABLE_SCRIPTS": "false"})
    run = wait_for_run(run_create(workflow=workflow, inputs={}, user=user).id)
    py = step_runs(run)["py"]
    assert run.status == "failed" and py.output is None
    assert py.error == "Step type 'script' is disabled: set ORCHESTRATOR_ENABLE_SCRIPTS=true to enable it"


# --- condition ----------------------------------------------------------------------------


def _condition(step_id, config, **extra):
    return {"id": step_id, "type": "condition", "config": config, "depends_on": ["src"], **extra}


def test_condition_expression_and_field_forms_choose_a_branch(shared_worker, user):
    data = {"status": 200, "tags": ["a", "b"], "email": "ana@example.com", "count": "7", "none": None}
    steps = [
        {"id": "src", "type": "transform", "config": {"value": data}},
        _condition("braces", {"expression": "{{ steps.src.output.status == 200 }}", "then": ["yes1"], "else": ["no1"]}),
        _condition("plain", {"expression": "steps.src.output.status >= 500", "then": ["yes2"], "else": ["no2"]}),
        {"id": "yes1", "type": "transform", "config": {"value": 1}, "depends_on": ["braces"]},
        {"id": "no1", "type": "transform", "config": {"value": 1}, "depends_on": ["braces"]},
        {"id": "yes2", "type": "transform", "config": {"value": 1}, "depends_on": ["plain"]},
        {"id": "no2", "type": "transform", "config": {"value": 1}, "depends_on": ["plain"]},
        _condition("gt", {"field": "steps.src.output.count", "operator": "gt", "value": 5}),  # "7" compares as a number
        _condition("lte", {"field": "steps.src.output.status", "operator": "lte", "value": 199}),
        _condition("contains", {"field": "steps.src.output.tags", "operator": "contains", "value": "b"}),
        _condition("in", {"field": "$.env", "operator": "in", "value": ["prod", "staging"]}),
        _condition("exists", {"field": "steps.src.output.email", "operator": "exists"}),
        _condition("missing", {"field": "steps.src.output.nope", "operator": "exists"}),
        _condition("null", {"field": "steps.src.output.none", "operator": "exists"}),
        _condition("matches", {"field": "steps.src.output.email", "operator": "matches", "value": "@example\\.com$"}),
        _condition("not_equals", {"field": "input.env", "operator": "not_equals", "value": "dev"}),
        _condition("equals", {"field": "$.env", "operator": "equals", "value": "dev"}),
    ]
    run = run_of(user, steps, inputs={"env": "prod"})
    assert run.status == "completed", run.error
    by_id = step_runs(run)
    results = {sid: by_id[sid].output for sid in by_id if by_id[sid].step_type == "condition"}
    expected = {
        "braces": True,
        "plain": False,
        "gt": True,
        "lte": False,
        "contains": True,
        "in": True,
        "exists": True,
        "missing": False,
        "null": False,
        "matches": True,
        "not_equals": True,
        "equals": False,
    }
    assert results == {sid: {"result": r, "branch": "then" if r else "else"} for sid, r in expected.items()}
    statuses = {sid: by_id[sid].status for sid in ("yes1", "no1", "yes2", "no2")}
    assert statuses == {"yes1": "completed", "no1": "skipped", "yes2": "skipped", "no2": "completed"}
    skipped = Event.objects.get(run=run, step_id="no1", type="step_skipped")
    assert skipped.data["reason"] == "branch not taken"


def test_condition_failures_name_the_problem(shared_worker, user):
    steps = [
        {"id": "src", "type": "transform", "config": {"value": {"word": "abc"}}},
        _condition("uncomparable", {"field": "steps.src.output.word", "operator": "gt", "value": 5}),
        _condition("undefined", {"expression": "steps.src.output.nope == 1", "then": ["after"]}),
        {"id": "after", "type": "transform", "config": {"value": 1}, "depends_on": ["undefined"]},
    ]
    run = run_of(user, steps)
    by_id = step_runs(run)
    assert run.status == "failed"
    assert by_id["uncomparable"].error.startswith("Cannot compare 'abc' gt 5")
    assert by_id["undefined"].error.startswith("Template error") and "'nope'" in by_id["undefined"].error
    assert by_id["after"].status == "skipped"


# --- loop ---------------------------------------------------------------------------------


class InFlight:
    """A route that records how many requests it serves at once; item 0 answers slowest."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.peak = 0

    def __call__(self, attempt, body, headers):
        n = json.loads(body)["n"]
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(2.0 if n == 0 else 0.2)
        with self.lock:
            self.now -= 1
        return 200, {"n": n}


def _http_loop(url: str, items, max_concurrency: int, **config) -> dict:
    inner = {"type": "http_request", "config": {"method": "POST", "url": url, "json": {"n": "{{ item }}"}}}
    return {
        "id": "each",
        "type": "loop",
        "config": {"items": items, "max_concurrency": max_concurrency, "step": inner, **config},
    }


def test_a_loop_keeps_item_order_and_its_concurrency_limit(shared_worker, http_server, user):
    one, two = InFlight(), InFlight()
    http_server.routes["/one"], http_server.routes["/two"] = one, two

    run = run_of(user, [_http_loop(http_server.url + "/one", [0, 1, 2], 1)])
    assert run.status == "completed", run.error
    assert one.peak == 1  # two worker processes were free: the limit held it to one

    run = run_of(user, [_http_loop(http_server.url + "/two", "{{ input.items }}", 2)], inputs={"items": [0, 1, 2, 3]})
    assert run.status == "completed", run.error
    assert two.peak == 2
    output = StepRun.objects.get(run=run, step_id="each").output
    # Item 0 finished last, yet the output follows the items.
    assert [o["body"]["n"] for o in output] == [0, 1, 2, 3]
    iterations = StepRun.objects.filter(run=run, parent__isnull=False).order_by("iteration")
    assert [i.step_id for i in iterations] == ["each[0]", "each[1]", "each[2]", "each[3]"]
    assert max(iterations, key=lambda i: i.completed_at).iteration == 0


def test_a_loop_without_fail_fast_runs_every_item_then_fails(shared_worker, user):
    steps = [
        {
            "id": "each",
            "type": "loop",
            "config": {
                "items": [1, 0, 2],
                "fail_fast": False,
                "max_concurrency": 1,
                "step": {"type": "transform", "config": {"value": "{{ 10 // item }}"}},
            },
        },
        {
            "id": "empty",
            "type": "loop",
            "config": {"items": "{{ input.none }}", "step": {"type": "transform", "config": {"value": 1}}},
        },
        {
            "id": "not_a_list",
            "type": "loop",
            "config": {"items": "{{ input.n }}", "step": {"type": "transform", "config": {"value": 1}}},
        },
    ]
    run = run_of(user, steps, inputs={"none": [], "n": 3})
    by_id = step_runs(run)
    each = by_id["each"]
    assert each.status == "failed" and each.error.startswith("Iteration 1 failed:")
    iterations = StepRun.objects.filter(parent=each).order_by("iteration")
    assert [i.status for i in iterations] == ["completed", "failed", "completed"]
    assert each.output[0] == 10 and each.output[2] == 5
    assert by_id["empty"].status == "completed" and by_id["empty"].output == []
    assert by_id["not_a_list"].error == "config.items must yield a list, not int."


# --- wait ---------------------------------------------------------------------------------


def test_wait_until_a_time_and_for_templated_seconds(shared_worker, user):
    soon = datetime.now(UTC) + timedelta(seconds=2.5)
    past = datetime.now(UTC) - timedelta(hours=1)
    steps = [
        {"id": "until", "type": "wait", "config": {"until": soon.isoformat().replace("+00:00", "Z")}},
        # A naive time reads as UTC.
        {"id": "naive", "type": "wait", "config": {"until": soon.replace(tzinfo=None).isoformat()}},
        {"id": "past", "type": "wait", "config": {"until": past.isoformat()}},
        {"id": "seconds", "type": "wait", "config": {"seconds": "{{ input.pause }}"}},
    ]
    run = run_of(user, steps, inputs={"pause": 1})
    assert run.status == "completed", run.error
    by_id = step_runs(run)
    for sid in ("until", "naive"):
        assert by_id[sid].completed_at >= soon, sid
        assert datetime.fromisoformat(by_id[sid].output["waited_until"]) == soon
    assert by_id["past"].completed_at < soon
    assert (by_id["seconds"].completed_at - by_id["seconds"].started_at).total_seconds() >= 1
    assert by_id["seconds"].output["seconds"] == 1
    assert event_types(run, "until") == ["step_started", "step_waiting", "step_completed"]


def test_wait_failures_name_the_bad_value(shared_worker, user):
    steps = [
        {"id": "word", "type": "wait", "config": {"seconds": "{{ input.word }}"}},
        {"id": "negative", "type": "wait", "config": {"seconds": "{{ input.negative }}"}},
    ]
    run = run_of(user, steps, inputs={"word": "soon", "negative": -1})
    by_id = step_runs(run)
    assert run.status == "failed"
    assert by_id["word"].error == "config.seconds 'soon' is not a number."
    assert by_id["negative"].error == "config.seconds may not be negative."


def test_a_signal_reaches_the_named_waiting_step(shared_worker, user):
    steps = [
        {"id": "legal", "type": "wait", "config": {"signal": "legal_ok"}},
        {"id": "finance", "type": "wait", "config": {"signal": "finance_ok"}},
    ]
    run = run_create(workflow=make(user, steps), inputs={}, user=user)
    wait_for_step(run.id, "legal", ("waiting",))
    wait_for_step(run.id, "finance", ("waiting",))
    wait_for_run(run.id, statuses=("paused",))
    run_signal(run=run, payload={"by": "finance"}, step_id="finance")
    # One step still waits for its signal: the run stays paused.
    assert Run.objects.get(id=run.id).status == "paused"
    run_signal(run=run, payload={"by": "legal"}, step_id="legal")
    run = wait_for_run(run.id)
    assert run.status == "completed"
    assert {sid: sr.output for sid, sr in step_runs(run).items()} == {
        "legal": {"by": "legal"},
        "finance": {"by": "finance"},
    }


# --- transform ----------------------------------------------------------------------------


USERS = {"users": [{"name": "ana", "active": True, "age": 30}, {"name": "bo", "active": False, "age": 20}]}


def _reads_src(step_id, config):
    return {"id": step_id, "type": "transform", "config": config, "depends_on": ["src"]}


def test_transform_jmespath_and_templates_keep_their_types(shared_worker, user):
    steps = [
        {"id": "src", "type": "transform", "config": {"value": USERS}},
        _reads_src("active_names", {"expression": "steps.src.output.users[?active].name"}),
        _reads_src("oldest", {"expression": "max_by(@, &age).name", "data": "{{ steps.src.output.users }}"}),
        _reads_src("count", {"value": "{{ steps.src.output.users | length }}"}),
        _reads_src("flag", {"value": "{{ steps.src.output.users[1].active }}"}),
        _reads_src("list", {"value": "{{ steps.src.output.users | map(attribute='age') | list }}"}),
        _reads_src("text", {"value": "{{ steps.src.output.users | length }} users"}),
        _reads_src("json_text", {"value": "first={{ steps.src.output.users[0] }}"}),
        _reads_src(
            "shaped",
            {
                "value": {
                    "count": "{{ steps.src.output.users | length }}",
                    "first": "{{ steps.src.output.users[0] }}",
                    "n": 3,
                }
            },
        ),
    ]
    run = run_of(user, steps)
    assert run.status == "completed", run.error
    outputs = {sid: sr.output for sid, sr in step_runs(run).items()}
    assert outputs["active_names"] == ["ana"]
    assert outputs["oldest"] == "ana"
    assert outputs["count"] == 2
    assert outputs["flag"] is False
    assert outputs["list"] == [30, 20]
    assert outputs["text"] == "2 users"
    assert json.loads(outputs["json_text"].removeprefix("first=")) == USERS["users"][0]
    assert outputs["shaped"] == {"count": 2, "first": USERS["users"][0], "n": 3}


def test_transform_failures_name_the_expression_and_the_missing_key(shared_worker, user):
    steps = [
        {"id": "src", "type": "transform", "config": {"value": USERS}},
        _reads_src("bad_type", {"expression": "abs(steps.src.output.users)"}),
        _reads_src("missing", {"value": "{{ steps.src.output.nope }}"}),
    ]
    run = run_of(user, steps)
    by_id = step_runs(run)
    assert run.status == "failed"
    assert by_id["bad_type"].error.startswith("JMESPath 'abs(steps.src.output.users)' failed:")
    assert by_id["missing"].error.startswith("Template error") and "'nope'" in by_id["missing"].error
    assert "'users'" in by_id["missing"].error  # it says what exists


# --- sub_workflow -------------------------------------------------------------------------


def test_a_sub_workflow_without_wait_ends_at_once_and_the_child_runs_on(shared_worker, user):
    child = make(
        user,
        [
            {"id": "pause", "type": "wait", "config": {"seconds": 1}},
            {"id": "echo", "type": "transform", "config": {"value": "{{ input.who }}"}, "depends_on": ["pause"]},
        ],
    )
    steps = [
        {
            "id": "fire",
            "type": "sub_workflow",
            "config": {"workflow_id": child.id, "input": {"who": "{{ input.who }}"}, "wait": False},
        }
    ]
    parent = run_of(user, steps, inputs={"who": "ana"})
    assert parent.status == "completed", parent.error
    fire = step_runs(parent)["fire"]
    child_run = Run.objects.get(id=fire.output["run_id"])
    assert fire.output["status"] in ("queued", "running") and child_run.status != "completed"
    assert child_run.metadata == {"parent_run_id": parent.id, "parent_step_id": "fire"}
    assert child_run.parent_step_run_id is None and child_run.inputs == {"who": "ana"}
    child_run = wait_for_run(child_run.id)
    assert child_run.status == "completed" and child_run.outputs == {"echo": "ana"}
    assert child_run.completed_at > parent.completed_at


def test_a_failed_child_fails_its_sub_workflow_step(shared_worker, http_server, user):
    http_server.routes["/bad"] = (500, {})
    failing = make(user, [{"id": "boom", "type": "http_request", "config": {"url": http_server.url + "/bad"}}])
    run = run_of(user, [{"id": "call", "type": "sub_workflow", "config": {"workflow_id": failing.id}}])
    child = Run.objects.get(workflow=failing)
    assert run.status == "failed" and child.status == "failed"
    assert child.parent_step_run_id == step_runs(run)["call"].id
    assert step_runs(run)["call"].error == (
        f"Sub-workflow run {child.id} ended failed: Step 'boom' failed: HTTP 500 from {http_server.url}/bad"
    )


def test_a_sub_workflow_of_a_missing_or_foreign_workflow_fails_clearly(shared_worker, user):
    elsewhere = make(UserFactory(tenant=TenantFactory()), [{"id": "one", "type": "transform", "config": {"value": 1}}])
    steps = [
        {"id": "unknown", "type": "sub_workflow", "config": {"workflow_id": "wf_does_not_exist"}},
        # Another tenant's workflow is as good as missing.
        {"id": "foreign", "type": "sub_workflow", "config": {"workflow_id": elsewhere.id}},
    ]
    run = run_create(workflow=make(user, steps), inputs={}, user=user)
    run = wait_for_run(run.id, timeout=5)  # failed at once, not left to the reaper
    by_id = step_runs(run)
    assert run.status == "failed"
    assert not Run.objects.filter(workflow=elsewhere).exists()
    assert by_id["unknown"].error == "Workflow 'wf_does_not_exist' was not found in this tenant."
    assert by_id["foreign"].error == f"Workflow '{elsewhere.id}' was not found in this tenant."


def test_cancelling_a_parent_cancels_the_child_it_waits_for(shared_worker, user):
    child = make(user, [{"id": "hold", "type": "wait", "config": {"signal": "never"}}])
    parent = run_create(
        workflow=make(user, [{"id": "call", "type": "sub_workflow", "config": {"workflow_id": child.id}}]),
        inputs={},
        user=user,
    )
    wait_for_step(parent.id, "call", ("waiting",))
    child_run = wait_for_run(Run.objects.get(workflow=child).id, statuses=("paused",))
    run_cancel(run=parent)
    assert Run.objects.get(id=parent.id).status == "cancelled"
    child_run.refresh_from_db()
    assert child_run.status == "cancelled" and child_run.error == f"Parent run {parent.id} was cancelled."
    assert StepRun.objects.get(run=parent, step_id="call").status == "cancelled"


# --- run status transitions ---------------------------------------------------------------


def test_each_run_status_ends_with_its_own_event(shared_worker, http_server, user):
    http_server.routes["/bad"] = (400, {})
    one = {"id": "one", "type": "transform", "config": {"value": 1}}
    long_wait = {"id": "pause", "type": "wait", "config": {"seconds": 30}}
    runs = {
        "completed": run_create(workflow=make(user, [one]), inputs={}, user=user),
        "failed": run_create(
            workflow=make(user, [{"id": "bad", "type": "http_request", "config": {"url": http_server.url + "/bad"}}]),
            inputs={},
            user=user,
        ),
        "cancelled": run_create(workflow=make(user, [long_wait]), inputs={}, user=user),
        "timed_out": run_create(
            workflow=make(user, [long_wait], settings={"timeout_seconds": 1}), inputs={}, user=user
        ),
        "paused": run_create(
            workflow=make(
                user, [{"id": "gate", "type": "wait", "config": {"signal": "go"}}, {**one, "depends_on": ["gate"]}]
            ),
            inputs={},
            user=user,
        ),
    }
    # A start that finds its tenant's admission lock taken (the worker admitting another run)
    # answers "queued" and a worker admits it right after; either way it is under way.
    assert all(run.status in ("queued", "running") for run in runs.values())
    wait_for_step(runs["cancelled"].id, "pause", ("waiting",))
    run_cancel(run=runs["cancelled"])
    paused = wait_for_run(runs["paused"].id, statuses=("paused",))
    assert paused.completed_at is None
    run_signal(run=paused, payload={"go": True})

    terminal = {
        "completed": "run_completed",
        "failed": "run_failed",
        "cancelled": "run_cancelled",
        "timed_out": "run_timed_out",
        "paused": "run_completed",
    }
    for name, run in runs.items():
        finished = wait_for_run(run.id, timeout=20)
        assert finished.status == ("completed" if name == "paused" else name), name
        assert finished.completed_at and finished.completed_at >= finished.started_at
        types = event_types(finished)
        assert types[:2] == ["run_queued", "run_started"], name
        assert types[-1] == terminal[name], name
        assert sum(t in set(terminal.values()) | {"run_cancelled"} for t in types) == 1, name
    paused_types = event_types(runs["paused"])
    assert paused_types.index("step_waiting") < paused_types.index("run_paused") < paused_types.index("run_resumed")
    assert step_runs(runs["timed_out"])["pause"].status == "cancelled"
