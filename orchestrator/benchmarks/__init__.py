"""Benchmark sections for ``manage.py benchmark``; each is a function returning measurements.

A new section (engine, events, …) is a module here with one function, added to ``SECTIONS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Measurement:
    key: str  # stable name for --json, e.g. "steps_10000"
    label: str  # what people read, e.g. "validation 10,000 steps"
    seconds: float  # wall clock
    runs: int
    target_seconds: float | None = None
    cpu_seconds: float | None = None  # this process's CPU time: steadier than wall clock on a busy machine

    def line(self) -> str:
        notes = []
        if self.cpu_seconds is not None:
            notes.append(f"cpu {self.cpu_seconds:.2f} s")
        if self.target_seconds is not None:
            notes.append(f"target < {self.target_seconds:g} s")
        return f"{self.label}: {self.seconds:.2f} s" + (f" ({'; '.join(notes)})" if notes else "")


def _validation() -> list[Measurement]:
    # Imported on use, so that listing sections does not load every section's dependencies.
    from orchestrator.benchmarks.validation import run

    return run()


SECTIONS: dict[str, Callable[[], list[Measurement]]] = {"validation": _validation}
