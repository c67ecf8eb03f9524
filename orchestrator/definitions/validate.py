"""Validation of a normalized definition: every problem at once, in sentences.

``definition_errors`` never raises on bad input; an empty list means valid. A step
that is referenced but does not exist, a template naming a step that is not upstream,
cycles and the rest are all reported together (SPEC section 4).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from orchestrator.definitions.expressions import (
    analyze,
    as_expression,
    format_path,
    is_template,
    iter_templates,
    template_strings,
)
from orchestrator.definitions.gc_pause import gc_paused
from orchestrator.definitions.graph import find_cycles, kahn_order, missing_ancestors, step_parents
from orchestrator.definitions.schema_check import SchemaCheck, error_message, error_path
from orchestrator.step_types import StepType, registry

STEP_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,99}$")
TRIGGER_RULES = ("all_success", "all_done", "none_failed", "one_success", "one_failed")
RETRY_ON = ["network", "timeout", "5xx", "4xx", "429", "error"]

RETRY_SCHEMA = {
    "type": "object",
    "properties": {
        "max_attempts": {"type": "integer", "minimum": 1},
        "backoff": {"type": "string", "enum": ["fixed", "exponential", "linear"]},
        "initial_interval_seconds": {"type": "number", "minimum": 0},
        "max_interval_seconds": {"type": "number", "minimum": 0},
        "jitter": {"type": "boolean"},
        "retry_on": {"type": "array", "items": {"type": "string", "enum": RETRY_ON}, "uniqueItems": True},
    },
    "additionalProperties": False,
}
SETTINGS_SCHEMA = {
    "type": "object",
    "properties": {
        "max_concurrent_runs": {"type": "integer", "minimum": 1},
        "timeout_seconds": {"type": "integer", "minimum": 1},
    },
}

_BASE_STEP_KEYS = frozenset({"id", "type", "name", "config", "depends_on"})
_retry_check = SchemaCheck(RETRY_SCHEMA)
_settings_check = SchemaCheck(SETTINGS_SCHEMA)
# The format checker makes a "pattern" that is no regular expression an error now, not a crash at run start.
_meta_validator = Draft202012Validator(
    Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
)


@cache
def _config_check(step_type: type[StepType]) -> SchemaCheck:
    return SchemaCheck(step_type.config_schema)


def _is_positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def definition_errors(definition: dict) -> list[str]:
    """Every problem of a normalized definition, worded for people; ``[]`` when it is valid."""
    if not isinstance(definition, dict):
        return ["Workflow definition must be a JSON object"]
    with gc_paused():
        return _definition_errors(definition)


def _definition_errors(definition: dict) -> list[str]:
    errors: list[str] = []
    _header_errors(definition, errors)
    steps = definition.get("steps")
    if not isinstance(steps, list):
        errors.append("Workflow steps must be a list")
        return errors
    if not steps:
        errors.append("Workflow must have at least one step")

    known: dict[str, int] = {}  # id → position of its first step
    duplicates: set[str] = set()
    for position, step in enumerate(steps):
        if isinstance(step, dict) and isinstance(step.get("id"), str):
            if step["id"] in known and step["id"] not in duplicates:
                duplicates.add(step["id"])
                errors.append(f"Duplicate step id '{step['id']}'")
            known.setdefault(step["id"], position)

    references: dict[str, set[str]] = {}  # step → steps its templates name
    descendants: list[tuple[str, str, str]] = []  # (step, branch key, step that must be downstream of it)
    for position, step in enumerate(steps):
        _step_errors(step, position, known, references, descendants, errors)

    _graph_errors(steps, known, references, descendants, errors)
    _outputs_errors(definition.get("outputs"), known, errors)
    _edges_errors(definition.get("edges"), known, errors)
    return errors


def _header_errors(definition: dict, errors: list[str]) -> None:
    for key in ("name", "description"):
        if key in definition and not isinstance(definition[key], str):
            errors.append(f"Workflow {key} must be text")
    inputs = definition.get("inputs", {})
    if not isinstance(inputs, dict):
        errors.append("Workflow inputs must be a JSON Schema object")
    else:
        for error in sorted(_meta_validator.iter_errors(inputs), key=lambda e: [str(p) for p in e.absolute_path]):
            errors.append(
                f"Workflow inputs is not a valid JSON Schema: {error_message(error)} at {error_path(error, 'inputs')}"
            )
        if "type" in inputs and inputs["type"] != "object":
            errors.append("Workflow inputs must describe an object (type 'object'): run input is a JSON object")
    settings = definition.get("settings", {})
    if not isinstance(settings, dict):
        errors.append("Workflow settings must be an object")
    else:
        errors.extend(f"Workflow settings: {message}" for message in _settings_check.errors(settings, "settings"))


def _step_errors(
    step: Any,
    position: int,
    known: dict[str, int],
    references: dict[str, set[str]],
    descendants: list[tuple[str, str, str]],
    errors: list[str],
) -> None:
    if not isinstance(step, dict):
        errors.append(f"Step #{position + 1} must be an object")
        return
    step_id = step.get("id")
    if not isinstance(step_id, str) or not step_id:
        errors.append(f"Step #{position + 1} needs an id (text)")
        label = f"Step #{position + 1}"
        step_id = None
    else:
        label = f"Step '{step_id}'"
        if not STEP_ID.match(step_id):
            errors.append(
                f"{label} has an invalid id: use letters, digits, '_' and '-', start with a letter or '_', "
                "at most 100 characters"
            )
        elif known.get(step_id) != position:
            step_id = None  # a duplicate: its graph facts would contradict the first one's

    if step.get("name") is not None and not isinstance(step["name"], str):
        errors.append(f"{label} name must be text")
    if "description" in step and not isinstance(step["description"], str):
        errors.append(f"{label} description must be text")
    refs: set[str] = set()
    step_type = _type_errors(step.get("type"), label, errors)
    config = step.get("config", {})
    if not isinstance(config, dict):
        errors.append(f"{label} config must be an object")
    else:
        if step_type is not None:
            _config_errors(step_type, config, label, "config", errors)
            if step_type.name == "condition":
                _condition_errors(config, label, step_id, refs, descendants, errors)
        broken = False
        for source in template_strings(config, []):
            found, problem = analyze(source)
            refs.update(found)
            broken = broken or problem is not None
        if broken:  # walk again, slower, for the paths
            for path, source in iter_templates(config):
                problem = analyze(source)[1]
                if problem is not None:
                    errors.append(f"{label} config has an invalid template at {format_path(path, 'config')}: {problem}")

    _dependency_errors(step.get("depends_on", []), label, known, errors)
    when = step.get("when")
    if when is not None:
        if isinstance(when, str):
            found, problem = _expression_analysis(when)
            refs.update(found)
            if problem is not None:
                errors.append(f"{label} has invalid when expression: {problem}")
        elif not isinstance(when, bool):
            errors.append(f"{label} has invalid when expression: it must be a template expression or true/false")
    if step.keys() - _BASE_STEP_KEYS:
        _option_errors(step, label, errors)
    if step_id is not None and refs:
        references[step_id] = refs


def _expression_analysis(expression: str) -> tuple[frozenset[str], str | None]:
    """Like ``analyze`` for an expression that may come without {{ }} (``when``, condition)."""
    found, problem = analyze(as_expression(expression.strip()))
    if problem is not None and not is_template(expression):
        problem = problem.replace("'}}'", "end of expression")  # the braces were ours, not the user's
    return found, problem


def _type_errors(type_name: Any, label: str, errors: list[str]) -> type[StepType] | None:
    if not isinstance(type_name, str) or not type_name:
        errors.append(f"{label} needs a type (one of {', '.join(registry.names())})")
        return None
    step_type = registry.get(type_name)
    if step_type is None:
        errors.append(f"{label} has unknown type '{type_name}'")
    elif not step_type.enabled():
        errors.append(f"{label} uses step type '{type_name}' which is disabled ({step_type.disabled_reason()})")
    return step_type


def _config_errors(step_type: type[StepType], config: dict, label: str, root: str, errors: list[str]) -> None:
    problems = _config_check(step_type).errors(config, root)
    if not problems:
        problems = [problem.replace(" at config", f" at {root}", 1) for problem in step_type.config_problems(config)]
        if step_type.name == "loop":
            _loop_step_errors(config["step"], label, root, errors)
    errors.extend(f"{label} config: {problem}" for problem in problems)


def _loop_step_errors(inner: dict, label: str, root: str, errors: list[str]) -> None:
    inner_type = registry.get(inner["type"])
    if inner_type is None:
        errors.append(f"{label} loops over unknown type '{inner['type']}' at {root}.step.type")
    elif not inner_type.enabled():
        errors.append(
            f"{label} loops over step type '{inner['type']}' which is disabled ({inner_type.disabled_reason()})"
        )
    else:
        _config_errors(inner_type, inner.get("config", {}), label, f"{root}.step.config", errors)


def _condition_errors(
    config: dict,
    label: str,
    step_id: str | None,
    refs: set[str],
    descendants: list[tuple[str, str, str]],
    errors: list[str],
) -> None:
    # ``expression`` and a ``field`` like "steps.a.output.b" are expressions even without {{ }};
    # with {{ }} the walk over config templates has already read them.
    expression = config.get("expression")
    if isinstance(expression, str) and not is_template(expression):
        found, problem = _expression_analysis(expression)
        refs.update(found)
        if problem is not None:
            errors.append(f"{label} has invalid condition expression: {problem}")
    field = config.get("field")
    if isinstance(field, str) and not field.startswith("$") and not is_template(field):
        found, problem = _expression_analysis(field)
        refs.update(found)
        if problem is not None:
            errors.append(f"{label} has invalid condition field: {problem}")
    if step_id is not None:
        for branch in ("then", "else"):
            targets = config.get(branch, [])
            if isinstance(targets, list):  # anything else already failed the config schema
                descendants.extend((step_id, branch, target) for target in targets if isinstance(target, str))


def _dependency_errors(depends_on: Any, label: str, known: dict[str, int], errors: list[str]) -> None:
    if not isinstance(depends_on, list):
        errors.append(f"{label} depends_on must be a list of step ids")
        return
    for dependency in depends_on:
        if not isinstance(dependency, str):
            errors.append(f"{label} depends_on must be a list of step ids")
            return
        if dependency not in known:
            errors.append(f"{label} depends on '{dependency}' which doesn't exist")


def _option_errors(step: dict, label: str, errors: list[str]) -> None:
    rule = step.get("trigger_rule")
    if rule is not None and rule not in TRIGGER_RULES:
        errors.append(f"{label} has invalid trigger_rule '{rule}' (expected one of {', '.join(TRIGGER_RULES)})")
    if "continue_on_error" in step and not isinstance(step["continue_on_error"], bool):
        errors.append(f"{label} continue_on_error must be true or false")
    if "retry" in step:
        if not isinstance(step["retry"], dict):
            errors.append(f"{label} retry must be an object")
        else:
            errors.extend(f"{label} retry: {message}" for message in _retry_check.errors(step["retry"], "retry"))
    if "timeout_seconds" in step and not _is_positive_int(step["timeout_seconds"]):
        errors.append(f"{label} timeout_seconds must be a positive integer")


def _graph_errors(
    steps: list,
    known: dict[str, int],
    references: dict[str, set[str]],
    descendants: list[tuple[str, str, str]],
    errors: list[str],
) -> None:
    parents = step_parents(steps)
    order = kahn_order(parents)
    ordered = set(order) if len(order) < len(parents) else parents.keys()
    if len(order) < len(parents):
        errors.extend("Cycle detected: " + " → ".join(cycle) for cycle in find_cycles(parents, order))

    # Steps on or after a cycle have no well-defined ancestry; the cycle is the error to fix first.
    pairs: list[tuple[str, str]] = []
    for step_id, refs in references.items():
        for ref in refs if len(refs) == 1 else sorted(refs):
            if ref not in known:
                errors.append(f"Step '{step_id}' references step '{ref}' which doesn't exist")
            elif ref == step_id:
                errors.append(f"Step '{step_id}' references step '{ref}' which is not upstream")
            elif step_id in ordered:
                pairs.append((step_id, ref))
    branch_pairs: list[tuple[str, str]] = []
    for step_id, branch, target in descendants:
        if target not in known:
            errors.append(f"Step '{step_id}' config.{branch} names step '{target}' which doesn't exist")
        elif target == step_id or (target in ordered and step_id in ordered):
            branch_pairs.append((target, step_id))
    missing = missing_ancestors(order, parents, pairs + branch_pairs)
    for step_id, ref in pairs:
        if (step_id, ref) in missing:
            errors.append(f"Step '{step_id}' references step '{ref}' which is not upstream")
    for step_id, branch, target in descendants:
        if (target, step_id) in missing or target == step_id:
            errors.append(f"Step '{step_id}' config.{branch} names step '{target}' which is not downstream of it")


def _outputs_errors(outputs: Any, known: dict[str, int], errors: list[str]) -> None:
    if not isinstance(outputs, dict):
        errors.append("Workflow outputs must be an object mapping names to templates")
        return
    for name, template in outputs.items():
        for path, source in iter_templates(template):
            found, problem = analyze(source)
            where = f" at {format_path(path)}" if path else ""
            if problem is not None:
                errors.append(f"Output '{name}' has an invalid template{where}: {problem}")
            errors.extend(
                f"Output '{name}' references step '{ref}' which doesn't exist" for ref in sorted(found - known.keys())
            )


def _edges_errors(edges: Any, known: dict[str, int], errors: list[str]) -> None:
    # Only edges normalization could not attach are still here.
    if edges is None:
        return
    for index, edge in enumerate(edges if isinstance(edges, list) else [edges]):
        source = edge.get("source", edge.get("from")) if isinstance(edge, dict) else None
        target = edge.get("target", edge.get("to")) if isinstance(edge, dict) else None
        if not isinstance(source, str) or not isinstance(target, str):
            errors.append(f"Edge #{index + 1} needs a source and a target step id")
        elif target not in known:
            errors.append(f"Edge from '{source}' to '{target}' points to step '{target}' which doesn't exist")
