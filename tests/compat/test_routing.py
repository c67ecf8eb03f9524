"""Every path of every seed document resolves to a view that takes its method, and the README's
table of seed paths lists exactly the documents' paths; no seed path shadows a canonical one; the
OpenAPI document tags each surface by its seed and names its operations uniquely."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve

from config.routing import websocket_urlpatterns
from tests.compat.seed_documents import ORIGINALS, SEEDS, document

PLACEHOLDER = re.compile(r":(\w+)|\{(\w+)\}")
README = Path(__file__).resolve().parents[2] / "README.md"
SEGMENT = r"(?:[a-z0-9-]+|\{[A-Za-z_]+\}|:[a-z]+(?:Id)?)"
DOCUMENT_PATHS = {
    # "GET /api/workflowsQuery parameters…": the text follows the path unspaced, capitalised
    "001": re.compile(rf"(GET|POST|PUT|PATCH|DELETE) (/api(?:/{SEGMENT})+)"),
    # "GET/api/workflows" and "WS/ws/workflows/:id", one a line
    "000": re.compile(rf"^(GET|POST|PUT|DELETE|WS)(/(?:api|ws)(?:/{SEGMENT})+)$", re.MULTILINE),
    # "POST /api/workflows/createCreate a new workflow…": the description follows the path unspaced
    "002": re.compile(rf"(GET|POST|PUT|PATCH|DELETE|OPTIONS) (/api(?:/{SEGMENT})+)"),
    "003": re.compile(rf"^(GET|POST) (/api(?:/{SEGMENT})+)$", re.MULTILINE),
    # "GET/api/v2/workflows/:idAuthenticated"
    "004": re.compile(rf"^(GET|POST|PATCH|DELETE)(/api(?:/{SEGMENT})+?)(?:Authenticated)?$", re.MULTILINE),
}


def documented_paths(number: str) -> list[tuple[str, str]]:
    return sorted(set(DOCUMENT_PATHS[number].findall(document(number))))


PLACEHOLDER_VALUES = {"type": "http_request", "version": "1"}


def concrete(path: str) -> str:
    return PLACEHOLDER.sub(lambda m: PLACEHOLDER_VALUES.get(m.group(1) or m.group(2), "x_1"), path)


def view_of(path: str):
    match = resolve(path)
    return getattr(match.func, "view_class", None) or getattr(match.func, "cls", None)


def test_the_vendored_documents_are_the_seeds(db):
    if not ORIGINALS.is_dir():
        pytest.skip(f"{ORIGINALS} is not reachable from this checkout")
    for copy in SEEDS.glob("*.txt"):
        assert copy.read_text() == (ORIGINALS / copy.name).read_text(), copy.name


@pytest.mark.parametrize("number", sorted(DOCUMENT_PATHS))
def test_every_path_of_the_document_is_served_with_its_method(number):
    paths = documented_paths(number)
    assert len(paths) == {"001": 24, "000": 15, "002": 25, "003": 5, "004": 16}[number]  # the parser read them all
    for method, path in paths:
        if method == "WS":
            matched = next(p for p in websocket_urlpatterns if p.pattern.regex.search(concrete(path)[1:]))
            assert matched.callback.__name__ != "not_found", path
            continue
        try:
            view = view_of(concrete(path))
        except Resolver404:
            pytest.fail(f"{method} {path} is not served")
        assert hasattr(view, method.lower()), f"{view.__name__} does not take {method} {path}"


def readme_paths() -> set[tuple[str, str, str]]:
    """``(seed, method, path)`` of each row of the README's table of seed paths."""
    text = README.read_text()
    table = text[text.index("### Every path of every seed") :].split("\n#")[0]
    rows = re.findall(r"^\| (\d{3}) \| `(\w+) ([^`]+)` \|", table, re.MULTILINE)
    assert len(rows) == len(set(rows)), "a path is listed twice"
    return set(rows)


def test_the_readme_lists_every_path_of_every_seed_and_no_other():
    documented = {(number, method, path) for number in DOCUMENT_PATHS for method, path in documented_paths(number)}
    listed = readme_paths()
    assert not documented - listed, f"not in the README: {sorted(documented - listed)}"
    assert not listed - documented, f"in the README but in no seed document: {sorted(listed - documented)}"


def test_seed_paths_never_shadow_canonical_ones():
    canonical = {
        "/api/workflows": "workflows.api.views.WorkflowListCreateView",
        "/api/workflows/validate": "workflows.api.views.WorkflowValidateView",
        "/api/workflows/import": "workflows.api.views.WorkflowImportView",
        "/api/workflows/wf_1": "workflows.api.views.WorkflowDetailView",
        "/api/workflows/wf_1/duplicate": "workflows.api.views.WorkflowDuplicateView",
        "/api/workflows/wf_1/execute": "runs.api.views.WorkflowExecuteView",
        "/api/workflows/wf_1/runs": "runs.api.views.WorkflowRunListView",
        "/api/workflows/wf_1/events": "runs.api.views.WorkflowEventListView",
        "/api/workflows/wf_1/webhook": "apikeys.api.webhook.WorkflowWebhookView",
        "/api/workflows/runs": "runs.api.views.RunListView",
        "/api/workflows/runs/run_1": "runs.api.views.RunDetailView",
        "/api/workflows/runs/run_1/status": "runs.api.views.RunStatusView",
        "/api/workflows/runs/run_1/logs": "runs.api.views.RunLogsView",
        "/api/workflows/schedules/sched_1": "workflows.api.schedules.ScheduleDetailView",
        "/api/events": "runs.api.views.EventListView",
        "/api/user": "orchestrator.api.views.CurrentUserView",
        "/api/api-keys": "apikeys.api.views.ApiKeyListCreateView",
        "/api/health": "orchestrator.api.views.HealthView",
        "/api/workflows/create": "orchestrator.compat.editor.WorkflowCreateView",
        "/api/workflows/executions/run_1/status": "orchestrator.compat.editor.ExecutionStatusView",
        "/api/workflows/executions/run_1/logs": "orchestrator.compat.editor.ExecutionLogsView",
        "/api/workflows/wf_1/executions": "orchestrator.compat.editor.WorkflowExecutionsView",
        "/api/workflows/wf_1/code": "workflows.api.authoring.WorkflowCodeView",
        "/api/workflows/wf_1/download": "workflows.api.authoring.WorkflowDownloadView",
        "/api/workflows/parse": "workflows.api.authoring.WorkflowParseView",
        "/api/workflows/generate": "workflows.api.authoring.WorkflowGenerateView",
        "/api/ai/generate": "orchestrator.compat.editor.AiGenerateView",
        "/api/v2/workflows/parse": "orchestrator.compat.workflows_v2.ParseView",
        "/api/v2/workflows/health": "orchestrator.compat.workflows_v2.HealthView",
    }
    for path, expected in canonical.items():
        view = view_of(path)
        assert f"{view.__module__}.{view.__qualname__}" == expected, path
    # The templates collection belongs to the canonical API (the authoring package), never to a seed surface.
    assert not view_of("/api/workflows/templates").__module__.startswith("orchestrator.compat")


def test_the_openapi_document_tags_each_surface_by_its_seed_with_prefixed_operation_ids(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operations = [(path, op) for path, item in schema["paths"].items() for op in item.values() if isinstance(op, dict)]
    ids = [op["operationId"] for _, op in operations]
    assert len(ids) == len(set(ids))
    for path, op in operations:
        assert op["tags"] == [seed_tag(path)] if seed_tag(path) else not op["tags"][0].startswith("Seed"), path
        if seed_tag(path):
            assert op["operationId"].startswith(PREFIXES[seed_tag(path)]), (path, op["operationId"])
    assert {seed_tag(path) for path, _ in operations} - {None} == set(PREFIXES)


PREFIXES = {
    "Seed 000: executions API": "seed000_",
    "Seed 002: workflow editor API": "seed002_",
    "Seed 003: Orchestrate REST API v3": "seed003_",
    "Seed 004: Workflows API v2": "v2_workflows_",
}


def seed_tag(path: str) -> str | None:
    if path.startswith("/api/v2/workflows"):
        return "Seed 004: Workflows API v2"
    if path.startswith("/api/eai/v3/orchestrate/"):
        return "Seed 003: Orchestrate REST API v3"
    if path.startswith("/api/executions"):
        return "Seed 000: executions API"
    if path in ("/api/workflows/create", "/api/ai/generate") or path.startswith("/api/workflows/executions/"):
        return "Seed 002: workflow editor API"
    if re.fullmatch(r"/api/workflows/\{workflow_id\}/executions", path):
        return "Seed 002: workflow editor API"
    return None
