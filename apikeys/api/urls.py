from django.urls import path

from apikeys.api.views import ApiKeyDetailView, ApiKeyListCreateView
from apikeys.api.webhook import WorkflowWebhookView
from orchestrator.api import converters  # noqa: F401 - registers <id:>, <version:>, <ref:>

urlpatterns = [
    path("api-keys", ApiKeyListCreateView.as_view(), name="api-keys"),
    path("api-keys/<id:key_id>", ApiKeyDetailView.as_view(), name="api-key-detail"),
    # apikeys' URLs are included before the workflows app's, so no workflow route swallows this one.
    path("workflows/<id:workflow_id>/webhook", WorkflowWebhookView.as_view(), name="workflow-webhook"),
]
