"""WebSocket routes (SPEC 8); close codes and frames are described in orchestrator/live/consumers.py."""

from django.urls import re_path

from orchestrator.live.consumers import RunConsumer, WorkflowConsumer, not_found

websocket_urlpatterns = [
    re_path(r"^ws/runs/(?P<run_id>[^/]+)/?$", RunConsumer.as_asgi()),
    re_path(r"^ws/workflows/(?P<workflow_id>[^/]+)/?$", WorkflowConsumer.as_asgi()),
    re_path(r"", not_found),
]
