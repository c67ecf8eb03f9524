from __future__ import annotations

import re
from typing import Any

from orchestrator.definitions.expressions import ExpressionError, evaluate, is_template
from orchestrator.step_types.base import StepType
from orchestrator.step_types.execution import StepContext, StepError
from orchestrator.step_types.registry import registry
from orchestrator.step_types.schemas import step_id_list

OPERATORS = ["equals", "not_equals", "gt", "gte", "lt", "lte", "contains", "in", "exists", "matches"]


@registry.register
class ConditionStep(StepType):
    inline = True
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

    def execute(self, ctx: StepContext, config: dict) -> dict:
        if "expression" in config:
            expression = config["expression"]
            result = evaluate(expression, ctx.context) if isinstance(expression, str) else expression
        else:
            result = _compare(_field_value(config["field"], ctx.context), config["operator"], config.get("value"))
        result = bool(result)
        return {"result": result, "branch": "then" if result else "else"}


_MISSING = object()


def _field_value(field: str, context: dict) -> Any:
    """``$.a.b`` reads the run input; ``input.a`` / ``steps.x.output.a`` read the context."""
    if field.startswith("$"):
        path, current = field.lstrip("$").lstrip("."), context.get("input", {})
    else:
        path, current = field, context
    for part in [p for p in re.split(r"\.|\[(\d+)\]", path) if p]:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def _compare(left: Any, operator: str, right: Any) -> bool:
    if operator == "exists":
        return left is not _MISSING and left is not None
    if left is _MISSING:
        return False
    try:
        if operator == "equals":
            return left == right
        if operator == "not_equals":
            return left != right
        if operator in ("gt", "gte", "lt", "lte"):
            a, b = (float(left), float(right)) if _numeric(left, right) else (left, right)
            return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[operator]
        if operator == "contains":
            return right in left
        if operator == "in":
            return left in right
        if operator == "matches":
            return re.search(str(right), str(left)) is not None
    except (TypeError, ValueError, ExpressionError) as exc:
        raise StepError(f"Cannot compare {left!r} {operator} {right!r}: {exc}") from exc
    raise StepError(f"Unknown operator {operator!r}.")


def _numeric(*values: Any) -> bool:
    try:
        [float(v) for v in values]
    except (TypeError, ValueError):
        return False
    return not any(isinstance(v, bool) for v in values)
