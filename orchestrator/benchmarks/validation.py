"""Validation speed: normalize + validate definitions of 10,000 and 100,000 steps (SPEC section 15)."""

from __future__ import annotations

import statistics
import time
from typing import Any

from orchestrator.benchmarks import Measurement
from orchestrator.definitions import definition_errors, definition_normalize
from orchestrator.definitions.expressions import analyze

CHAIN_LENGTH = 10
FAN_WIDTH = 20
TARGET_10K_SECONDS = 0.5


def _fetch(step_id: str, parent: str) -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "http_request",
        "depends_on": [parent],
        "config": {
            "method": "POST",
            "url": f"https://api.example.com/items/{{{{ steps.{parent}.output.body.id }}}}",
            "headers": {"X-Run": "{{ run.id }}"},
            "json": {"previous": f"{{{{ steps.{parent}.output.body }}}}"},
            "timeout": 10,
        },
        "retry": {"max_attempts": 3, "backoff": "exponential", "retry_on": ["network", "5xx"]},
    }


def _branch(step_id: str, parent: str) -> dict[str, Any]:
    # Every branch also reads the first step: an ancestor that is not a direct parent.
    return {
        "id": step_id,
        "type": "transform",
        "input_from": parent,
        "config": {
            "value": {"parent": f"{{{{ steps.{parent}.output }}}}", "origin": "{{ steps.start.output.status_code }}"}
        },
    }


def _join(step_id: str, branches: list[str]) -> dict[str, Any]:
    first, last = branches[0], branches[-1]
    return {
        "id": step_id,
        "type": "agent_task",
        "depends_on": branches,
        "when": f"{{{{ steps.{first}.output.parent }}}}",
        "trigger_rule": "none_failed",
        "config": {
            "goal": f"Summarize {{{{ steps.{first}.output | tojson }}}} and {{{{ steps.{last}.output | tojson }}}}"
        },
    }


def build_definition(size: int) -> dict[str, Any]:
    """A raw definition of ``size`` steps: chains of fetches, each fanning out to transforms that join again.

    Every step's config holds templates naming its parent; the branches also name the first step.
    """
    steps: list[dict[str, Any]] = [
        {"id": "start", "type": "http_request", "config": {"method": "GET", "url": "{{ input.url }}"}},
    ]
    tail = "start"
    while len(steps) < size:
        for _ in range(min(CHAIN_LENGTH, size - len(steps))):
            step_id = f"fetch_{len(steps)}"
            steps.append(_fetch(step_id, tail))
            tail = step_id
        if size - len(steps) < 2:
            continue
        width = min(FAN_WIDTH, size - len(steps) - 1)
        branches = [f"branch_{len(steps) + i}" for i in range(width)]
        steps.extend(_branch(branch, tail) for branch in branches)
        tail = f"join_{len(steps)}"
        steps.append(_join(tail, branches))
    return {
        "name": f"Benchmark {size:,} steps",
        "inputs": {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]},
        "outputs": {"last": f"{{{{ steps.{tail}.output }}}}"},
        "steps": steps,
    }


def normalize_and_validate(raw: dict[str, Any]) -> list[str]:
    return definition_errors(definition_normalize(raw))


def _timed(raw: dict[str, Any]) -> tuple[float, float]:
    """(wall, cpu) seconds of one normalize + validate."""
    analyze.cache_clear()  # a warm template cache would flatter every run after the first
    started, started_cpu = time.perf_counter(), time.process_time()
    errors = normalize_and_validate(raw)
    elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    if errors:
        raise AssertionError(f"the benchmark definition is invalid: {errors[:3]}")
    return elapsed, elapsed_cpu


def run() -> list[Measurement]:
    ten_k = build_definition(10_000)
    runs = [_timed(ten_k) for _ in range(3)]
    hundred_k = build_definition(100_000)
    wall, cpu = _timed(hundred_k)
    return [
        Measurement(
            "steps_10000",
            "validation 10,000 steps",
            statistics.median(r[0] for r in runs),
            runs=3,
            target_seconds=TARGET_10K_SECONDS,
            cpu_seconds=statistics.median(r[1] for r in runs),
        ),
        Measurement("steps_100000", "validation 100,000 steps", wall, runs=1, cpu_seconds=cpu),
    ]
