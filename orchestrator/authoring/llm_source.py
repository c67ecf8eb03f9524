"""The ``llm`` source of parse and generate: ask the tenant's ``llm`` integration (an
OpenAI-compatible chat-completions API) for a workflow definition.

The prompt carries a JSON Schema of the answer built from the step-type registry (each
type's config schema), the tools the caller offers, and the rules of our templates. The
answer is checked like any definition (normalize + validate, and the schedule like the
schedules API checks one); when it fails, the problems are sent back once for a repair.
A second failure, or a provider error, raises ``LlmFailed`` and parse falls back to the
rules. The integration's secrets never reach a note, an error or a log line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from orchestrator.definitions import definition_errors, definition_normalize
from orchestrator.errors import DomainError
from orchestrator.models import Tenant
from orchestrator.security.redaction import redact_text
from orchestrator.step_types import registry

TIMEOUT_SECONDS = 60.0
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL | re.IGNORECASE)


class LlmFailed(Exception):
    """The model gave no usable definition (provider error, or invalid twice); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class LlmResult:
    definition: dict  # normalized and valid, with name and description
    schedule: dict | None
    confidence: float
    notes: list[str] = field(default_factory=list)
    model: str = ""
    integration_id: str = ""
    rounds: int = 1


def _without_messages(schema: Any) -> Any:
    """A config schema without our ``errorMessage`` annotations (not JSON Schema)."""
    if isinstance(schema, dict):
        return {k: _without_messages(v) for k, v in schema.items() if k != "errorMessage"}
    if isinstance(schema, list):
        return [_without_messages(v) for v in schema]
    return schema


@cache
def answer_schema() -> dict:
    """The JSON Schema of the answer: a definition whose steps are one of the registered types."""
    step_kinds = []
    for step_type in registry.all():
        if not step_type.enabled() or step_type.name in ("manual_trigger", "sub_workflow"):
            continue
        step_kinds.append(
            {
                "type": "object",
                "required": ["id", "type", "config"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$"},
                    "type": {"const": step_type.name},
                    "name": {"type": "string"},
                    "depends_on": {"type": "array", "items": {"type": "string"}},
                    "config": _without_messages(step_type.config_schema),
                    "trigger_rule": {"enum": ["all_success", "all_done", "none_failed", "one_success", "one_failed"]},
                    "continue_on_error": {"type": "boolean"},
                },
            }
        )
    return {
        "type": "object",
        "required": ["name", "description", "steps"],
        "properties": {
            "name": {"type": "string", "maxLength": 120},
            "description": {"type": "string"},
            "inputs": {"type": "object", "description": "JSON Schema of the run input (type object)."},
            "schedule": {
                "type": ["object", "null"],
                "required": ["cron_expression", "timezone"],
                "properties": {"cron_expression": {"type": "string"}, "timezone": {"type": "string"}},
            },
            "steps": {"type": "array", "minItems": 1, "items": {"oneOf": step_kinds}},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        },
    }


def _system_prompt(tools: list[str]) -> str:
    types = "\n".join(
        f"- {t.name}: {t.description}" for t in registry.all() if t.enabled() and t.name != "manual_trigger"
    )
    tool_text = (
        "Tools the user has (use an `integration` step with config.action set to the tool name, params in "
        f"config.params): {', '.join(tools)}."
        if tools
        else "Besides slack.post_message, email.send and http.request, the user named no integration tools."
    )
    return (
        "You turn a request into a workflow definition for a workflow engine. Answer with one JSON object and "
        "nothing else, valid against this JSON Schema:\n"
        f"{json.dumps(answer_schema(), separators=(',', ':'))}\n\n"
        f"Step types:\n{types}\n\n{tool_text}\n\n"
        "Rules: steps run in the order the request states them, each listing the step before it in depends_on. "
        "Config strings may be templates: {{ input.<name> }} reads the run input, {{ steps.<id>.output }} an "
        "earlier step's output (http_request output has status_code, headers, body; agent_task output has text). "
        "A condition lists the step ids of each branch in config.then / config.else. Put a schedule only when the "
        "request states one: a 5-field cron and an IANA timezone (UTC unless a place or zone is named). Values the "
        "request does not give (addresses, URLs) become run inputs described in `inputs`."
    )


def _parse_answer(text: str) -> dict:
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1)
    try:
        answer = json.loads(body)
    except ValueError:
        start, end = body.find("{"), body.rfind("}")
        if start < 0 or end <= start:
            raise ValueError("the answer is not JSON") from None
        answer = json.loads(body[start : end + 1])
    if not isinstance(answer, dict):
        raise ValueError("the answer is not a JSON object")
    return answer


def _problems(answer: dict) -> tuple[dict, dict | None, list[str]]:
    """(normalized definition, schedule, every problem) of an answer."""
    from workflows.schedules import schedule_problems

    raw = {k: answer.get(k) for k in ("name", "description", "inputs", "outputs", "steps", "nodes", "edges")}
    definition = definition_normalize({k: v for k, v in raw.items() if v is not None})
    problems = list(definition_errors(definition))
    if not definition.get("steps"):
        problems.append("The definition has no steps.")
    if not isinstance(answer.get("name"), str) or not answer["name"].strip():
        problems.append("name must be a non-empty string.")
    schedule = answer.get("schedule")
    if schedule not in (None, {}, False):
        if not isinstance(schedule, dict):
            problems.append("schedule must be an object with cron_expression and timezone, or null.")
            schedule = None
        else:
            schedule = {"cron_expression": schedule.get("cron_expression"), "timezone": schedule.get("timezone", "UTC")}
            problems += [
                f"schedule.{p['field']}: {p['message']}"
                for p in schedule_problems(
                    cron_expression=schedule["cron_expression"], tz_name=schedule["timezone"], policy="skip"
                )
            ]
    else:
        schedule = None
    return definition, schedule, problems


def llm_integration_find(*, tenant: Tenant, ref: str | None = None) -> Any:
    """The llm integration to ask: the one ``ref`` names (ID or name; must be llm), else the tenant's
    only one (or its oldest of several); None when the tenant has none."""
    from integrations.models import Integration
    from integrations.selectors import integration_get_by_ref
    from orchestrator.errors import ValidationFailed

    if ref:
        found = integration_get_by_ref(tenant_id=tenant.id, ref=ref)
        if found.type != "llm":
            raise ValidationFailed(
                f"context.integration_id must name an llm integration; {ref!r} is of type {found.type}.",
                details=[{"field": "context.integration_id", "message": "Not an llm integration."}],
            )
        return found
    return Integration.objects.filter(tenant=tenant, type="llm").order_by("created_at", "id").first()


def parse_llm(*, integration: Any, instruction: str, tools: list[str]) -> LlmResult:
    """Ask the model; one repair round; raises LlmFailed."""
    from integrations.providers import llm
    from integrations.schemas import secret_values
    from integrations.services import integration_config
    from orchestrator.step_types.execution import StepError

    try:
        config = integration_config(integration=integration)
    except DomainError as exc:
        raise LlmFailed(exc.message) from None
    secrets = secret_values("llm", config)
    messages = [
        {"role": "system", "content": _system_prompt(tools)},
        {"role": "user", "content": instruction},
    ]
    problems: list[str] = []
    model = ""
    for round_number in (1, 2):
        try:
            answer = llm.chat(
                config, messages=messages, secrets=secrets, timeout=TIMEOUT_SECONDS, temperature=0, json_mode=True
            )
        except StepError as exc:
            raise LlmFailed(redact_text(f"the model could not be asked: {exc.message}", secrets)) from None
        model = answer["model"]
        try:
            parsed = _parse_answer(answer["text"])
            definition, schedule, problems = _problems(parsed)
        except ValueError as exc:
            parsed, problems = {}, [f"Your answer could not be read: {exc}. Answer with one JSON object."]
        if not problems:
            notes = [
                f"Written by {model} through integration {integration.id}"
                + (" after one repair." if round_number > 1 else ".")
            ]
            confidence = 0.9 if round_number == 1 else 0.75
            stated = parsed.get("confidence")
            if isinstance(stated, int | float) and 0 <= stated <= 1:
                confidence = round(min(confidence, max(0.3, float(stated))), 2)
            return LlmResult(definition, schedule, confidence, notes, model, integration.id, round_number)
        messages += [
            {"role": "assistant", "content": answer["text"]},
            {
                "role": "user",
                "content": "That definition has these problems:\n- "
                + "\n- ".join(problems[:30])
                + "\nAnswer with the corrected JSON object only.",
            },
        ]
    raise LlmFailed(
        redact_text(
            f"{model or 'the model'} gave no valid definition after one repair: " + "; ".join(problems[:5]), secrets
        )
    )
