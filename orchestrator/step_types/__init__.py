"""Step types: one module per type, each registering itself in ``registry``.

Importing this package registers every type, in the order of ``_MODULES``, which
is the order the node-types API lists them in. ``execution`` is the contract between
a type and the engine: what ``execute`` receives (``StepContext``) and may answer
(an output, ``StepError``, or ``Suspend``/``FanOut``/``StartChild`` instructions).

May import: ``definitions.expressions``, ``security``, and (lazily, for credentials)
``integrations.step_calls``. Never the engine.
"""

from importlib import import_module

from orchestrator.step_types.base import StepType
from orchestrator.step_types.registry import AlreadyRegistered, registry

_MODULES = (
    "trigger",
    "http",
    "webhook",
    "script",
    "agent",
    "condition",
    "loop",
    "wait",
    "transform",
    "integration",
    "sub_workflow",
)
for _module in _MODULES:
    import_module(f"{__name__}.{_module}")

__all__ = ["AlreadyRegistered", "StepType", "registry"]
