"""The template library: built-in templates (data files in ``library/``, shared by every
tenant, read-only) and tenants' own (saved from a workflow); listing, installing, saving.

Built-ins are kept in step with the data files by ``library_load`` (``manage.py
load_templates`` and after every ``migrate``): matched by slug, updated in place, new ones
added, retired ones removed. Installed workflows are copies, so none of that touches them.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from jsonschema import Draft202012Validator

from orchestrator.definitions import definition_errors, definition_normalize
from orchestrator.errors import Conflict, Forbidden, NotFound, ValidationFailed
from orchestrator.models import Tenant, User
from workflows.models import Template, TemplateCategory, TriggerType, Workflow
from workflows.services import INTEGRATION_KEYS, workflow_create

LIBRARY_DIR = Path(__file__).resolve().parent / "library"
# Which key of a step's config names its integration, by step type (a loop: its inner step's).
_INTEGRATION_KEY = {"agent_task": "agent_id"}
_PROVIDER_TYPE = {"slack": "slack", "email": "smtp", "smtp": "smtp", "http": "http"}
_REQUIRED = ("slug", "name", "category", "description", "keywords", "definition")


class LibraryError(Exception):
    """A data file in library/ is broken: a bug to fix before shipping, never a user's 400."""


def _library_problems(entry: dict) -> list[str]:
    problems = [f"missing {key!r}" for key in _REQUIRED if key not in entry]
    if problems:
        return problems
    if entry["category"] not in TemplateCategory.values:
        problems.append(f"unknown category {entry['category']!r}")
    definition = definition_normalize(entry["definition"])
    problems += definition_errors(definition)
    step_ids = {step["id"] for step in definition.get("steps", []) if isinstance(step, dict)}
    inputs = definition.get("inputs") or {}
    for name, schema in (inputs.get("properties") or {}).items():
        if "default" not in schema or "description" not in schema:
            problems.append(f"input {name!r} needs a default and a description")
        elif list(Draft202012Validator(schema).iter_errors(schema["default"])):
            problems.append(f"input {name!r}: its default does not match its schema")
    for slot in entry.get("integrations", []):
        missing = set(slot.get("steps", [])) - step_ids
        if missing or not slot.get("key") or not slot.get("type"):
            problems.append(f"integration placeholder {slot!r} is incomplete or names unknown steps {sorted(missing)}")
    return problems


@cache
def library() -> tuple[dict, ...]:
    """The built-in templates as the data files say, each checked (read once per process)."""
    entries = []
    for path in sorted(LIBRARY_DIR.glob("*.json")):
        entry = json.loads(path.read_text())
        problems = _library_problems(entry)
        if problems or entry["slug"] != path.stem:
            raise LibraryError(f"{path.name}: {'; '.join(problems) or 'slug differs from the file name'}")
        entry["definition"] = _without_name(definition_normalize(entry["definition"]))
        entries.append(entry)
    return tuple(entries)


def _without_name(definition: dict) -> dict:
    return {k: v for k, v in definition.items() if k not in ("name", "description")}


def _builtin_fields(entry: dict) -> dict[str, Any]:
    return {
        "name": entry["name"],
        "description": entry["description"],
        "category": entry["category"],
        "keywords": list(entry["keywords"]),
        "definition": entry["definition"],
        "integrations": list(entry.get("integrations", [])),
        "schedule": entry.get("schedule"),
        "trigger_type": entry.get("trigger_type", TriggerType.MANUAL),
    }


@transaction.atomic
def library_load() -> dict[str, int]:
    """Make the built-in rows equal the data files; idempotent. → counts of what changed."""
    entries = {entry["slug"]: entry for entry in library()}
    existing = {t.slug: t for t in Template.objects.filter(tenant__isnull=True).select_for_update()}
    created, updated = [], []
    for slug, entry in entries.items():
        fields = _builtin_fields(entry)
        row = existing.get(slug)
        if row is None:
            created.append(Template(slug=slug, tenant=None, **fields))
            created[-1].search_text_refresh()
        elif any(getattr(row, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(row, name, value)
            row.search_text_refresh()
            row.updated_at = timezone.now()  # bulk_update does not apply auto_now
            updated.append(row)
    Template.objects.bulk_create(created)
    if updated:
        Template.objects.bulk_update(updated, [*_builtin_fields(library()[0]), "search_text", "updated_at"])
    retired = [slug for slug in existing if slug not in entries]
    Template.objects.filter(tenant__isnull=True, slug__in=retired).delete()
    return {
        "created": len(created),
        "updated": len(updated),
        "unchanged": len(entries) - len(created) - len(updated),
        "removed": len(retired),
    }


# --- reads ---------------------------------------------------------------------------------


def template_list(
    *, tenant: Tenant, category: str | None = None, is_builtin: bool | None = None, search: str | None = None
) -> QuerySet[Template]:
    """Built-ins and the tenant's own templates."""
    qs = Template.objects.filter(Q(tenant__isnull=True) | Q(tenant=tenant))
    if category:
        if category not in TemplateCategory.values:
            raise ValidationFailed(
                f"category must be one of {', '.join(TemplateCategory.values)}.",
                details=[{"field": "category", "message": f"{category!r} is not a category."}],
            )
        qs = qs.filter(category=category)
    if is_builtin is not None:
        qs = qs.filter(tenant__isnull=is_builtin)
    for word in (search or "").lower().split():
        qs = qs.filter(search_text__contains=word)
    return qs


def template_get(*, tenant: Tenant, template_id: str) -> Template:
    """By ID, or a built-in by its slug (``uptime-check``)."""
    visible = Template.objects.filter(Q(tenant__isnull=True) | Q(tenant=tenant))
    found = visible.filter(id=template_id).first() or visible.filter(tenant__isnull=True, slug=template_id).first()
    if found is None:
        raise NotFound(f"Template {template_id!r} was not found.")
    return found


# --- install ----------------------------------------------------------------------------------


def _apply_input_defaults(definition: dict, inputs: dict) -> None:
    properties = (definition.get("inputs") or {}).get("properties") or {}
    problems = []
    for name, value in inputs.items():
        schema = properties.get(name)
        if schema is None:
            known = ", ".join(sorted(properties)) or "none"
            problems.append({"field": f"inputs.{name}", "message": f"The template has no input {name!r} ({known})."})
            continue
        check = {k: v for k, v in schema.items() if k != "default"}
        for error in Draft202012Validator(check).iter_errors(value):
            problems.append({"field": f"inputs.{name}", "message": error.message})
        schema["default"] = value
    if problems:
        raise ValidationFailed("Some inputs do not fit the template.", details=problems)


def _step_configs(step: dict) -> list[tuple[str, dict]]:
    """(step type, config) of a step, and of a loop's inner step."""
    found = [(step["type"], step.setdefault("config", {}))]
    inner = step["config"].get("step") if step["type"] == "loop" else None
    if isinstance(inner, dict):
        found.append((inner.get("type", ""), inner.setdefault("config", {})))
    return [(kind, config) for kind, config in found if kind in ("agent_task", "integration", "http_request")]


def _apply_integrations(template: Template, definition: dict, tenant: Tenant, mapping: dict) -> None:
    from integrations.selectors import integration_get_by_ref

    slots = {slot["key"]: slot for slot in template.integrations}
    steps = {step["id"]: step for step in definition["steps"]}
    problems = []
    for key, ref in mapping.items():
        slot = slots.get(key)
        if slot is None:
            known = ", ".join(sorted(slots)) or "none"
            problems.append({"field": f"integrations.{key}", "message": f"No placeholder {key!r} ({known})."})
            continue
        try:
            integration = integration_get_by_ref(tenant_id=tenant.id, ref=str(ref))
        except NotFound as exc:
            problems.append({"field": f"integrations.{key}", "message": exc.message})
            continue
        if integration.type != slot["type"]:
            problems.append(
                {
                    "field": f"integrations.{key}",
                    "message": f"{key!r} needs a {slot['type']} integration; {ref!r} is {integration.type}.",
                }
            )
            continue
        for step_id in slot["steps"]:
            for kind, config in _step_configs(steps[step_id]):
                config[_INTEGRATION_KEY.get(kind, "integration_id")] = integration.id
    if problems:
        raise ValidationFailed("Some integrations do not fit the template.", details=problems)


@transaction.atomic
def template_install(
    *,
    template: Template,
    user: User,
    name: str | None = None,
    inputs: dict | None = None,
    integrations: dict | None = None,
    status: str | None = None,
) -> Workflow:
    """A new workflow of ``user``'s tenant from the template.

    ``inputs`` sets defaults of the template's inputs; ``integrations`` maps its
    placeholders (``{"alerts": "int_…" or a name}``) to the tenant's integrations. Without
    a mapping, a step uses the tenant's only integration of its type when it runs.
    """
    definition = copy.deepcopy(template.definition)
    if inputs:
        _apply_input_defaults(definition, inputs)
    if integrations:
        _apply_integrations(template, definition, user.tenant, integrations)
    extra = {"status": status} if status else {}
    return workflow_create(
        user=user,
        definition=definition,
        name=(name or template.name).strip(),
        description=template.description,
        trigger_type=template.trigger_type,
        tags=[f"template:{template.slug or template.id}"],
        change_summary=f"Installed from template {template.name!r} ({template.id})",
        **extra,
    )


# --- save a workflow as a template ---------------------------------------------------------


def _placeholders(definition: dict, tenant: Tenant) -> list[dict]:
    """Strip integration references from the steps (in place) and list what each step needs."""
    from integrations.models import Integration

    known = dict(Integration.objects.filter(tenant=tenant).values_list("id", "type"))
    named = dict(Integration.objects.filter(tenant=tenant).values_list("name", "type"))
    needs: dict[str, list[str]] = {}
    for step in definition.get("steps", []):
        for kind, config in _step_configs(step):
            ref = next((config.pop(key) for key in INTEGRATION_KEYS if key in config), None)
            type_name = known.get(ref) or named.get(ref) if ref else None
            if kind == "agent_task":
                type_name = "llm"
            elif kind == "integration" and not type_name:
                provider = str(config.get("action", "")).split(".", 1)[0]
                type_name = _PROVIDER_TYPE.get(provider)
            if type_name and step["id"] not in needs.setdefault(type_name, []):
                needs[type_name].append(step["id"])
    return [
        {"key": type_name, "type": type_name, "description": f"A {type_name} integration.", "steps": steps}
        for type_name, steps in needs.items()
    ]


def _keywords(workflow: Workflow) -> list[str]:
    words = re.findall(r"[a-z0-9]{3,}", f"{workflow.name} {workflow.description}".lower())
    types = [step.get("type", "") for step in workflow.definition.get("steps", [])]
    return list(dict.fromkeys([*words, *types]))[:30]


@transaction.atomic
def template_create(
    *,
    workflow: Workflow,
    user: User,
    name: str | None = None,
    category: str | None = None,
    description: str | None = None,
) -> Template:
    """Save a workflow of the tenant as a tenant template, its integration references stripped."""
    category = category or TemplateCategory.CUSTOM
    if category not in TemplateCategory.values:
        raise ValidationFailed(
            f"category must be one of {', '.join(TemplateCategory.values)}.",
            details=[{"field": "category", "message": f"{category!r} is not a category."}],
        )
    name = (name or workflow.name).strip()
    if Template.objects.filter(tenant=workflow.tenant, name=name).exists():
        raise Conflict(f"A template named {name!r} already exists.")
    definition = copy.deepcopy(workflow.definition)
    integrations = _placeholders(definition, workflow.tenant)
    template = Template(
        tenant=workflow.tenant,
        name=name,
        description=workflow.description if description is None else description,
        category=category,
        keywords=_keywords(workflow),
        definition=definition,
        integrations=integrations,
        trigger_type=workflow.trigger_type,
        source_workflow_id=workflow.id,
        created_by=user,
    )
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError as exc:  # a concurrent save took the name first
        raise Conflict(f"A template named {name!r} already exists.") from exc
    return template


@transaction.atomic
def template_delete(*, template: Template) -> None:
    if template.is_builtin:
        raise Forbidden("Built-in templates are read-only.")
    template.delete()


# --- matching an instruction against the library ---------------------------------------------------

MATCH_STOPWORDS = frozenset(
    """a an the of to for in on at by with from into and or it its them their this that these those is are be
    i we you me us my our your need want would like please set up create build make give get have use using
    workflow workflows step steps something thing things some any one can should could will just also""".split()
)
_SUFFIXES = ("izations", "ization", "ations", "ation", "ings", "ing", "ies", "ied", "ers", "ed", "es", "er", "s", "y")


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _tokens(text: str) -> list[str]:
    return [_stem(w) for w in re.findall(r"[a-z][a-z0-9]+", text.lower()) if w not in MATCH_STOPWORDS]


def _vocabulary(template: Template) -> tuple[set[str], set[str], list[str]]:
    """(strong words: name and keywords, weak words: description, keyword phrases of 2+ words)."""
    return _vocabulary_of(template.name, template.description, tuple(str(k) for k in template.keywords or []))


@lru_cache(maxsize=1024)
def _vocabulary_of(name: str, description: str, keywords: tuple[str, ...]) -> tuple[set[str], set[str], list[str]]:
    template = Template(name=name, description=description)
    keywords = [k.lower() for k in keywords]
    strong = set(_tokens(template.name)) | {t for k in keywords for t in _tokens(k)}
    weak = set(_tokens(template.description)) - strong
    phrases = [k for k in keywords if " " in k or "-" in k]
    return strong, weak, phrases


def template_match(*, tenant: Tenant, text: str) -> tuple[Template, float] | None:
    """The template an instruction describes best, with a score in [0, 1], or None.

    The score is the share of the instruction's words (weighted by how rare each is across the
    templates, so "uptime" counts more than "fetch") that the template's name and keywords
    (full weight) or description (half) contain, plus a little for each keyword phrase said
    as it is ("dead letter"). ``text`` should come without URLs, addresses and schedule words.
    """
    import math

    words = _tokens(text)
    if not words:
        return None
    templates = list(template_list(tenant=tenant).only("id", "slug", "name", "description", "keywords", "tenant"))
    vocabularies = {t.id: _vocabulary(t) for t in templates}
    n = len(templates) or 1
    document_frequency: dict[str, int] = {}
    for strong, weak, _ in vocabularies.values():
        for word in strong | weak:
            document_frequency[word] = document_frequency.get(word, 0) + 1
    weight = {w: math.log(1 + n / document_frequency.get(w, 0.5)) for w in set(words)}
    total = sum(weight[w] for w in words)
    lowered = text.lower()
    best: tuple[Template, float] | None = None
    for template in templates:
        strong, weak, phrases = vocabularies[template.id]
        if len(strong & set(words)) < 2:  # one shared word ("check") does not describe a template
            continue
        covered = sum(weight[w] * (1.0 if w in strong else 0.5 if w in weak else 0.0) for w in words)
        score = covered / total + 0.1 * sum(1 for p in phrases if p in lowered or p.replace("-", " ") in lowered)
        score = min(1.0, score)
        if best is None or score > best[1]:
            best = (template, score)
    return best
