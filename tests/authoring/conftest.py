"""Fixtures for authoring: the engine's worker and HTTP server, and the integrations package's
provider stand-ins (an OpenAI-compatible API, Slack, a bearer HTTP API, SMTP) and its
encryption key, reused as they are."""

from __future__ import annotations

from tests.engine.conftest import _engine_queue, http_server  # noqa: F401  (fixtures)
from tests.integrations.conftest import (  # noqa: F401  (fixtures)
    apis,
    encryption_keys,
    integration_worker,
    make_integration,
    smtp_server,
)
