from __future__ import annotations

from orchestrator.step_types.base import StepType
from orchestrator.step_types.execution import StartChild, StepContext, StepError
from orchestrator.step_types.registry import registry
from orchestrator.step_types.schemas import templated


@registry.register
class SubWorkflowStep(StepType):
    name = "sub_workflow"
    label = "Sub-workflow"
    category = "action"
    description = (
        "Run another workflow of the tenant with `input`. With `wait` (default) the step ends with the child "
        "run and its output is the child's outputs; without, it ends at once with the child's run id."
    )
    config_schema = {
        "type": "object",
        "required": ["workflow_id"],
        "properties": {
            "workflow_id": {"type": "string", "minLength": 1},
            "input": templated({"type": "object"}, "an object"),
            "wait": {"type": "boolean", "default": True},
        },
    }
    output_schema = {
        "type": "object",
        "description": 'The child run\'s outputs; {"run_id"} when wait is false.',
    }
    examples = [{"workflow_id": "wf_abc123", "input": {"customer_id": "{{ input.customer_id }}"}}]

    def execute(self, ctx: StepContext, config: dict) -> StartChild:
        inputs = config.get("input") or {}
        if not isinstance(inputs, dict):
            raise StepError("config.input must be an object.")
        return StartChild(workflow_id=str(config["workflow_id"]), inputs=inputs, wait=bool(config.get("wait", True)))
