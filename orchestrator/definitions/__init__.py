"""Workflow definitions: normalization to the canonical form, validation, and the step graph."""

from orchestrator.definitions.graph import CycleError, downstream_of, sink_steps, topological_order, upstream_of
from orchestrator.definitions.normalize import definition_normalize
from orchestrator.definitions.validate import definition_errors

__all__ = [
    "CycleError",
    "definition_errors",
    "definition_normalize",
    "downstream_of",
    "sink_steps",
    "topological_order",
    "upstream_of",
]
