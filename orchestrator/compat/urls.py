"""Every seed surface's paths, mounted under ``/api/`` by ``config.urls``.

Included before the workflows app's URLs: ``workflows/create`` and ``workflows/executions/…``
would otherwise be read as workflow IDs. None of these patterns matches a canonical path
(``tests/compat/test_routing.py`` checks every one of them).
"""

from django.urls import include, path

from orchestrator.api import converters  # noqa: F401 - registers <id:>, <version:>, <ref:>
from orchestrator.compat import editor, executions, orchestrate_v3, workflows_v2

seed_000 = [
    path("executions", executions.ExecutionListView.as_view(), name="seed000-executions"),
    path("executions/<id:execution_id>", executions.ExecutionDetailView.as_view(), name="seed000-execution"),
    path(
        "executions/<id:execution_id>/cancel",
        executions.ExecutionCancelView.as_view(),
        name="seed000-execution-cancel",
    ),
]

seed_002 = [
    path("workflows/create", editor.WorkflowCreateView.as_view(), name="seed002-workflow-create"),
    path(
        "workflows/executions/<id:execution_id>/status",
        editor.ExecutionStatusView.as_view(),
        name="seed002-execution-status",
    ),
    path(
        "workflows/executions/<id:execution_id>/logs",
        editor.ExecutionLogsView.as_view(),
        name="seed002-execution-logs",
    ),
    path(
        "workflows/<id:workflow_id>/executions",
        editor.WorkflowExecutionsView.as_view(),
        name="seed002-workflow-executions",
    ),
    path("ai/generate", editor.AiGenerateView.as_view(), name="seed002-ai-generate"),
]

seed_003 = [
    path("workflows", orchestrate_v3.WorkflowListView.as_view(), name="seed003-workflows"),
    path(
        "workflows/<id:workflow_id>/execute",
        orchestrate_v3.WorkflowExecuteView.as_view(),
        name="seed003-workflow-execute",
    ),
    path("executions", orchestrate_v3.ExecutionListView.as_view(), name="seed003-executions"),
    path("executions/<id:execution_id>", orchestrate_v3.ExecutionDetailView.as_view(), name="seed003-execution"),
    path(
        "executions/<id:execution_id>/cancel",
        orchestrate_v3.ExecutionCancelView.as_view(),
        name="seed003-execution-cancel",
    ),
]

# Fixed paths ("health", "parse") before the "<workflow_id>" ones.
seed_004 = [
    path("health", workflows_v2.HealthView.as_view(), name="seed004-health"),
    path("parse", workflows_v2.ParseView.as_view(), name="seed004-parse"),
    path("<id:workflow_id>", workflows_v2.WorkflowDetailView.as_view(), name="seed004-workflow"),
    path("<id:workflow_id>/schema", workflows_v2.WorkflowSchemaView.as_view(), name="seed004-workflow-schema"),
    path("<id:workflow_id>/execute", workflows_v2.WorkflowExecuteView.as_view(), name="seed004-workflow-execute"),
    path("<id:workflow_id>/runs", workflows_v2.RunListView.as_view(), name="seed004-runs"),
    path("<id:workflow_id>/runs/<id:run_id>", workflows_v2.RunDetailView.as_view(), name="seed004-run"),
    path("<id:workflow_id>/schedules", workflows_v2.ScheduleListCreateView.as_view(), name="seed004-schedules"),
    path(
        "<id:workflow_id>/schedules/<id:schedule_id>",
        workflows_v2.ScheduleDetailView.as_view(),
        name="seed004-schedule",
    ),
]

urlpatterns = [
    *seed_000,
    *seed_002,
    path("eai/v3/orchestrate/", include(seed_003)),
    path("v2/workflows", workflows_v2.WorkflowListCreateView.as_view(), name="seed004-workflows"),
    path("v2/workflows/", include(seed_004)),
]
