"""Shared API plumbing: the error envelope (``exception_handler``), pagination, strict
serializers, request guards (``middleware``), and the API's own endpoints: auth, the
current user, health and the node-types registry.

May import every lower package (``tenancy``, ``definitions``, ``step_types``,
``engine`` for health). Apps' ``api/`` packages import from here; the engine never does.
"""
