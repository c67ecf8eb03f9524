from __future__ import annotations

from orchestrator.step_types.base import StepType
from orchestrator.step_types.execution import StepContext
from orchestrator.step_types.registry import registry


@registry.register
class ManualTriggerStep(StepType):
    """The entry node visual editors put first; runs start through the API, schedules or webhooks."""

    name = "manual_trigger"
    label = "Manual trigger"
    category = "trigger"
    description = "Marks where a run starts. Does nothing; its output is the run input. Its config is free-form."
    config_schema = {"type": "object"}
    output_schema = {"description": "The run input."}
    examples = [{}, {"triggerType": "Manual"}]

    def execute(self, ctx: StepContext, config: dict) -> dict:
        """A trigger node starts the flow: its output is the run input."""
        return ctx.context.get("input", {})
