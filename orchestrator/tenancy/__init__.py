"""Tenancy and access: who is calling, in which tenant, with which role, how often.

``authentication`` (JWT carrying ``customer_id``), ``permissions`` (the one
role check), ``ratelimit`` (per user or key, counted in Redis) and ``services``
(tenant and user writes).

May import: ``orchestrator.models`` and ``errors``. Nothing of the engine.
"""
