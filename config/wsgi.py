"""WSGI entry point (HTTP only; the ASGI app also serves WebSockets)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from orchestrator.dbpool import web_pool_enable  # noqa: E402

web_pool_enable()  # a bounded pool of connections for this process (orchestrator/dbpool.py)

from orchestrator.startup import refuse_insecure_start  # noqa: E402

refuse_insecure_start("web server")
