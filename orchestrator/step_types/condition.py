from __future__ import annotations

import re
from typing import Any

from orchestrator.expressions import is_template
from orchestrator.step_types.base import StepType
from orchestrator.step_types.registry import registry
from orchestrator.step_types.schemas import step_id_list

OPERATORS = ["equals", "not_equals", "gt", "gte", "lt", "lte", "contains", "in", "exists", "matches"]


@registry.register
class ConditionStep(StepType):
    name = "condition"
    label = "Condition"
    category = "logic"
    description = (
        "Branch on an `expression` (a template expression, with or without {{ }}), or on `field` `operator` "
        "`value`, where `field` is `$.a.b` (the run input) or a context path such as `steps.<id>.output.a` or "
        "`input.a`. Steps listed in `then` run when the result is true, those in `else` when it is false; the "
        "branch not taken is skipped."
    )
    config_schema = {
        "type": "object",
        "properties": {
            "expression": {"type": ["string", "boolean"], "description": "e.g. steps.fetch.output.status_code == 200"},
            "field": {"type": "string", "minLength": 1, "description": "$.a.b, input.a or steps.<id>.output.a"},
            "operator": {
                "type": "string",
                "enum": OPERATORS,
                "errorMessage": "{value} is not an operator (" + ", ".join(OPERATORS) + ")",
            },
            "value": {"description": "Compared with the field; not needed for `exists`."},
            "then": step_id_list("Steps that run when the result is true."),
            "else": step_id_list("Steps that run when the result is false."),
        },
        "oneOf": [{"required": ["expression"]}, {"required": ["field"]}],
        "dependentRequired": {"field": ["operator"]},
        "errorMessage": {"oneOf": "needs either an 'expression', or a 'field' with an 'operator' (not both)"},
    }
    output_schema = {
        "type": "object",
        "required": ["result", "branch"],
        "properties": {"result": {"type": "boolean"}, "branch": {"type": "string", "enum": ["then", "else"]}},
    }
    examples = [
        {"field": "$.deployment.status", "operator": "equals", "value": "success"},
        {"expression": "steps.fetch.output.status_code == 200", "then": ["notify"], "else": ["alert"]},
        {"field": "steps.fetch.output.body.email", "operator": "matches", "value": "@example\\.com$"},
    ]

    @classmethod
    def config_problems(cls, config: dict[str, Any]) -> list[str]:
        value = config.get("value")
        if config.get("operator") == "matches" and isinstance(value, str) and not is_template(value):
            try:
                re.compile(value)
            except re.error as exc:
                return [f"{value!r} is not a valid regular expression ({exc}) at config.value"]
        return []
