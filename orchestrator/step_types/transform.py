from __future__ import annotations

from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from orchestrator.definitions.expressions import is_template
from orchestrator.step_types.base import StepType
from orchestrator.step_types.execution import StepContext, StepError
from orchestrator.step_types.registry import registry


def _reason(exc: JMESPathError) -> str:
    position = getattr(exc, "lex_position", None)
    token = getattr(exc, "token_value", None)
    if token is None:
        return "it ends too early"
    return f"unexpected {token!r} at position {position}"


@registry.register
class TransformStep(StepType):
    inline = True
    name = "transform"
    label = "Transform"
    category = "data"
    description = (
        "Reshape data: a JMESPath `expression` searched over `data` (default: the context "
        "{input, steps, run}), or a templated `value`. The output is the result itself."
    )
    config_schema = {
        "type": "object",
        "properties": {
            "expression": {
                "type": "string",
                "minLength": 1,
                "description": "JMESPath, e.g. steps.fetch.output.body.items[].id",
            },
            "data": {"description": "What the expression searches (usually a template); default the context."},
            "value": {"description": "Any value; its templates are rendered."},
        },
        "oneOf": [{"required": ["expression"]}, {"required": ["value"]}],
        "errorMessage": {"oneOf": "needs exactly one of 'expression' (JMESPath) or 'value'"},
    }
    output_schema = {"description": "The result itself."}
    examples = [
        {"expression": "steps.fetch.output.body.items[?active].id"},
        {
            "value": {
                "count": "{{ steps.fetch.output.body.items | length }}",
                "first": "{{ steps.fetch.output.body.items[0] }}",
            }
        },
    ]

    @classmethod
    def config_problems(cls, config: dict[str, Any]) -> list[str]:
        expression = config.get("expression")
        if isinstance(expression, str) and not is_template(expression):
            try:
                jmespath.compile(expression)
            except JMESPathError as exc:
                return [f"{expression!r} is not a valid JMESPath expression ({_reason(exc)}) at config.expression"]
        return []

    def execute(self, ctx: StepContext, config: dict) -> Any:
        if "value" in config:
            return config["value"]  # already rendered: templates keep their types
        data = config["data"] if "data" in config else ctx.context
        try:
            return jmespath.search(config["expression"], data)
        except JMESPathError as exc:
            raise StepError(f"JMESPath {config['expression']!r} failed: {exc}") from exc
