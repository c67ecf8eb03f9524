from django.urls import path

from orchestrator.api import converters  # noqa: F401 - registers <id:>, <version:>, <ref:>
from workflows.api import authoring, schedules, templates, views

# Fixed paths come before the "<workflow_id>" ones that would swallow them.
urlpatterns = [
    path("workflows", views.WorkflowListCreateView.as_view(), name="workflows"),
    path("workflows/validate", views.WorkflowValidateView.as_view(), name="workflow-validate"),
    path("workflows/import", views.WorkflowImportView.as_view(), name="workflow-import"),
    path("workflows/schedules/<id:schedule_id>", schedules.ScheduleDetailView.as_view(), name="schedule"),
    path("workflows/templates", templates.TemplateListCreateView.as_view(), name="templates"),
    path("workflows/templates/<ref:template_id>", templates.TemplateDetailView.as_view(), name="template"),
    path(
        "workflows/templates/<ref:template_id>/install",
        templates.TemplateInstallView.as_view(),
        name="template-install",
    ),
    path("workflows/parse", authoring.WorkflowParseView.as_view(), name="workflow-parse"),
    path("workflows/generate", authoring.WorkflowGenerateView.as_view(), name="workflow-generate"),
    path("workflows/<id:workflow_id>", views.WorkflowDetailView.as_view(), name="workflow"),
    path(
        "workflows/<id:workflow_id>/schedules",
        schedules.WorkflowScheduleListCreateView.as_view(),
        name="workflow-schedules",
    ),
    path("workflows/<id:workflow_id>/status", views.WorkflowStatusView.as_view(), name="workflow-status"),
    path("workflows/<id:workflow_id>/duplicate", views.WorkflowDuplicateView.as_view(), name="workflow-duplicate"),
    path("workflows/<id:workflow_id>/versions", views.WorkflowVersionListView.as_view(), name="workflow-versions"),
    path(
        "workflows/<id:workflow_id>/versions/<version:version>",
        views.WorkflowVersionDetailView.as_view(),
        name="workflow-version",
    ),
    path("workflows/<id:workflow_id>/diff", views.WorkflowDiffView.as_view(), name="workflow-diff"),
    path("workflows/<id:workflow_id>/rollback", views.WorkflowRollbackView.as_view(), name="workflow-rollback"),
    path("workflows/<id:workflow_id>/schema", views.WorkflowSchemaView.as_view(), name="workflow-schema"),
    path("workflows/<id:workflow_id>/export", views.WorkflowExportView.as_view(), name="workflow-export"),
    path("workflows/<id:workflow_id>/code", authoring.WorkflowCodeView.as_view(), name="workflow-code"),
    path("workflows/<id:workflow_id>/download", authoring.WorkflowDownloadView.as_view(), name="workflow-download"),
]
