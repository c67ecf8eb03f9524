"""Reads of workflows and versions, always within one tenant."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet

from orchestrator.errors import NotFound, ValidationFailed
from orchestrator.models import Tenant
from workflows.models import TriggerType, Workflow, WorkflowStatus, WorkflowVersion


def workflow_list(
    *,
    tenant: Tenant,
    status: str | None = None,
    trigger_type: str | None = None,
    tag: str | None = None,
    search: str | None = None,
) -> QuerySet[Workflow]:
    qs = Workflow.objects.for_tenant(tenant).select_related("created_by")
    if status:
        if status not in WorkflowStatus.values:
            raise ValidationFailed(f"status must be one of {', '.join(WorkflowStatus.values)}.")
        qs = qs.filter(status=status)
    if trigger_type:
        if trigger_type not in TriggerType.values:
            raise ValidationFailed(f"trigger_type must be one of {', '.join(TriggerType.values)}.")
        qs = qs.filter(trigger_type=trigger_type)
    if tag:
        if connection.vendor == "postgresql":
            qs = qs.filter(tags__contains=[tag])
        else:  # SQLite (embedded mode) has no JSON containment lookup
            matching = [pk for pk, tags in qs.values_list("id", "tags") if tag in (tags or [])]
            qs = qs.filter(id__in=matching)
    if search:
        qs = qs.filter(Q(name__icontains=search))
    return qs.defer("definition")


def workflow_get(*, tenant: Tenant, workflow_id: str) -> Workflow:
    workflow = Workflow.objects.for_tenant(tenant).filter(id=workflow_id).first()
    if workflow is None:
        raise NotFound(f"Workflow {workflow_id!r} was not found.")
    return workflow


def workflow_version_list(*, workflow: Workflow) -> QuerySet[WorkflowVersion]:
    return WorkflowVersion.objects.filter(workflow=workflow).defer("definition").order_by("-version")


def workflow_version_get(*, workflow: Workflow, version: int) -> WorkflowVersion:
    found = WorkflowVersion.objects.filter(workflow=workflow, version=version).first()
    if found is None:
        raise NotFound(f"Workflow {workflow.id} has no version {version}.")
    return found


def workflow_io_schema(*, workflow: Workflow) -> dict:
    """JSON Schemas of a run's input and output.

    Outputs: one property per ``outputs`` template, or with none, one per sink step
    (steps nothing depends on) typed by its step type's output schema.
    """
    from orchestrator.step_types import registry

    definition = workflow.definition
    inputs = definition.get("inputs") or {"type": "object", "properties": {}}
    outputs = definition.get("outputs") or {}
    if outputs:
        properties = {name: {"description": f"From {template}"} for name, template in outputs.items()}
    else:
        steps = definition.get("steps", [])
        upstream = {dep for step in steps for dep in step.get("depends_on", [])}
        properties = {}
        for step in steps:
            if step["id"] not in upstream:
                step_type = registry.get(step["type"])
                properties[step["id"]] = dict(step_type.output_schema) if step_type else {}
    return {"inputs": inputs, "outputs": {"type": "object", "properties": properties}}
