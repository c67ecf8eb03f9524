from __future__ import annotations

from orchestrator.step_types.base import StepType
from orchestrator.step_types.execution import StepContext
from orchestrator.step_types.registry import registry
from orchestrator.step_types.schemas import templated


@registry.register
class IntegrationStep(StepType):
    name = "integration"
    label = "Integration action"
    category = "action"
    description = (
        "Run a provider action (`slack.post_message`, `email.send`, `http.request`, …) through one of the "
        "tenant's integrations. Parameters go in `params`; keys given directly in the config are parameters "
        "too (`params` wins). `integration_id` takes an integration's ID or name; without it the tenant's only "
        "integration of the provider's type is used (slack; smtp for email.*; http). A missing integration is "
        "an error when the step runs, not when the workflow is saved. slack.post_message: channel, text (or "
        "message), blocks, thread_ts → Slack's answer. email.send: to, subject, body, html, cc, bcc, reply_to → "
        "{accepted, refused, message_id}. http.request: method, path, headers, query, json/body/form, "
        "expected_status → {status_code, headers, body}."
    )
    config_schema = {
        "type": "object",
        "required": ["action"],
        "properties": {
            "integration_id": {"type": "string", "minLength": 1},
            "action": {
                "type": "string",
                "pattern": r"^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)+$",
                "errorMessage": "{value} is not an action like 'slack.post_message' (provider.action)",
            },
            "params": templated({"type": "object"}, "an object"),
        },
        "additionalProperties": True,
    }
    output_schema = {"description": "The provider's answer."}
    examples = [
        {"action": "slack.post_message", "channel": "#deployments", "message": "Deployment completed successfully!"},
        {
            "integration_id": "int_smtp",
            "action": "email.send",
            "params": {"to": "{{ input.email }}", "subject": "Your report", "body": "{{ steps.report.output }}"},
        },
    ]

    def execute(self, ctx: StepContext, config: dict) -> object:
        from integrations.step_calls import integration_action

        return integration_action(ctx, config)
