"""Benchmark sections for ``manage.py benchmark``; each is a function returning measurements.

A new section (engine, events, …) is a module here with one function, added to ``SECTIONS``.
``tasks`` holds raw Celery's baseline tasks, which only the benchmark's worker loads.

May import anything; nothing imports it but the ``benchmark`` command.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@contextmanager
def private_queue() -> Iterator[str]:
    """A queue of the section's own: its worker reads only that, and this process sends there
    meanwhile, so a benchmark never takes (or feeds) another worker's tasks."""
    from config.celery import app

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        yield queue
    finally:
        app.conf.task_default_queue = previous


@dataclass(frozen=True)
class Measurement:
    key: str  # stable name for --json, e.g. "steps_10000"
    label: str  # what people read, e.g. "validation 10,000 steps"
    seconds: float  # wall clock
    runs: int
    target_seconds: float | None = None
    cpu_seconds: float | None = None  # this process's CPU time: steadier than wall clock on a busy machine
    unit: str = "s"  # how line() prints seconds: "s", "ms", or "rate" (1 / seconds, per second)
    baseline_seconds: float | None = None  # raw Celery doing the same shape, same run
    baseline_label: str = ""
    target_ratio: float | None = None  # seconds / baseline_seconds must stay at or under this
    target_rate: float | None = None  # unit "rate": 1 / seconds must reach this

    @property
    def rate(self) -> float | None:
        return 1 / self.seconds if self.unit == "rate" and self.seconds else None

    @property
    def ratio(self) -> float | None:
        return self.seconds / self.baseline_seconds if self.baseline_seconds else None

    def _fmt(self, seconds: float) -> str:
        return f"{seconds * 1000:.2f} ms" if self.unit == "ms" else f"{seconds:.2f} s"

    def line(self) -> str:
        if self.unit == "rate":
            verdict = ""
            if self.target_rate is not None:
                verdict = f" (target ≥ {self.target_rate:g}/s: {'met' if self.rate >= self.target_rate else 'MISSED'})"
            return f"{self.label}: {self.rate:.1f}/s{verdict}"
        if self.baseline_seconds is not None:
            verdict = ""
            if self.target_ratio is not None:
                verdict = (
                    f" (target ≤ {self.target_ratio:g}×: {'met' if self.ratio <= self.target_ratio else 'MISSED'})"
                )
            return (
                f"{self.label}: {self._fmt(self.seconds)}; {self.baseline_label}: {self._fmt(self.baseline_seconds)};"
                f" ratio {self.ratio:.2f}×{verdict}"
            )
        notes = []
        if self.cpu_seconds is not None:
            notes.append(f"cpu {self.cpu_seconds:.2f} s")
        if self.target_seconds is not None and self.unit == "ms":
            verdict = "met" if self.seconds <= self.target_seconds else "MISSED"
            notes.append(f"target ≤ {self._fmt(self.target_seconds)}: {verdict}")
        elif self.target_seconds is not None:
            notes.append(f"target < {self.target_seconds:g} s")
        value = self._fmt(self.seconds) if self.unit == "ms" else f"{self.seconds:.2f} s"
        return f"{self.label}: {value}" + (f" ({'; '.join(notes)})" if notes else "")


def _validation() -> list[Measurement]:
    # Imported on use, so that listing sections does not load every section's dependencies.
    from orchestrator.benchmarks.validation import run

    return run()


def _engine() -> list[Measurement]:
    from orchestrator.benchmarks.engine import run

    return run()


def _events() -> list[Measurement]:
    from orchestrator.benchmarks.events import run

    return run()


def _api() -> list[Measurement]:
    from orchestrator.benchmarks.api import run

    return run()


def _authoring() -> list[Measurement]:
    from orchestrator.benchmarks.authoring import run

    return run()


SECTIONS: dict[str, Callable[[], list[Measurement]]] = {
    "validation": _validation,
    "engine": _engine,
    "events": _events,
    "api": _api,
    "authoring": _authoring,
}
# Sections that start their own worker and server processes: they need a broker those share
# (Redis), so they cannot run in the embedded shape, whose broker lives in one process.
DISTRIBUTED_ONLY = frozenset({"engine", "events", "api"})
NEEDS_DISTRIBUTED = (
    "The {section} benchmark needs the distributed shape (its own worker and server processes share "
    "the broker): set REDIS_URL and a PostgreSQL DATABASE_URL. This is the embedded one (SQLite, "
    "in-process broker)."
)
