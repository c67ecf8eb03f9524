"""Hostile input to every endpoint that takes input (issue 11): deep nesting, NUL, lone
surrogates, huge numbers, over-long strings and YAML bombs, as body, query and path.

The endpoints are not listed by hand: every URL pattern under /api/ is resolved (canonical,
compat surfaces and authoring alike), its path parameters filled with real objects of the
caller's tenant, and each method its view has is probed. Every probe must answer 4xx in the
error envelope, and no row may be written by it. The figures (probes tried, 5xx seen) are
printed at the end (``pytest -s``) and named in the assertion message.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from integrations.services import integration_create
from orchestrator.authoring.templates import template_create
from orchestrator.models import Role
from runs.services import run_create
from tests.conftest import client_for
from tests.factories import UserFactory, WorkflowFactory
from workflows.schedules import schedule_create

pytestmark = pytest.mark.django_db

BODY_METHODS = ("post", "put", "patch")
# Streams hold the connection open; they get the query probes only (refused before streaming).
STREAMING = {"run-stream"}
PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")

DEEP = 1000
DEEP_JSON = [
    ("deep object", '{"a":' * DEEP + "1" + "}" * DEEP),
    ("deep array", "[" * DEEP + "]" * DEEP),
    ("deep in a field", '{"definition": {"steps": ' + "[" * DEEP + "]" * DEEP + "}}"),
]
JSON_BODIES = [
    *DEEP_JSON,
    ("NUL in a value", '{"name": "a\\u0000b", "definition": {"name": "x\\u0000", "steps": []}}'),
    ("NUL in a key", '{"input_data": {"k\\u0000": 1}, "definition": {"steps": [], "n\\u0000": 1}}'),
    ("lone surrogate in a value", '{"name": "\\ud800", "input": {"s": "\\udfff"}}'),
    ("lone surrogate in a key", '{"\\ud800": 1}'),
    ("raw invalid UTF-8", b'{"name": "\xed\xa0\x80"}'),
    ("float overflow", '{"version": 1e400, "input_data": {"n": 1e400}}'),
    ("5000-digit integer", '{"version": ' + "9" * 5000 + "}"),
    ("NaN", '{"wait_seconds": NaN}'),
]
BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)]
)
YAML_BODIES = [
    ("billion laughs", BILLION_LAUGHS),
    ("deep YAML", "[" * DEEP + "]" * DEEP),
    ("NUL in YAML", 'name: "a\\0b"\ndefinition: {steps: []}'),
    ("surrogate in YAML", 'name: "\\ud800"\ndefinition: {steps: []}'),
]
HUGE = "9223372036854775808"
QUERIES = [
    ("NUL in search", "search=%00"),
    ("NUL in workflow_id", "workflow_id=%00x"),
    ("NUL in a parameter name", "a%00b=1"),
    ("huge offset", f"offset={HUGE}"),
    ("huge limit", f"limit={HUGE}99"),
    ("negative offset", "offset=-1"),
    ("huge after", f"after={HUGE}"),
    ("huge v1", f"v1={HUGE}&v2=1"),
    ("NUL in format", "format=%00"),
    ("impossible since", "since=2024-13-45T25:61:00Z"),
    ("impossible until", "until=2024-02-30T00:00:00Z"),
]
# What a path ID is replaced with: none of these can name an object.
BAD_IDS = [
    ("NUL in an ID", "wf_%00x"),
    ("surrogate bytes in an ID", "wf_%ED%A0%80"),
    ("over-long ID", "wf_" + "0" * 300),
    ("huge number", HUGE),
]


@dataclass
class Endpoint:
    name: str
    route: str  # with <converter:name> placeholders
    methods: list[str]

    def path(self, values: dict[str, str], replace: str | None = None) -> str:
        def fill(match: re.Match) -> str:
            return replace if replace is not None else values[match.group("name")]

        return "/" + PARAM.sub(fill, self.route)


@dataclass
class Tally:
    probes: int = 0
    server_errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        else:
            yield route, entry


def api_endpoints() -> list[Endpoint]:
    """Every /api/ route with a view class, and the methods that class answers."""
    found = []
    for route, pattern in _walk(get_resolver().url_patterns):
        view_class = getattr(pattern.callback, "view_class", None)
        if not route.startswith("api/") or view_class is None or route.startswith(("api/schema", "api/docs")):
            continue
        methods = [m for m in ("get", *BODY_METHODS) if hasattr(view_class, m)]
        if methods:
            found.append(Endpoint(pattern.name or route, route, methods))
    return found


def _counted_models() -> list:
    models = [
        model
        for app in ("orchestrator", "workflows", "runs", "integrations", "apikeys")
        for model in apps.get_app_config(app).get_models()
    ]
    return models + [apps.get_model("django_celery_beat", name) for name in ("PeriodicTask", "CrontabSchedule")]


def _row_counts() -> dict[str, int]:
    """Rows of every table a probe could write to, in one round trip (checked after each probe)."""
    models = _counted_models()
    tables = [connection.ops.quote_name(model._meta.db_table) for model in models]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {table})" for table in tables))
        counts = cursor.fetchone()
    return {model._meta.label: count for model, count in zip(models, counts, strict=True)}


@pytest.fixture
def world(tenant, settings):
    """An owner (every role's endpoints) and one object of every kind the paths name."""
    settings.ORCHESTRATOR_RATE_LIMIT = 0  # hundreds of probes; the limit is tested elsewhere
    settings.ORCHESTRATOR_ENCRYPTION_KEYS = base64.b64encode(os.urandom(32)).decode()
    owner = UserFactory(tenant=tenant, role=Role.OWNER)
    workflow = WorkflowFactory(tenant=tenant, created_by=owner, trigger_type="webhook")
    run = run_create(workflow=workflow, inputs={}, user=owner)
    schedule = schedule_create(workflow=workflow, user=owner, cron_expression="0 9 * * *")
    integration = integration_create(
        user=owner,
        name="fuzz",
        type="http",
        # Nothing listens there: a probe that reached the provider call would fail fast, not hang.
        config={"base_url": "http://127.0.0.1:9", "auth_type": "bearer", "token": "fuzz-token"},
    )
    template = template_create(workflow=workflow, user=owner)
    key, raw_key = api_key_create(user=owner, name="fuzz")
    values = {
        "workflow_id": workflow.id,
        "run_id": run.id,
        "execution_id": run.id,
        "schedule_id": schedule.id,
        "integration_id": integration.id,
        "template_id": template.id,
        "key_id": key.id,
        "type_name": "http_request",
        "version": "1",
    }
    client = client_for(owner)
    client.raise_request_exception = False  # a crash must be counted as a 500, not end the test
    return client, values


def _check(tally: Tally, label: str, response, before: dict[str, int], ignored_as=None) -> None:
    """One probe's answer: 4xx in the envelope, nothing written. ``ignored_as``: the answer
    without the probed parameter, which an endpoint that does not read it may give again."""
    tally.probes += 1
    status = response.status_code
    if status >= 500:
        tally.server_errors.append(f"{label} → {status}")
        return
    if ignored_as is not None and status == ignored_as.status_code and status < 300:
        return
    if not 400 <= status < 500:
        tally.failures.append(f"{label} → {status} (expected 4xx)")
        return
    try:
        body = response.json()
        if label.split()[1].lstrip("/").startswith("api/v2/workflows"):
            # Seed 004's own envelope (SPEC 14): {"success": false, "error": "..."}.
            assert body["success"] is False and isinstance(body["error"], str)
        else:
            error = body["error"]
            assert isinstance(error["code"], str) and isinstance(error["message"], str) and "details" in error
    except (ValueError, KeyError, TypeError, AssertionError):
        tally.failures.append(f"{label} → {status} without the error envelope: {response.content[:200]!r}")
        return
    after = _row_counts()
    if after != before:
        changed = {k: (before[k], after[k]) for k in after if after[k] != before[k]}
        tally.failures.append(f"{label} → {status} but wrote rows: {changed}")


def _is_paginated(response) -> bool:
    """A list with limit/offset (SPEC 2: ``total``; seed 003 ``data``, seed 004 ``count``)."""
    if response.status_code != 200 or not response.get("Content-Type", "").startswith("application/json"):
        return False
    body = response.json()
    return isinstance(body, dict) and bool({"total", "count", "data"} & set(body))


@pytest.mark.timeout(1200)  # about 1,100 requests; minutes on a busy machine
def test_every_endpoint_refuses_hostile_input_with_a_4xx_and_writes_nothing(world, capsys) -> None:
    client, values = world
    endpoints = api_endpoints()
    assert len(endpoints) > 40, "the URL patterns were not all found"
    tally = Tally()
    start = _row_counts()

    for endpoint in endpoints:
        before = start
        path = endpoint.path(values)
        # Bodies: JSON everywhere, YAML too (the import takes it; elsewhere a 415).
        for method in (m for m in endpoint.methods if m in BODY_METHODS):
            for label, body in JSON_BODIES:
                response = getattr(client, method)(path, data=body, content_type="application/json")
                _check(tally, f"{method.upper()} {endpoint.route} [{label}]", response, before)
            for label, body in YAML_BODIES:
                response = getattr(client, method)(path, data=body, content_type="application/yaml")
                _check(tally, f"{method.upper()} {endpoint.route} [{label}]", response, before)
        # Queries: characters the database cannot store, numbers past any column.
        if "get" in endpoint.methods:
            baseline = None if endpoint.name in STREAMING else client.get(path)
            pages = baseline is not None and _is_paginated(baseline)
            for label, query in QUERIES:
                if label == "huge v1" and not endpoint.route.endswith("/diff"):
                    continue
                if endpoint.name in STREAMING and label not in ("huge after",) and "NUL" not in label:
                    continue  # not read by a stream, which would then stay open
                # Where a number is read (pages: limit/offset; events: after) it must be refused;
                # an endpoint that does not read it may answer as without it. NUL is refused everywhere.
                reads = pages if "after" not in query else ("events" in endpoint.route or "stream" in endpoint.route)
                if label == "impossible since":
                    reads = endpoint.name in ("runs", "events", "workflow-events", "run-events")
                elif label == "impossible until":
                    reads = endpoint.name == "runs"
                ignored_as = baseline if label.startswith(("huge", "negative", "impossible")) and not reads else None
                response = client.get(f"{path}?{query}")
                _check(tally, f"GET {endpoint.route} [{label}]", response, before, ignored_as)
        if endpoint.route.endswith("/diff"):
            for query in (f"v1={HUGE}&v2=1", "v1=1&v2=%00", "v1=-5&v2=1"):
                _check(tally, f"GET {endpoint.route} [{query}]", client.get(f"{path}?{query}"), before)
        # Paths: an ID that cannot exist is a 404, whatever it holds.
        if PARAM.search(endpoint.route):
            for label, bad in BAD_IDS:
                method = endpoint.methods[0]
                bad_path = endpoint.path(values, replace=bad)
                if method in BODY_METHODS:
                    response = getattr(client, method)(bad_path, data="{}", content_type="application/json")
                else:
                    response = client.get(bad_path)
                _check(tally, f"{method.upper()} {bad_path[:80]} [{label}]", response, before)

    _over_long_probes(client, values, tally, start)
    figures = f"{tally.probes} probes tried, {len(tally.server_errors)} 5xx seen"
    with capsys.disabled():
        print(f"\nfuzz: {figures}")
    assert not tally.server_errors, f"{figures}:\n" + "\n".join(tally.server_errors[:40])
    assert not tally.failures, f"{figures}:\n" + "\n".join(tally.failures[:40])
    assert _row_counts() == start


def _over_long_probes(client: APIClient, values: dict[str, str], tally: Tally, before: dict[str, int]) -> None:
    """Strings one past their column (or the documented bound), field by field."""
    wf, run, sched = values["workflow_id"], values["run_id"], values["schedule_id"]
    step = {"id": "s", "type": "transform", "config": {"value": 1}}
    definition = {"steps": [step]}
    long_signal = {"steps": [{"id": "w", "type": "wait", "config": {"signal": "s" * 201}}]}
    probes = [
        ("post", "/api/workflows", {"definition": {**definition, "name": "n" * 201}}),
        ("post", "/api/workflows", {"definition": definition, "name": "n" * 201}),
        ("post", "/api/workflows", {"definition": definition, "name": "ok", "tags": ["t" * 101]}),
        ("post", "/api/workflows", {"definition": long_signal, "name": "signal"}),
        ("post", "/api/workflows", {"definition": {"steps": [{**step, "id": "i" * 121}]}, "name": "id"}),
        ("put", f"/api/workflows/{wf}", {"definition": definition, "name": "ok", "change_summary": "c" * 501}),
        ("patch", f"/api/workflows/{wf}", {"name": "n" * 201}),
        ("patch", f"/api/workflows/{wf}", {"definition": {**definition, "name": "n" * 201}}),
        ("post", "/api/workflows/import", {"name": "n" * 201, "definition": definition}),
        ("post", f"/api/workflows/{wf}/duplicate", {"name": "n" * 201}),
        ("post", f"/api/workflows/{wf}/schedules", {"cron_expression": "1," * 100 + "1 * * * *"}),
        ("post", f"/api/workflows/{wf}/schedules", {"cron_expression": "0 " + "1," * 60 + "1 * * *"}),
        ("post", f"/api/workflows/{wf}/schedules", {"cron_expression": "0 9 * * *", "timezone": "Z" * 65}),
        ("patch", f"/api/workflows/schedules/{sched}", {"cron_expression": "0 " + "1," * 60 + "1 * * *"}),
        ("post", f"/api/workflows/runs/{run}/cancel", {"reason": "r" * 501}),
        ("post", f"/api/workflows/runs/{run}/resume", {"from_step": "f" * 121}),
        ("post", "/api/integrations", {"name": "n" * 201, "type": "http", "config": {}}),
        ("post", "/api/api-keys", {"name": "n" * 201}),
        ("post", "/api/workflows/templates", {"workflow_id": wf, "name": "n" * 201}),
        ("post", "/api/workflows/parse", {"instruction": "i" * 5001}),
        ("post", "/api/workflows/create", {"name": "n" * 201, "nodes": [], "edges": []}),
        ("post", "/api/v2/workflows", {"name": "n" * 201, "definition": definition}),
        ("post", f"/api/v2/workflows/{wf}/schedules", {"cron_expression": "0 " + "1," * 60 + "1 * * *"}),
        ("post", "/api/auth/token", {"username": "u" * 10_000, "password": "p"}),
        ("patch", "/api/user", {"name": "n" * 151}),
        ("patch", "/api/user", {"name": "n " + "n" * 151}),
        ("patch", "/api/user", {"email": "e" * 250 + "@example.com"}),
    ]
    for method, path, body in probes:
        response = getattr(client, method)(path, data=json.dumps(body), content_type="application/json")
        _check(tally, f"{method.upper()} {path} [over-long]", response, before)
    # Validation answers 200 {"valid": false} for a definition it refuses (SPEC 4).
    response = client.post("/api/workflows/validate", data={"definition": long_signal}, format="json")
    tally.probes += 1
    if response.status_code != 200 or response.json()["valid"] is not False:
        tally.failures.append(f"POST validate [over-long signal] → {response.status_code} {response.content[:200]!r}")
    response = client.post(
        f"/api/workflows/{wf}/run", data="{}", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k" * 256
    )
    _check(tally, "POST run [over-long Idempotency-Key]", response, before)
