"""Serializers of the authoring endpoints: templates, parse, generate (SPEC 11)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orchestrator.api.serializers import JSONObjectField, StrictSerializer
from workflows.api.serializers import WorkflowOutput
from workflows.models import Template, TemplateCategory, WorkflowStatus


class TemplateSummaryOutput(serializers.ModelSerializer):
    is_builtin = serializers.BooleanField(read_only=True)
    slug = serializers.CharField(allow_null=True, source="slug_or_none")
    created_by = serializers.CharField(source="created_by_id", allow_null=True)

    class Meta:
        model = Template
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "category",
            "keywords",
            "is_builtin",
            "trigger_type",
            "integrations",
            "schedule",
            "created_by",
            "created_at",
            "updated_at",
        ]


class TemplateOutput(TemplateSummaryOutput):
    definition = serializers.SerializerMethodField()
    source_workflow_id = serializers.CharField(allow_null=True, source="source_workflow_or_none")

    class Meta(TemplateSummaryOutput.Meta):
        fields = [*TemplateSummaryOutput.Meta.fields, "source_workflow_id", "definition"]

    def get_definition(self, template: Template) -> dict:
        return template.full_definition()


class TemplateListOutput(serializers.Serializer):
    templates = TemplateSummaryOutput(many=True)
    total = serializers.IntegerField()


class TemplateEnvelope(serializers.Serializer):
    template = TemplateOutput()


class TemplateCreateInput(StrictSerializer):
    workflow_id = serializers.CharField(max_length=40)
    name = serializers.CharField(required=False, max_length=200)
    category = serializers.ChoiceField(choices=TemplateCategory.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class TemplateCreatedOutput(serializers.Serializer):
    template_id = serializers.CharField()
    template = TemplateOutput()


class TemplateInstallInput(StrictSerializer):
    name = serializers.CharField(required=False, max_length=200)
    inputs = JSONObjectField(required=False, help_text="Defaults for the template's inputs, by name.")
    integrations = serializers.DictField(
        child=serializers.CharField(max_length=200),
        required=False,
        help_text='The template\'s integration placeholders mapped to integrations (ID or name): {"alerts": "int_…"}.',
    )
    status = serializers.ChoiceField(choices=WorkflowStatus.choices, required=False)


class TemplateInstalledOutput(serializers.Serializer):
    workflow_id = serializers.CharField()
    workflow = WorkflowOutput()


class ParseContextInput(serializers.Serializer):
    """Documentation only: the context is checked by the parse service (unknown keys are ignored)."""

    availableTools = serializers.ListField(child=serializers.CharField(), required=False)  # noqa: N815
    integration_id = serializers.CharField(required=False, help_text="An llm integration (ID or name) to ask.")
    source = serializers.ChoiceField(choices=["auto", "rules", "llm", "template"], required=False)
    organizationId = serializers.CharField(required=False, help_text="Accepted and ignored (seed 004).")  # noqa: N815


@extend_schema_field(ParseContextInput)
class ParseContextField(JSONObjectField):
    """Any JSON object; the parse service checks the keys it reads (others are ignored, as seed 004 sends them)."""


class ParseInput(StrictSerializer):
    instruction = serializers.CharField(min_length=5, max_length=5000, trim_whitespace=True)
    context = ParseContextField(required=False)


class GenerateInput(StrictSerializer):
    prompt = serializers.CharField(min_length=5, max_length=5000, trim_whitespace=True)
    context = ParseContextField(required=False)


class ParsedScheduleOutput(serializers.Serializer):
    cron_expression = serializers.CharField()
    timezone = serializers.CharField()
    description = serializers.CharField()


class ParsedWorkflowOutput(serializers.Serializer):
    # Plain strings, not enums: a named enum component would collide with other fields of these names.
    type = serializers.CharField(help_text="generated | template")
    name = serializers.CharField()
    description = serializers.CharField()
    inputs = serializers.DictField()
    outputs = serializers.DictField()
    steps = serializers.ListField(child=serializers.DictField())
    schedule = ParsedScheduleOutput(required=False, help_text="Only when the instruction states one.")
    trigger_type = serializers.CharField(help_text="manual | schedule | webhook (schedule when one is stated)")
    confidence = serializers.FloatField(min_value=0, max_value=1)
    source = serializers.CharField(help_text="template | rules | llm")
    valid = serializers.BooleanField()
    notes = serializers.ListField(child=serializers.CharField())
    template_id = serializers.CharField(required=False)
    template_slug = serializers.CharField(required=False, allow_null=True)


class ParseOutput(serializers.Serializer):
    workflow = ParsedWorkflowOutput()
    parse_time_ms = serializers.FloatField()
