from django.urls import path

from orchestrator.api import (
    converters,  # noqa: F401 - registers <id:>, <version:>, <ref:>
    views,
)

urlpatterns = [
    path("auth/token", views.TokenView.as_view(), name="auth-token"),
    path("auth/token/refresh", views.TokenRefresh.as_view(), name="auth-token-refresh"),
    path("user", views.CurrentUserView.as_view(), name="user"),
    path("health", views.HealthView.as_view(), name="health"),
    path("node-types", views.NodeTypeListView.as_view(), name="node-types"),
    path("node-types/<ref:type_name>", views.NodeTypeDetailView.as_view(), name="node-type"),
    path("node-types/<ref:type_name>/schema", views.NodeTypeSchemaView.as_view(), name="node-type-schema"),
]
