from __future__ import annotations

from orchestrator.execution import StepContext, StepError
from orchestrator.step_types.base import StepType
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
        "too (`params` wins). Without `integration_id` the tenant's integration for the provider is used; a "
        "missing integration is an error when the step runs, not when the workflow is saved."
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
        from orchestrator.integration_auth import integration_action

        if not config.get("integration_id"):
            raise StepError(f"Action {config.get('action')!r} needs an integration_id naming a configured integration.")
        return integration_action(ctx, config)
