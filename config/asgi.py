"""ASGI entry point: `config.asgi:application` serves HTTP and WebSockets.

WebSockets authenticate by session, ``?token=`` or ``?api_key=`` (orchestrator/live/ws_auth.py).
The origin check applies to sessions only, where it matters: cookies are sent by any
page, while a token or key is never ambient (and non-browser clients send no Origin).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from django.conf import settings  # noqa: E402

# Under ASGI each request's sync code runs in a thread of its own, so a persistent connection is
# never reused: it stays open, unreachable, until collected. Under load (8 clients starting runs)
# one web process held 50 connections and others got "too many clients". Close at request end
# (with PostgreSQL's pool, closing hands the connection back to the pool).
for _database in settings.DATABASES.values():
    _database["CONN_MAX_AGE"] = 0

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from orchestrator.live.ws_auth import WebSocketAuthMiddlewareStack  # noqa: E402
from orchestrator.startup import refuse_insecure_start  # noqa: E402

refuse_insecure_start("web server")

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": WebSocketAuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)
