from __future__ import annotations

from rest_framework import serializers

from orchestrator.api.serializers import JSONObjectField, StrictSerializer
from orchestrator.definitions.editor_graph import definition_graph
from workflows.models import TriggerType, Visibility, Workflow, WorkflowStatus, WorkflowVersion


class WorkflowCreateInput(StrictSerializer):
    definition = JSONObjectField()
    name = serializers.CharField(required=False, max_length=200, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    trigger_type = serializers.ChoiceField(choices=TriggerType.choices, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=50)
    status = serializers.ChoiceField(choices=WorkflowStatus.choices, required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)


class WorkflowReplaceInput(WorkflowCreateInput):
    change_summary = serializers.CharField(required=False, max_length=500, allow_blank=True)


class WorkflowPatchInput(WorkflowReplaceInput):
    definition = JSONObjectField(required=False)
    # Seed 002's editor graph: replaces the steps, keeps inputs/outputs/settings.
    nodes = serializers.ListField(child=serializers.JSONField(), required=False, max_length=10_000)
    edges = serializers.ListField(child=serializers.JSONField(), required=False, max_length=100_000)


class WorkflowStatusInput(StrictSerializer):
    status = serializers.ChoiceField(choices=WorkflowStatus.choices)


class ValidateInput(StrictSerializer):
    definition = JSONObjectField()


class ValidateOutput(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = serializers.ListField(child=serializers.CharField())


class DuplicateInput(StrictSerializer):
    name = serializers.CharField(required=False, max_length=200)


class RollbackInput(StrictSerializer):
    version = serializers.IntegerField(min_value=1, max_value=2_147_483_647)


class WorkflowSummaryOutput(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by_id", allow_null=True)

    class Meta:
        model = Workflow
        fields = [
            "id",
            "name",
            "description",
            "version",
            "status",
            "trigger_type",
            "tags",
            "created_by",
            "created_at",
            "updated_at",
            "visibility",
        ]


class WorkflowOutput(WorkflowSummaryOutput):
    """The canonical workflow; seed 002's ``nodes`` and ``edges`` (the definition's steps as an
    editor's graph) sit beside ``definition``."""

    definition = serializers.SerializerMethodField()
    nodes = serializers.SerializerMethodField()
    edges = serializers.SerializerMethodField()

    class Meta(WorkflowSummaryOutput.Meta):
        fields = [
            *WorkflowSummaryOutput.Meta.fields[:7],
            "definition",
            *WorkflowSummaryOutput.Meta.fields[7:],
            "nodes",
            "edges",
        ]

    def get_definition(self, workflow: Workflow) -> dict:
        return workflow.full_definition()

    def _graph(self, workflow: Workflow) -> tuple[list[dict], list[dict]]:
        cached = getattr(self, "_graph_of", None)
        if cached is None or cached[0] is not workflow:
            cached = (workflow, definition_graph(workflow.definition))
            self._graph_of = cached
        return cached[1]

    def get_nodes(self, workflow: Workflow) -> list[dict]:
        return self._graph(workflow)[0]

    def get_edges(self, workflow: Workflow) -> list[dict]:
        return self._graph(workflow)[1]


class WorkflowEnvelope(serializers.Serializer):
    workflow = WorkflowOutput()


class WorkflowCreatedOutput(serializers.Serializer):
    id = serializers.CharField()
    workflow = WorkflowOutput()


class WorkflowListOutput(serializers.Serializer):
    workflows = WorkflowSummaryOutput(many=True)
    total = serializers.IntegerField()


class VersionSummaryOutput(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by_id", allow_null=True)

    class Meta:
        model = WorkflowVersion
        fields = ["version", "change_summary", "created_at", "created_by"]


class VersionOutput(VersionSummaryOutput):
    definition = serializers.SerializerMethodField()

    class Meta(VersionSummaryOutput.Meta):
        fields = [*VersionSummaryOutput.Meta.fields, "definition"]

    def get_definition(self, version: WorkflowVersion) -> dict:
        workflow = version.workflow
        return {"name": workflow.name, "description": workflow.description, **version.definition}


class VersionListOutput(serializers.Serializer):
    versions = VersionSummaryOutput(many=True)
    total = serializers.IntegerField()


class DiffOutput(serializers.Serializer):
    diff = serializers.ListField(child=serializers.DictField())
    summary = serializers.CharField()
    v1 = serializers.IntegerField()
    v2 = serializers.IntegerField()


class SchemaOutput(serializers.Serializer):
    inputs = serializers.DictField()
    outputs = serializers.DictField()
