"""Every write to workflows and their versions, with its rules."""

from __future__ import annotations

import copy
import re
import secrets
from typing import Any

from django.db import IntegrityError, transaction

from orchestrator.definitions import definition_errors, definition_normalize
from orchestrator.definitions.editor_graph import definition_with_graph
from orchestrator.errors import Conflict, NotFound, ValidationFailed
from orchestrator.input_limits import definition_size_check, text_check, value_check
from orchestrator.models import User
from workflows.models import TriggerType, Visibility, Workflow, WorkflowStatus, WorkflowVersion

# Config keys that point at a tenant's credentials; a duplicate must not carry them.
INTEGRATION_KEYS = ("integration_id", "agent_id")


def definition_prepare(raw: Any) -> tuple[dict, str | None, str | None]:
    """Normalize and validate a definition: (stored form, its name, its description).

    Raises ValidationFailed listing every problem.
    """
    if not isinstance(raw, dict):
        raise ValidationFailed(
            "definition must be a JSON object.", details=[{"field": "definition", "message": "Must be an object."}]
        )
    # Before normalizing, which walks (and copies) the value: depth and storable strings.
    value_check(raw, "definition")
    canonical = definition_normalize(raw)
    # However the definition arrived (a body, a YAML import, a duplicate, a compat surface).
    definition_size_check(canonical)
    errors = definition_errors(canonical)
    if errors:
        raise ValidationFailed(
            errors[0] if len(errors) == 1 else f"The definition has {len(errors)} problems.",
            details=[{"field": "definition", "message": error} for error in errors],
        )
    name = canonical.pop("name", None)
    description = canonical.pop("description", None)
    return canonical, name, description


def _check_choice(value: str, choices: type, field: str) -> None:
    if value not in choices.values:
        raise ValidationFailed(
            f"{field} must be one of {', '.join(choices.values)}.",
            details=[{"field": field, "message": f"{value!r} is not a valid choice."}],
        )


def _check_semantic_version(value: str) -> str:
    value = value.strip() if isinstance(value, str) else ""
    if not value or len(value) > 50 or any(ch.isspace() for ch in value):
        raise ValidationFailed(
            "version must be a version label such as 1.0.0.",
            details=[{"field": "version", "message": "A non-empty label of at most 50 characters, no spaces."}],
        )
    return value


NAME_MAX = Workflow._meta.get_field("name").max_length
SUMMARY_MAX = WorkflowVersion._meta.get_field("change_summary").max_length
TAG_MAX, TAGS_MAX = 100, 50


def _check_texts(*, name: str | None, description: str | None, tags: list | None, change_summary: str | None) -> None:
    """Lengths and storable text up front: a 201-character name was a DataError (500)."""
    if name is not None:
        text_check(name, "name", max_length=NAME_MAX)
    if description is not None:
        text_check(description, "description")
    if change_summary is not None:
        text_check(change_summary, "change_summary", max_length=SUMMARY_MAX)
    if tags is not None:
        if not isinstance(tags, list) or len(tags) > TAGS_MAX:
            raise ValidationFailed(
                f"tags must be a list of at most {TAGS_MAX} strings.",
                details=[{"field": "tags", "message": f"A list of at most {TAGS_MAX} strings."}],
            )
        for index, tag in enumerate(tags):
            text_check(tag, f"tags[{index}]", max_length=TAG_MAX)


def _check_name_free(workflow: Workflow | None, tenant_id: str, name: str) -> None:
    others = Workflow.objects.filter(tenant_id=tenant_id, name=name)
    if workflow is not None:
        others = others.exclude(id=workflow.id)
    if others.exists():
        raise Conflict(f"A workflow named {name!r} already exists.")


def _save(workflow: Workflow) -> None:
    try:
        with transaction.atomic():
            workflow.save()
    except IntegrityError as exc:  # a concurrent create took the name first
        raise Conflict(f"A workflow named {workflow.name!r} already exists.") from exc


@transaction.atomic
def workflow_create(
    *,
    user: User,
    definition: Any,
    name: str | None = None,
    description: str | None = None,
    trigger_type: str = TriggerType.MANUAL,
    tags: list[str] | None = None,
    status: str = WorkflowStatus.ACTIVE,
    change_summary: str = "Initial version",
    visibility: str = Visibility.PRIVATE,
    semantic_version: str = "1.0.0",
) -> Workflow:
    stored, def_name, def_description = definition_prepare(definition)
    name = name or def_name or ""
    if not isinstance(name, str):
        raise ValidationFailed("name must be a string.", details=[{"field": "name", "message": "Must be a string."}])
    name = name.strip()
    if not name:
        raise ValidationFailed(
            "A workflow needs a name (top-level or in the definition).",
            details=[{"field": "name", "message": "This field is required."}],
        )
    description = description if description is not None else (def_description or "")
    _check_texts(name=name, description=description, tags=tags, change_summary=change_summary)
    _check_choice(trigger_type, TriggerType, "trigger_type")
    _check_choice(status, WorkflowStatus, "status")
    _check_choice(visibility, Visibility, "visibility")
    semantic_version = _check_semantic_version(semantic_version)
    _check_name_free(None, user.tenant_id, name)
    workflow = Workflow(
        tenant_id=user.tenant_id,
        name=name,
        description=description,
        trigger_type=trigger_type,
        tags=list(tags or []),
        status=status,
        definition=stored,
        created_by=user,
        version=1,
        visibility=visibility,
        semantic_version=semantic_version,
    )
    _save(workflow)
    WorkflowVersion.objects.create(
        workflow=workflow, version=1, definition=stored, change_summary=change_summary, created_by=user
    )
    return workflow


def _add_version(*, workflow: Workflow, definition: dict, user: User, change_summary: str) -> None:
    workflow.version += 1
    workflow.definition = definition
    WorkflowVersion.objects.create(
        workflow=workflow,
        version=workflow.version,
        definition=definition,
        change_summary=change_summary,
        created_by=user,
    )


@transaction.atomic
def workflow_update(
    *,
    workflow: Workflow,
    user: User,
    definition: Any = None,
    name: str | None = None,
    description: str | None = None,
    trigger_type: str | None = None,
    tags: list[str] | None = None,
    status: str | None = None,
    change_summary: str | None = None,
    visibility: str | None = None,
    semantic_version: str | None = None,
    nodes: list | None = None,
    edges: list | None = None,
) -> Workflow:
    """Partial update; a changed definition makes a new version, an equal one does not.

    ``nodes``/``edges`` (an editor's graph, seed 002) replace the steps and keep the rest of the
    definition; they do not combine with ``definition``.
    """
    workflow = Workflow.objects.select_for_update(no_key=True).get(id=workflow.id)
    _check_texts(name=name, description=description, tags=tags, change_summary=change_summary)
    if nodes is not None or edges is not None:
        value_check({"nodes": nodes, "edges": edges})
        if definition is not None:
            raise ValidationFailed(
                "Give either definition or nodes/edges, not both.",
                details=[{"field": "definition", "message": "Not together with nodes or edges."}],
            )
        definition = definition_with_graph(workflow.definition, nodes=nodes, edges=edges)
    if definition is not None:
        stored, def_name, def_description = definition_prepare(definition)
        name = name if name is not None else def_name
        description = description if description is not None else def_description
        if stored != workflow.definition:
            _add_version(
                workflow=workflow, definition=stored, user=user, change_summary=change_summary or "Updated definition"
            )
    if name is not None:
        _check_texts(name=name, description=description, tags=None, change_summary=None)
        name = name.strip()
        if not name:
            raise ValidationFailed(
                "name may not be blank.", details=[{"field": "name", "message": "May not be blank."}]
            )
        _check_name_free(workflow, workflow.tenant_id, name)
        workflow.name = name
    if description is not None:
        workflow.description = description
    if trigger_type is not None:
        _check_choice(trigger_type, TriggerType, "trigger_type")
        workflow.trigger_type = trigger_type
    if tags is not None:
        workflow.tags = list(tags)
    if status is not None:
        _check_choice(status, WorkflowStatus, "status")
        workflow.status = status
    if visibility is not None:
        _check_choice(visibility, Visibility, "visibility")
        workflow.visibility = visibility
    if semantic_version is not None:
        workflow.semantic_version = _check_semantic_version(semantic_version)
    _save(workflow)
    return workflow


@transaction.atomic
def workflow_set_status(*, workflow: Workflow, status: str) -> Workflow:
    _check_choice(status, WorkflowStatus, "status")
    workflow.status = status
    workflow.save(update_fields=["status", "updated_at"])
    return workflow


@transaction.atomic
def workflow_delete(*, workflow: Workflow) -> None:
    workflow.delete()


def _unused_copy_name(tenant_id: str, name: str) -> str:
    base = f"{name} (copy)"
    candidate, n = base, 2
    while Workflow.objects.filter(tenant_id=tenant_id, name=candidate).exists():
        candidate = f"{name} (copy {n})"
        n += 1
    return candidate[:200]


def _strip_integrations(definition: dict) -> dict:
    stripped = copy.deepcopy(definition)
    for step in stripped.get("steps", []):
        config = step.get("config")
        if isinstance(config, dict):
            for key in INTEGRATION_KEYS:
                config.pop(key, None)
            inner = config.get("step")
            if isinstance(inner, dict) and isinstance(inner.get("config"), dict):
                for key in INTEGRATION_KEYS:
                    inner["config"].pop(key, None)
    return stripped


def _renamed_references(value: Any, pattern: re.Pattern, renames: dict[str, str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(lambda m: m.group(1) + renames[m.group(2)], value)
    if isinstance(value, list):
        return [_renamed_references(item, pattern, renames) for item in value]
    if isinstance(value, dict):
        return {key: _renamed_references(item, pattern, renames) for key, item in value.items()}
    return value


def _with_new_step_ids(definition: dict) -> dict:
    """Every step under a new ID (seed 002: a copy's nodes are new nodes), references rewritten:
    ``depends_on``, a condition's ``then``/``else``, and ``steps.<id>`` / ``steps['<id>']`` in every
    template (configs, ``when``, ``outputs``). The copy is validated like any new workflow, so a
    reference this misses is a 400, never a broken run."""
    steps = definition.get("steps", [])
    suffix = secrets.token_hex(3)
    renames = {step["id"]: f"{step['id'][:92]}_{suffix}" for step in steps}
    if not renames:
        return definition
    names = "|".join(re.escape(old) for old in sorted(renames, key=len, reverse=True))
    # steps.<id> or steps['<id>'] / steps["<id>"], the ID not followed by more of an ID.
    pattern = re.compile(rf"(\bsteps(?:\.|\[['\"]))({names})(?![A-Za-z0-9_-])")
    renamed = []
    for step in steps:
        step = _renamed_references(step, pattern, renames)
        step["id"] = renames[step["id"]]
        step["depends_on"] = [renames.get(dep, dep) for dep in step.get("depends_on", [])]
        config = step.get("config")
        if step.get("type") == "condition" and isinstance(config, dict):
            for branch in ("then", "else"):
                if isinstance(config.get(branch), list):
                    config[branch] = [renames.get(target, target) for target in config[branch]]
        renamed.append(step)
    copied = {**definition, "steps": renamed}
    if isinstance(definition.get("outputs"), dict):
        copied["outputs"] = _renamed_references(definition["outputs"], pattern, renames)
    return copied


@transaction.atomic
def workflow_duplicate(*, workflow: Workflow, user: User, name: str | None = None) -> Workflow:
    """A private draft copy named "… (copy)": new step IDs, references to integrations stripped."""
    return workflow_create(
        user=user,
        definition=_with_new_step_ids(_strip_integrations(workflow.definition)),
        name=name or _unused_copy_name(workflow.tenant_id, workflow.name),
        description=workflow.description,
        trigger_type=workflow.trigger_type,
        tags=workflow.tags,
        status=WorkflowStatus.DRAFT,
        change_summary=f"Duplicated from {workflow.id} v{workflow.version}",
        visibility=Visibility.PRIVATE,
        semantic_version=workflow.semantic_version,
    )


@transaction.atomic
def workflow_rollback(*, workflow: Workflow, user: User, version: int) -> Workflow:
    """A new version whose definition equals ``version``'s."""
    workflow = Workflow.objects.select_for_update(no_key=True).get(id=workflow.id)
    target = WorkflowVersion.objects.filter(workflow=workflow, version=version).first()
    if target is None:
        raise NotFound(f"Workflow {workflow.id} has no version {version}.")
    _add_version(
        workflow=workflow, definition=target.definition, user=user, change_summary=f"Rolled back to version {version}"
    )
    workflow.save()
    return workflow
