from __future__ import annotations

from typing import Any, ClassVar

from orchestrator.definitions.expressions import evaluate
from orchestrator.step_types.base import StepType
from orchestrator.step_types.execution import FanOut, StepContext, StepError
from orchestrator.step_types.registry import registry
from orchestrator.step_types.schemas import TEMPLATE, positive_integer


@registry.register
class LoopStep(StepType):
    name = "loop"
    label = "Loop"
    category = "logic"
    description = (
        "Run an inner `step` (a type and a config using {{ item }} and {{ index }}) once per element of "
        "`items`. Iterations fan out as separate tasks, at most `max_concurrency` at a time; the output is the "
        "ordered list of iteration outputs. With `fail_fast` the first failed iteration fails the loop."
    )
    config_schema = {
        "type": "object",
        "required": ["items", "step"],
        "properties": {
            "items": {
                "anyOf": [{"type": "array"}, TEMPLATE],
                "errorMessage": "{value} is not a list or a {{ template }} yielding one",
            },
            "step": {
                "type": "object",
                "required": ["type"],
                "properties": {
                    "type": {"type": "string", "minLength": 1},
                    "config": {"type": "object"},
                },
            },
            "max_concurrency": positive_integer("Iterations running at once.", maximum=1000),
            "fail_fast": {"type": "boolean", "default": True},
        },
    }
    output_schema = {"type": "array", "description": "Iteration outputs, in the order of items."}
    examples = [
        {
            "items": "{{ steps.list_users.output.body.users }}",
            "step": {
                "type": "http_request",
                "config": {"method": "GET", "url": "https://api.example.com/users/{{ item.id }}"},
            },
            "max_concurrency": 5,
            "fail_fast": False,
        },
    ]

    # The inner step is rendered per iteration (with item and index), not here.
    raw_config_keys: ClassVar[tuple[str, ...]] = ("step",)

    def execute(self, ctx: StepContext, config: dict) -> FanOut:
        items: Any = config["items"]
        if isinstance(items, str):
            items = evaluate(items, ctx.context)
        if isinstance(items, dict):
            items = list(items.items())
        if not isinstance(items, list | tuple):
            raise StepError(f"config.items must yield a list, not {type(items).__name__}.")
        return FanOut(
            items=list(items),
            step=config["step"],
            max_concurrency=int(config.get("max_concurrency") or 10),
            fail_fast=bool(config.get("fail_fast", True)),
        )
