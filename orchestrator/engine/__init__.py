"""The engine: advance runs, execute attempts, sweep due rows and expired leases.

``scheduler`` advances a run when a step settles (fan-in, trigger rules, skips,
run end); ``executor`` claims, executes and records one attempt; ``loops`` and
``subruns`` hold a step while its iterations or child run go on; ``sweeper`` is
the periodic side (due retries, finished waits, run timeouts, expired leases);
``tasks`` are the thin Celery tasks and ``retries`` how they (and recording a step)
outlast a database or broker outage, and give up on a bug; ``embedded`` runs a worker and beat inside
the serving process when there is no Redis.

May import: ``definitions``, ``step_types``, ``live``, ``security``, the
``runs``/``workflows`` models and services. Never ``api``, ``compat``,
``authoring`` or ``benchmarks``.
"""
