"""The step type contract: what a type declares so validation and the node-types API can read it.

Executors are attached by the engine; this class only describes.
"""

from __future__ import annotations

from typing import Any, ClassVar


class StepType:
    name: ClassVar[str] = ""  # the key used in definitions ("http_request")
    label: ClassVar[str] = ""  # human name; derived from ``name`` when empty
    category: ClassVar[str] = "action"
    description: ClassVar[str] = ""
    config_schema: ClassVar[dict[str, Any]] = {"type": "object"}
    output_schema: ClassVar[dict[str, Any]] = {}
    examples: ClassVar[list[dict[str, Any]]] = []
    # Config keys the engine passes through unrendered (a loop renders its inner step per item).
    raw_config_keys: ClassVar[tuple[str, ...]] = ()
    # Pure and quick (no I/O): executed inside the claiming transaction, one commit per step.
    inline: ClassVar[bool] = False

    @classmethod
    def enabled(cls) -> bool:
        return True

    @classmethod
    def disabled_reason(cls) -> str:
        """Why the type is off and how to turn it on; empty when enabled."""
        return ""

    @classmethod
    def human_name(cls) -> str:
        return cls.label or cls.name.replace("_", " ").capitalize()

    @classmethod
    def config_problems(cls, config: dict[str, Any]) -> list[str]:
        """Problems a JSON Schema cannot express (a JMESPath that does not parse, …).

        Each is a phrase completed by validation as "Step 'x' config: <problem>".
        Called only on configs that already pass ``config_schema``.
        """
        return []

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "type": cls.name,
            "name": cls.human_name(),
            "category": cls.category,
            "description": cls.description,
            "enabled": cls.enabled(),
            "config_schema": cls.config_schema,
            "output_schema": cls.output_schema,
            "examples": cls.examples,
        }
