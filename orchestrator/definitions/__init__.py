"""Workflow definitions: normalization to the canonical form, validation, the step graph,
and ``expressions`` (the sandboxed template language of ``{{ … }}``).

May import: ``step_types`` (the registry the validator checks against) and ``errors``.
Never the engine or the API.
"""

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
