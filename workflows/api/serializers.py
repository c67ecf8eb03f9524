from __future__ import annotations

from rest_framework import serializers

from orchestrator.api.serializers import JSONObjectField, StrictSerializer
from workflows.models import TriggerType, Workflow, WorkflowStatus, WorkflowVersion


class WorkflowCreateInput(StrictSerializer):
    definition = JSONObjectField()
    name = serializers.CharField(required=False, max_length=200, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    trigger_type = serializers.ChoiceField(choices=TriggerType.choices, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=50)
    status = serializers.ChoiceField(choices=WorkflowStatus.choices, required=False)


class WorkflowReplaceInput(WorkflowCreateInput):
    change_summary = serializers.CharField(required=False, max_length=500, allow_blank=True)


class WorkflowPatchInput(WorkflowReplaceInput):
    definition = JSONObjectField(required=False)


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
    version = serializers.IntegerField(min_value=1)


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
        ]


class WorkflowOutput(WorkflowSummaryOutput):
    definition = serializers.SerializerMethodField()

    class Meta(WorkflowSummaryOutput.Meta):
        fields = [*WorkflowSummaryOutput.Meta.fields[:7], "definition", *WorkflowSummaryOutput.Meta.fields[7:]]

    def get_definition(self, workflow: Workflow) -> dict:
        return workflow.full_definition()


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
