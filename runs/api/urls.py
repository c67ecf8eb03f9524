from django.urls import path

from orchestrator.api import converters  # noqa: F401 - registers <id:>, <version:>, <ref:>
from runs.api import views

# Included before the workflows app's URLs: "workflows/runs" must not be read as a workflow ID.
urlpatterns = [
    path("events", views.EventListView.as_view(), name="events"),
    path("workflows/runs", views.RunListView.as_view(), name="runs"),
    path("workflows/runs/<id:run_id>", views.RunDetailView.as_view(), name="run"),
    path("workflows/runs/<id:run_id>/status", views.RunStatusView.as_view(), name="run-status"),
    path("workflows/runs/<id:run_id>/logs", views.RunLogsView.as_view(), name="run-logs"),
    path("workflows/runs/<id:run_id>/events", views.RunEventsView.as_view(), name="run-events"),
    path("workflows/runs/<id:run_id>/stream", views.RunStreamView.as_view(), name="run-stream"),
    path("workflows/runs/<id:run_id>/cancel", views.RunCancelView.as_view(), name="run-cancel"),
    path("workflows/runs/<id:run_id>/resume", views.RunResumeView.as_view(), name="run-resume"),
    path("workflows/<id:workflow_id>/run", views.WorkflowRunView.as_view(), name="workflow-run"),
    path("workflows/<id:workflow_id>/execute", views.WorkflowExecuteView.as_view(), name="workflow-execute"),
    path("workflows/<id:workflow_id>/runs", views.WorkflowRunListView.as_view(), name="workflow-runs"),
    path("workflows/<id:workflow_id>/events", views.WorkflowEventListView.as_view(), name="workflow-events"),
]
