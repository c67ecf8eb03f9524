"""The portable document of a workflow (export/import), as JSON or YAML."""

from __future__ import annotations

from typing import Any

import yaml

from orchestrator.errors import ValidationFailed
from orchestrator.input_limits import yaml_load
from orchestrator.models import User
from workflows.models import Workflow
from workflows.services import workflow_create

FORMAT = "orchestrator.workflow/v1"


def workflow_export(*, workflow: Workflow) -> dict:
    return {
        "format": FORMAT,
        "name": workflow.name,
        "description": workflow.description,
        "trigger_type": workflow.trigger_type,
        "tags": workflow.tags,
        "version": workflow.version,
        "definition": workflow.full_definition(),
    }


def document_to_yaml(document: dict) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def document_parse(text: str | bytes) -> Any:
    """YAML is a superset of JSON, so one parser reads both: no aliases, bounded nesting."""
    return yaml_load(text)


def workflow_import(*, user: User, document: Any, name: str | None = None) -> Workflow:
    """Create a workflow from an exported document, or from a bare definition."""
    if not isinstance(document, dict):
        raise ValidationFailed("The document must be an object.")
    if "definition" in document:
        definition = document["definition"]
        meta = document
    else:
        definition, meta = document, {}
    if not isinstance(definition, dict):
        raise ValidationFailed("definition must be an object.")
    tags = meta.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValidationFailed("tags must be a list of strings.")
    return workflow_create(
        user=user,
        definition=definition,
        name=name or meta.get("name") or definition.get("name"),
        description=meta.get("description"),
        trigger_type=meta.get("trigger_type") or "manual",
        tags=tags,
        change_summary="Imported",
    )
