"""Shared JSON Schema pieces for step configs.

Most config values may be templates that only become typed at run time
(``"seconds": "{{ input.delay }}"``), so typed fields accept a template string too.
``errorMessage`` (the ajv-errors convention) gives such unions a sentence people
can read instead of "is not valid under any of the given schemas"; validation uses it.
A string applies to any failed keyword of the schema carrying it, a dict maps one
keyword to its sentence; ``{value}`` stands for the offending value.
"""

from __future__ import annotations

from typing import Any

# A string holding Jinja markup; what it yields is checked when the step runs.
TEMPLATE: dict[str, Any] = {"type": "string", "pattern": r"\{\{|\{%", "description": "A {{ template }}."}


def templated(schema: dict[str, Any], what: str) -> dict[str, Any]:
    """``schema`` or a template string; ``what`` names the expected value for the error message."""
    return {
        "anyOf": [schema, TEMPLATE],
        "errorMessage": f"{{value}} is not {what} or a {{{{ template }}}}",
        **({"description": schema["description"]} if "description" in schema else {}),
    }


def string_map(description: str) -> dict[str, Any]:
    """An object of scalar values (headers, query, form fields), or a template yielding one."""
    return templated(
        {
            "type": "object",
            "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
            "description": description,
        },
        "an object of text values",
    )


def positive_number(description: str, maximum: float | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "number", "exclusiveMinimum": 0, "description": description}
    if maximum is not None:
        schema["maximum"] = maximum
    return templated(schema, "a positive number" + (f" up to {maximum:g}" if maximum is not None else ""))


def positive_integer(description: str, maximum: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": 1, "description": description}
    if maximum is not None:
        schema["maximum"] = maximum
    return templated(schema, "a positive integer" + (f" up to {maximum:,}" if maximum is not None else ""))


def step_id_list(description: str) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "uniqueItems": True,
        "description": description,
    }
