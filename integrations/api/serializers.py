from __future__ import annotations

from rest_framework import serializers

from integrations.models import Integration, IntegrationType
from orchestrator.api.serializers import JSONObjectField, StrictSerializer


class IntegrationCreateInput(StrictSerializer):
    name = serializers.CharField(max_length=200)
    type = serializers.ChoiceField(choices=IntegrationType.choices)
    config = JSONObjectField(help_text="The provider's settings and credentials; see the type's config schema.")


class IntegrationUpdateInput(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False)
    type = serializers.ChoiceField(choices=IntegrationType.choices, required=False, help_text="Cannot change.")
    config = JSONObjectField(
        required=False,
        help_text="Replaces the config. A secret sent as the mask `********` keeps its stored value.",
    )


class IntegrationOutput(serializers.ModelSerializer):
    """An integration without its config (lists never show it)."""

    created_by = serializers.CharField(source="created_by_id", allow_null=True)

    class Meta:
        model = Integration
        fields = ["id", "name", "type", "created_by", "created_at", "updated_at"]


class IntegrationDetailOutput(IntegrationOutput):
    config = serializers.DictField(help_text="Decrypted for admins and owners; secrets masked as ******** otherwise.")
    config_masked = serializers.BooleanField(help_text="Whether the secrets in config are masked.")

    class Meta(IntegrationOutput.Meta):
        fields = IntegrationOutput.Meta.fields + ["config", "config_masked"]


class IntegrationEnvelope(serializers.Serializer):
    integration = IntegrationDetailOutput()


class IntegrationListOutput(serializers.Serializer):
    integrations = IntegrationOutput(many=True)
    total = serializers.IntegerField()


class IntegrationTestOutput(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()


class IntegrationTypeOutput(serializers.Serializer):
    type = serializers.CharField()
    config_schema = serializers.DictField()
    secret_fields = serializers.ListField(child=serializers.CharField())
    actions = serializers.ListField(child=serializers.CharField())


class IntegrationTypeListOutput(serializers.Serializer):
    integration_types = IntegrationTypeOutput(many=True)
    total = serializers.IntegerField()
