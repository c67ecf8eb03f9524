"""Raw Celery doing the benchmark's shapes: the baseline the engine is compared with.

Only the benchmark's own worker loads this module (``celery worker --include``);
production code never imports the benchmarks.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="orchestrator.bench_noop", acks_late=True, ignore_result=True)
def bench_noop() -> None:
    return None


@shared_task(name="orchestrator.bench_done", acks_late=True, ignore_result=True)
def bench_done(key: str) -> None:
    from orchestrator.benchmarks.engine import mark_done

    mark_done(key)


@shared_task(name="orchestrator.bench_count", acks_late=True, ignore_result=True)
def bench_count(key: str, total: int) -> None:
    """One member of a group; the last to finish sends the callback (a chord without a backend)."""
    from orchestrator.benchmarks.engine import count_and_maybe_finish

    count_and_maybe_finish(key, total)
