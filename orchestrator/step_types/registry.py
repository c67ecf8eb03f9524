"""A keyed registry of step types: validation, the node-types API and the executor all read it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.step_types.base import StepType


class AlreadyRegistered(Exception):
    """Two step types claimed the same name; the second would silently shadow the first."""


class StepTypeRegistry:
    def __init__(self) -> None:
        self._types: dict[str, type[StepType]] = {}

    def register(self, step_type: type[StepType]) -> type[StepType]:
        """Add a step type; usable as a class decorator. Refuses a name already taken."""
        name = getattr(step_type, "name", "")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{step_type.__name__} has no name")
        if name in self._types:
            raise AlreadyRegistered(f"step type {name!r} is already registered by {self._types[name].__name__}")
        self._types[name] = step_type
        return step_type

    def get(self, name: str) -> type[StepType] | None:
        return self._types.get(name) if isinstance(name, str) else None

    def all(self) -> list[type[StepType]]:
        """Every registered type, in registration order."""
        return list(self._types.values())

    def names(self) -> list[str]:
        return list(self._types)

    def __contains__(self, name: object) -> bool:
        return name in self._types


registry = StepTypeRegistry()
