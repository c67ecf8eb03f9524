from django.urls import path

from apikeys.api.views import ApiKeyDetailView, ApiKeyListCreateView

urlpatterns = [
    path("api-keys", ApiKeyListCreateView.as_view(), name="api-keys"),
    path("api-keys/<str:key_id>", ApiKeyDetailView.as_view(), name="api-key-detail"),
]
