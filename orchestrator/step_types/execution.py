"""What a step type's ``execute`` receives and may answer.

A step type returns its output, or one of the instructions below for steps the
scheduler must hold without holding a worker: ``Suspend`` (wait), ``FanOut``
(loop) and ``StartChild`` (sub_workflow). Failures raise ``StepError`` with a
``kind`` that retry policies match (``retry_on``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ERROR_KINDS = ("network", "timeout", "5xx", "4xx", "429", "error")


def status_kind(status_code: int) -> str:
    """The retry_on kind of an HTTP status that is not a success."""
    if status_code == 429:
        return "429"
    if status_code >= 500:
        return "5xx"
    if status_code >= 400:
        return "4xx"
    return "error"


class StepError(Exception):
    def __init__(self, message: str, *, kind: str = "error", output: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind if kind in ERROR_KINDS else "error"
        self.output = output


@dataclass
class Suspend:
    """Hold the step in ``waiting`` until ``due_at`` or until ``signal`` arrives."""

    due_at: datetime | None = None
    signal: str = ""
    output: Any = None


@dataclass
class FanOut:
    """Run ``step`` once per item (as tasks), at most ``max_concurrency`` at a time."""

    items: list
    step: dict
    max_concurrency: int = 10
    fail_fast: bool = True


@dataclass
class StartChild:
    """Start a run of another workflow of the tenant; finish with its outputs."""

    workflow_id: str
    inputs: dict
    wait: bool = True


@dataclass
class StepContext:
    run_id: str
    step_run_id: str
    step_id: str
    tenant_id: str
    workflow_id: str
    attempt: int
    timeout_seconds: int
    # The template context the config was rendered over (condition fields, loop items, script stdin).
    context: dict = field(default_factory=dict)
    cancelled: threading.Event = field(default_factory=threading.Event)
    log_lines: list[str] = field(default_factory=list)

    def log(self, message: str) -> None:
        self.log_lines.append(message)
