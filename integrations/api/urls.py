from django.urls import path

from integrations.api.views import (
    IntegrationDetailView,
    IntegrationListCreateView,
    IntegrationTestView,
    IntegrationTypeListView,
)
from orchestrator.api import converters  # noqa: F401 - registers <id:>, <version:>, <ref:>

urlpatterns = [
    path("integrations", IntegrationListCreateView.as_view(), name="integrations"),
    path("integrations/types", IntegrationTypeListView.as_view(), name="integration-types"),
    path("integrations/<id:integration_id>", IntegrationDetailView.as_view(), name="integration-detail"),
    path("integrations/<id:integration_id>/test", IntegrationTestView.as_view(), name="integration-test"),
]
