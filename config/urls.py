from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from orchestrator.api.docs import RedocView
from orchestrator.api.exception_handler import api_path_not_found

api_patterns = [
    path("", include("orchestrator.api.urls")),
    path("", include("apikeys.api.urls")),
    path("", include("integrations.api.urls")),
    path("", include("runs.api.urls")),
    # Seed surfaces (SPEC 14) before the workflows app: "workflows/create" is no workflow ID.
    path("", include("orchestrator.compat.urls")),
    path("", include("workflows.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    # Last: anything else under /api/ is a JSON 404, also with DEBUG on (whose 404 page is HTML).
    re_path(r"^api(?:/.*)?$", api_path_not_found),
]

handler400 = "orchestrator.api.exception_handler.handler400"
handler403 = "orchestrator.api.exception_handler.handler403"
handler404 = "orchestrator.api.exception_handler.handler404"
handler500 = "orchestrator.api.exception_handler.handler500"
