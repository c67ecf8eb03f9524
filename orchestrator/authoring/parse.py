"""Natural language → a workflow (``POST /api/workflows/parse``, SPEC 11, seed 004).

``workflow_parse`` tries three sources, best first:

- **template**: the instruction describes a template of the library (``templates.template_match``,
  score ≥ 0.6) clearly better than the rules understand it (by ``TEMPLATE_MARGIN``): that
  template, with the URLs, channels and addresses of the instruction in its inputs' defaults;
- **llm**: the tenant has an ``llm`` integration (or ``context.integration_id`` names one):
  the model writes the definition (``llm_source``); when it fails, the rules answer instead
  and a note says why;
- **rules**: always there, offline (``rules``).

``context.source`` may ask for one of them (``rules``, ``llm``, ``template``; default ``auto``).
The result always passes validation (``valid: true``) and is itself a definition:
``POST /api/workflows {"definition": <workflow>}`` creates it as it is. Its ``schedule``
(only when the instruction states one) is what ``POST /api/workflows/{id}/schedules`` takes.
"""

from __future__ import annotations

import copy
import re
import time
from typing import Any

from orchestrator.authoring.rules import (
    CHANNEL_RE,
    EMAIL_RE,
    URL_RE,
    NotUnderstood,
    Parsed,
    parse_rules,
)
from orchestrator.authoring.schedule_text import describe, schedule_from_text
from orchestrator.definitions import definition_errors, definition_normalize
from orchestrator.errors import DomainError, ValidationFailed
from orchestrator.models import Tenant

MIN_INSTRUCTION = 5
MAX_INSTRUCTION = 5000
TEMPLATE_THRESHOLD = 0.6
# The rules say exactly what was asked; a template wins only when the instruction names a template's
# purpose more than it spells out steps, i.e. when its score beats the rules' confidence by this much.
TEMPLATE_MARGIN = 0.1
SOURCES = ("auto", "rules", "llm", "template")


class NotValid(DomainError):
    """What a source built does not validate: a bug of ours, said plainly rather than returned."""

    code = "parse_invalid"
    status = 422


def context_check(context: Any) -> dict:
    """The parse context, checked: ``availableTools`` (list of names), ``integration_id``, ``source``."""
    if context is None:
        return {"availableTools": [], "source": "auto"}
    if not isinstance(context, dict):
        raise ValidationFailed(
            "context must be an object.", details=[{"field": "context", "message": "Must be a JSON object."}]
        )
    problems = []
    tools = context.get("availableTools", context.get("available_tools", [])) or []
    if not isinstance(tools, list) or not all(isinstance(t, str) and t.strip() for t in tools):
        problems.append({"field": "context.availableTools", "message": "Must be a list of tool names."})
        tools = []
    source = context.get("source", "auto") or "auto"
    if source not in SOURCES:
        problems.append({"field": "context.source", "message": f"Must be one of {', '.join(SOURCES)}."})
    integration_id = context.get("integration_id", context.get("integrationId"))
    if integration_id is not None and not (isinstance(integration_id, str) and integration_id.strip()):
        problems.append({"field": "context.integration_id", "message": "Must be an integration ID or name."})
    if problems:
        raise ValidationFailed("The parse context is not valid.", details=problems)
    return {**context, "availableTools": [t.strip() for t in tools], "source": source, "integration_id": integration_id}


def instruction_check(instruction: Any, field: str = "instruction") -> str:
    if not isinstance(instruction, str) or len(instruction.strip()) < MIN_INSTRUCTION:
        raise ValidationFailed(
            f"{field} must be at least {MIN_INSTRUCTION} characters.",
            details=[{"field": field, "message": f"At least {MIN_INSTRUCTION} characters are required."}],
        )
    if len(instruction) > MAX_INSTRUCTION:
        raise ValidationFailed(
            f"{field} may be at most {MAX_INSTRUCTION} characters.",
            details=[{"field": field, "message": f"At most {MAX_INSTRUCTION} characters."}],
        )
    return instruction.strip()


def _checked(definition: dict, source: str) -> dict:
    normalized = definition_normalize(definition)
    errors = definition_errors(normalized)
    if errors:
        raise NotValid(
            f"The {source} source built a definition that does not validate; please report this instruction.",
            details=errors,
        )
    return normalized


def _result(
    *,
    definition: dict,
    kind: str,
    source: str,
    confidence: float,
    schedule: dict | None,
    notes: list[str],
    trigger_type: str,
    extra: dict | None = None,
) -> dict:
    workflow: dict[str, Any] = {
        "type": kind,
        "name": definition.get("name", ""),
        "description": definition.get("description", ""),
        "inputs": definition.get("inputs", {"type": "object", "properties": {}}),
        "outputs": definition.get("outputs", {}),
        "steps": definition["steps"],
    }
    if definition.get("settings"):
        workflow["settings"] = definition["settings"]
    if schedule:
        workflow["schedule"] = schedule
    workflow.update(
        trigger_type=trigger_type,
        confidence=round(max(0.0, min(1.0, confidence)), 2),
        source=source,
        valid=True,
        notes=notes,
        **(extra or {}),
    )
    return workflow


def _from_rules(parsed: Parsed) -> dict:
    definition = _checked(parsed.definition(), "rules")
    return _result(
        definition=definition,
        kind="generated",
        source="rules",
        confidence=parsed.confidence,
        schedule=parsed.schedule.as_dict() if parsed.schedule else None,
        notes=parsed.notes,
        trigger_type=parsed.trigger_type,
    )


def _entity_text(instruction: str, schedule: Any) -> str:
    """The instruction without URLs, addresses, channels and schedule words: what templates are matched on."""
    text = instruction
    if schedule:
        for start, end in sorted(schedule.spans, reverse=True):
            text = text[:start] + " " + text[end:]
    for pattern in (URL_RE, EMAIL_RE, CHANNEL_RE):
        text = pattern.sub(" ", text)
    return text


def _fill_template_inputs(definition: dict, instruction: str) -> list[str]:
    """Put the instruction's URLs, channels and addresses into the template's inputs (their defaults)."""
    properties = (definition.get("inputs") or {}).get("properties") or {}
    filled = []
    urls = [u.rstrip(".,;:!?") for u in URL_RE.findall(instruction)]
    channels = ["#" + c for c in CHANNEL_RE.findall(instruction)]
    emails = EMAIL_RE.findall(instruction)
    repos = re.findall(r"\b([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)\b(?![^\s]*\.\w+/)", URL_RE.sub(" ", instruction))

    def fill(names: list[str], values: list[str], joiner: str | None = None) -> None:
        for name in names:
            if not values:
                return
            schema = properties[name]
            if schema.get("type") == "array":
                schema["default"] = list(values)
                values = []
            else:
                schema["default"] = joiner.join(values) if joiner else values.pop(0)
                values = [] if joiner else values
            filled.append(f"input {name!r} ← {schema['default']!r}")

    def named(pred) -> list[str]:
        return [n for n, s in properties.items() if pred(n.lower(), s)]

    fill(named(lambda n, s: n.endswith("url") or n.endswith("urls")), urls)
    fill(named(lambda n, s: "channel" in n), channels)
    fill(named(lambda n, s: "email" in n or n in ("recipients", "to")), emails, ", ")
    fill(named(lambda n, s: n == "repo"), [r for r in repos if "." not in r.split("/")[0]])
    return filled


def _from_template(template: Any, score: float, instruction: str) -> dict:
    definition = copy.deepcopy(template.full_definition())
    filled = _fill_template_inputs(definition, instruction)
    definition = _checked(definition, "template")
    schedule = schedule_from_text(instruction)
    notes = [f"Matched the template {template.name!r} ({template.slug or template.id})."]
    if filled:
        notes.append("From the instruction: " + "; ".join(filled) + ".")
    if template.integrations:
        slots = ", ".join(f"{slot['key']} ({slot['type']})" for slot in template.integrations)
        notes.append(f"It uses integrations {slots}: map them when installing the template.")
    if template.schedule and not schedule:
        suggested = template.schedule
        notes.append(
            f"The template suggests the schedule {suggested['cron_expression']} "
            f"({describe(suggested['cron_expression'], suggested.get('timezone', 'UTC'))})."
        )
    trigger_type = "schedule" if schedule else template.trigger_type
    return _result(
        definition=definition,
        kind="template",
        source="template",
        confidence=min(0.95, score),
        schedule=schedule.as_dict() if schedule else None,
        notes=notes + (schedule.notes if schedule else []),
        trigger_type=trigger_type,
        extra={"template_id": template.id, "template_slug": template.slug or None},
    )


def _from_llm(result: Any) -> dict:
    schedule = result.schedule
    if schedule:
        schedule = {**schedule, "description": describe(schedule["cron_expression"], schedule["timezone"])}
    return _result(
        definition=result.definition,
        kind="generated",
        source="llm",
        confidence=result.confidence,
        schedule=schedule,
        notes=result.notes,
        trigger_type="schedule" if schedule else "manual",
    )


def workflow_parse(*, tenant: Tenant, instruction: str, context: dict | None = None) -> dict:
    """``{"workflow": {type, name, description, inputs, outputs, steps, schedule?, trigger_type,
    confidence, source, valid, notes, template_id?}, "parse_time_ms"}``.

    Raises ValidationFailed (400) for a bad instruction or context, NotUnderstood (422) when
    no source finds anything to do.
    """
    started = time.perf_counter()
    instruction = instruction_check(instruction)
    context = context_check(context)
    workflow = workflow_draft(tenant=tenant, instruction=instruction, context=context)
    return {"workflow": workflow, "parse_time_ms": round((time.perf_counter() - started) * 1000, 2)}


def workflow_draft(*, tenant: Tenant, instruction: str, context: dict) -> dict:
    """The parse result (the "workflow" of ``workflow_parse``) for a checked instruction and context."""
    from orchestrator.authoring.llm_source import LlmFailed, llm_integration_find, parse_llm
    from orchestrator.authoring.templates import template_match

    tools = context["availableTools"]
    wanted = context["source"]
    rules: Parsed | None = None
    not_understood: NotUnderstood | None = None
    try:
        rules = parse_rules(instruction, tools=tools)
    except NotUnderstood as exc:
        not_understood = exc

    if wanted in ("auto", "template"):
        schedule = rules.schedule if rules is not None else schedule_from_text(instruction)
        match = template_match(tenant=tenant, text=_entity_text(instruction, schedule))
        if match is not None:
            template, score = match
            beats_rules = rules is None or score >= rules.confidence + TEMPLATE_MARGIN
            if wanted == "template" or (score >= TEMPLATE_THRESHOLD and beats_rules):
                return _from_template(template, score, instruction)

    fallback_note = None
    if wanted in ("auto", "llm"):
        integration = llm_integration_find(tenant=tenant, ref=context.get("integration_id"))
        if integration is None and wanted == "llm":
            raise ValidationFailed(
                "context.source is llm but this tenant has no llm integration.",
                details=[{"field": "context.source", "message": "Create an integration of type llm first."}],
            )
        if integration is not None:
            try:
                return _from_llm(parse_llm(integration=integration, instruction=instruction, tools=tools))
            except LlmFailed as exc:
                fallback_note = f"The llm source failed ({exc.reason}); the rules answered instead."

    if rules is None:
        assert not_understood is not None
        if fallback_note:
            not_understood.details = {**(not_understood.details or {}), "llm": fallback_note}
        raise not_understood
    workflow = _from_rules(rules)
    if fallback_note:
        workflow["notes"] = [fallback_note, *workflow["notes"]]
        workflow["confidence"] = round(workflow["confidence"] * 0.9, 2)
    return workflow
