from __future__ import annotations

from orchestrator.step_types.base import StepType
from orchestrator.step_types.execution import StepContext
from orchestrator.step_types.registry import registry
from orchestrator.step_types.schemas import positive_integer, templated


@registry.register
class AgentTaskStep(StepType):
    name = "agent_task"
    label = "AI agent task"
    category = "ai"
    description = (
        "Ask a language model to reach a goal, through an OpenAI-compatible chat-completions endpoint. "
        "`agent_id` names an integration of type llm by ID or name (without it, the tenant's only llm "
        "integration); with no provider configured the step fails with a clear error. The output holds the "
        "answer as `text` (and parsed as `json` when response_format is json) and the token `usage`."
    )
    config_schema = {
        "type": "object",
        "required": ["goal"],
        "properties": {
            "goal": {"type": "string", "minLength": 1, "description": "What the agent must do."},
            "agent_id": {"type": "string", "minLength": 1, "description": "An integration of type llm (ID or name)."},
            "model": {"type": "string", "minLength": 1, "description": "Overrides the integration's model."},
            "system_prompt": {"type": "string"},
            "input": {"description": "Data handed to the model (any value, usually a template)."},
            "response_format": {"type": "string", "enum": ["text", "json"], "default": "text"},
            "temperature": templated({"type": "number", "minimum": 0, "maximum": 2}, "a number from 0 to 2"),
            "max_tokens": positive_integer("Upper bound on the answer's tokens.", maximum=1_000_000),
        },
    }
    output_schema = {
        "type": "object",
        "required": ["text", "model", "usage"],
        "properties": {
            "text": {"type": "string", "description": "The model's answer."},
            "json": {"description": "The answer parsed, when response_format is json."},
            "model": {"type": "string"},
            "usage": {
                "type": "object",
                "properties": {
                    "prompt_tokens": {"type": "integer"},
                    "completion_tokens": {"type": "integer"},
                    "total_tokens": {"type": "integer"},
                },
            },
            "finish_reason": {"type": ["string", "null"]},
            "integration_id": {"type": "string"},
        },
    }
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
        from integrations.step_calls import integration_llm_call

        return integration_llm_call(ctx, config)
