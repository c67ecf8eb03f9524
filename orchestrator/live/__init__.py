"""Live progress: events recorded at every transition, published to the channel layer,
and served to clients.

``events`` records an event with its per-run sequence (and publishes it after
commit); ``publisher`` is the per-process thread that sends to the channel
layer; ``streams`` is the SSE endpoint's cursor (replay, live, gap fill);
``consumers`` and ``ws_auth`` are the WebSocket side.

May import: ``security`` (redaction), ``tenancy``, the ``runs`` models and
selectors. Never ``engine``, ``api`` or ``compat``.
"""
