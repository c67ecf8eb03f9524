"""Where steps meet the tenant's integrations (credentials).

The step types call these; they load the integration of the run's tenant, decrypt its
config, call the provider module (integrations/providers/), and make sure no secret
of it comes back in an output, a log line or an error: every string is scrubbed of the
integration's secret values before it leaves this module.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from orchestrator.errors import DomainError
from orchestrator.security.netguard import HttpResult
from orchestrator.security.redaction import redact_text
from orchestrator.step_types.execution import StepContext, StepError

DEFAULT_SYSTEM_PROMPT = (
    "You are an agent inside a workflow. Reach the goal you are given, using the input when there is one. "
    "Answer with the result only."
)
JSON_INSTRUCTION = "Answer with a single JSON value and nothing else (no prose, no code fences)."
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL | re.IGNORECASE)


def _load(ctx: StepContext, ref: str | None, type_name: str, purpose: str) -> tuple[Any, dict, list[str]]:
    """(integration, decrypted config, its secret values) for the run's tenant."""
    from integrations.schemas import secret_values
    from integrations.selectors import integration_for_step
    from integrations.services import integration_config

    try:
        integration = integration_for_step(tenant_id=ctx.tenant_id, ref=ref, type=type_name, purpose=purpose)
        config = integration_config(integration=integration)
    except DomainError as exc:
        raise StepError(exc.message) from None
    return integration, config, secret_values(type_name, config)


@contextmanager
def _masking(secrets: list[str]) -> Iterator[None]:
    """Errors leaving the block carry no secret (their message and output are scrubbed)."""
    from integrations.providers.transport import scrub

    try:
        yield
    except SoftTimeLimitExceeded:
        raise
    except StepError as exc:
        raise StepError(redact_text(exc.message, secrets), kind=exc.kind, output=scrub(exc.output, secrets)) from None
    except Exception as exc:  # a provider bug still fails the step, without its secrets
        raise StepError(redact_text(f"{type(exc).__name__}: {exc}", secrets)) from None


def _http_view(integration: Any, config: dict) -> dict:
    """Any integration with a base URL and a token, seen as an ``http`` integration."""
    if integration.type == "http":
        return config
    if integration.type == "llm":
        from integrations.providers.llm import base_url

        return {"base_url": base_url(config), "auth_type": "bearer", "token": config["api_key"]}
    if integration.type == "slack":
        from integrations.providers.slack import base_url

        return {"base_url": base_url(config), "auth_type": "bearer", "token": config.get("token", "")}
    raise StepError(f"Integration {integration.id!r} is of type {integration.type}, which gives no HTTP auth.")


def _load_for_http(ctx: StepContext, integration_id: str) -> tuple[Any, dict, list[str]]:
    from integrations.schemas import secret_values
    from integrations.selectors import integration_get_by_ref

    try:
        integration = integration_get_by_ref(tenant_id=ctx.tenant_id, ref=integration_id)
    except DomainError as exc:
        raise StepError(exc.message) from None
    _, config, _ = _load(ctx, integration.id, integration.type, "http_request")
    http_config = _http_view(integration, config)
    return integration, http_config, secret_values("http", http_config) + secret_values(integration.type, config)


def integration_http_auth(
    ctx: StepContext, integration_id: str, url: str, headers: dict[str, str]
) -> tuple[str, dict[str, str]]:
    """``url`` resolved against the integration's base URL, and ``headers`` with its auth added."""
    from integrations.providers import http as provider

    _, config, secrets = _load_for_http(ctx, integration_id)
    with _masking(secrets):
        auth = provider.auth_headers(config)
        kept = {k: v for k, v in headers.items() if k.lower() not in {a.lower() for a in auth}}
        return provider.resolve_url(config, url), kept | auth


def integration_http_call(ctx: StepContext, integration_id: str, method: str, url: str, **kwargs: Any) -> HttpResult:
    """An ``http_request`` step's call with the integration's auth: ``url`` may be relative to its
    ``base_url``; the credentials never follow a redirect to another origin; the result is scrubbed."""
    from integrations.providers import http as provider

    integration, config, secrets = _load_for_http(ctx, integration_id)
    ctx.log(f"auth from integration {integration.id} ({integration.type})")
    with _masking(secrets):
        return provider.call(config, method, url, secrets=secrets, **kwargs)


def _parse_json_answer(text: str) -> Any:
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1)
    try:
        return json.loads(body)
    except ValueError:
        preview = text.strip().replace("\n", " ")[:200]
        raise StepError(f"The model's answer is not valid JSON (response_format is json): {preview!r}") from None


def _messages(config: dict) -> list[dict]:
    json_mode = config.get("response_format") == "json"
    system = str(config.get("system_prompt") or DEFAULT_SYSTEM_PROMPT)
    if json_mode:
        system = f"{system}\n\n{JSON_INSTRUCTION}"
    user = str(config["goal"])
    given = config.get("input")
    if given is not None and given != "":
        text = given if isinstance(given, str) else json.dumps(given, ensure_ascii=False, default=str)
        user = f"{user}\n\nInput:\n{text}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _number(value: Any, name: str, cast: type) -> Any:
    if value is None or value == "":
        return None
    try:
        return cast(value)
    except (TypeError, ValueError):
        raise StepError(f"{name} must be a number, not {value!r}.") from None


def integration_llm_call(ctx: StepContext, config: dict) -> dict:
    """An ``agent_task``: one chat completion through the tenant's llm integration →
    ``{text, json?, model, usage, finish_reason, integration_id}``."""
    from integrations.providers import llm
    from integrations.providers.transport import scrub

    integration, settings_, secrets = _load(ctx, config.get("agent_id"), "llm", "agent_task")
    json_mode = config.get("response_format") == "json"
    with _masking(secrets):
        answer = llm.chat(
            settings_,
            messages=_messages(config),
            secrets=secrets,
            timeout=float(ctx.timeout_seconds),
            model=config.get("model") or None,
            temperature=_number(config.get("temperature"), "temperature", float),
            max_tokens=_number(config.get("max_tokens"), "max_tokens", int),
            json_mode=json_mode,
        )
        usage = answer["usage"]
        ctx.log(
            f"llm {answer['model']} via {integration.id}: {usage['prompt_tokens']} prompt + "
            f"{usage['completion_tokens']} completion = {usage['total_tokens']} tokens"
        )
        output = {"text": answer["text"]}
        if json_mode:
            output["json"] = _parse_json_answer(answer["text"])
        output.update(
            model=answer["model"],
            usage=usage,
            finish_reason=answer["finish_reason"],
            integration_id=integration.id,
        )
        return scrub(output, secrets)


def _action_params(config: dict) -> dict:
    """``params`` over the config's other keys (the seed documents put them there)."""
    params = config.get("params")
    if params is not None and not isinstance(params, dict):
        raise StepError(f"params must be an object, not {type(params).__name__}.")
    extra = {k: v for k, v in config.items() if k not in ("integration_id", "action", "params")}
    return {**extra, **(params or {})}


def integration_action(ctx: StepContext, config: dict) -> object:
    """An ``integration`` step: ``action`` through the integration of its provider."""
    from integrations.providers import ACTIONS
    from integrations.providers.transport import scrub

    action = str(config.get("action") or "")
    if action not in ACTIONS:
        raise StepError(f"Unknown action {action!r}; known actions: {', '.join(sorted(ACTIONS))}.")
    type_name, run = ACTIONS[action]
    integration, settings_, secrets = _load(ctx, config.get("integration_id"), type_name, action)
    with _masking(secrets):
        output = run(settings_, _action_params(config), secrets=secrets, timeout=float(ctx.timeout_seconds))
        ctx.log(f"{action} via {integration.id} ({integration.name})")
        return scrub(output, secrets)
