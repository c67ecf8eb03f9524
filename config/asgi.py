"""ASGI entry point: `config.asgi:application` serves HTTP and WebSockets.

WebSockets authenticate by session, ``?token=`` or ``?api_key=`` (orchestrator/live/ws_auth.py).
The origin check applies to sessions only, where it matters: cookies are sent by any
page, while a token or key is never ambient (and non-browser clients send no Origin).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from orchestrator.dbpool import web_pool_enable  # noqa: E402

web_pool_enable()  # a bounded pool of connections for this process (orchestrator/dbpool.py)

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
