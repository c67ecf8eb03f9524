"""Where steps meet the tenant's integrations (credentials)."""

from __future__ import annotations

from orchestrator.execution import StepContext, StepError


def _missing(integration_id: str) -> StepError:
    return StepError(f"Integration {integration_id!r} was not found in this tenant.")


def integration_http_auth(
    ctx: StepContext, integration_id: str, url: str, headers: dict[str, str]
) -> tuple[str, dict[str, str]]:
    raise _missing(integration_id)


def integration_llm_call(ctx: StepContext, config: dict) -> object:
    raise _missing(str(config.get("agent_id")))


def integration_action(ctx: StepContext, config: dict) -> object:
    raise _missing(str(config.get("integration_id")))
