from __future__ import annotations

from orchestrator.execution import StepContext, StepError
from orchestrator.step_types.base import StepType
from orchestrator.step_types.registry import registry
from orchestrator.step_types.schemas import positive_integer, templated


@registry.register
class AgentTaskStep(StepType):
    name = "agent_task"
    label = "AI agent task"
    category = "ai"
    description = (
        "Ask a language model to reach a goal, through an OpenAI-compatible chat-completions endpoint. "
        "`agent_id` names an integration of type llm (else the tenant's default llm integration); with no "
        "provider configured the step fails with a clear error. Token usage is recorded."
    )
    config_schema = {
        "type": "object",
        "required": ["goal"],
        "properties": {
            "goal": {"type": "string", "minLength": 1, "description": "What the agent must do."},
            "agent_id": {"type": "string", "minLength": 1, "description": "An integration of type llm."},
            "model": {"type": "string", "minLength": 1, "description": "Overrides the integration's model."},
            "system_prompt": {"type": "string"},
            "input": {"description": "Data handed to the model (any value, usually a template)."},
            "response_format": {"type": "string", "enum": ["text", "json"], "default": "text"},
            "temperature": templated({"type": "number", "minimum": 0, "maximum": 2}, "a number from 0 to 2"),
            "max_tokens": positive_integer("Upper bound on the answer's tokens.", maximum=1_000_000),
        },
    }
    output_schema = {"description": "The model's answer: text, or the parsed JSON value when response_format is json."}
    examples = [
        {"agent_id": "agent_123", "goal": "Summarize the fetched data and post to Slack"},
        {
            "goal": "Classify the ticket",
            "input": "{{ steps.fetch.output.body }}",
            "system_prompt": 'Answer with {"label": "bug"|"question"}.',
            "response_format": "json",
            "temperature": 0,
            "max_tokens": 200,
        },
    ]

    def execute(self, ctx: StepContext, config: dict) -> object:
        from orchestrator.integration_auth import integration_llm_call

        if not config.get("agent_id"):
            raise StepError("No LLM provider configured for this step: set agent_id to an integration of type llm.")
        return integration_llm_call(ctx, config)
