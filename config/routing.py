"""WebSocket routes. The run and workflow consumers arrive with live progress."""

websocket_urlpatterns: list = []
