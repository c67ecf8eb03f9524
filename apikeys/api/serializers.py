from __future__ import annotations

from rest_framework import serializers

from apikeys.models import ApiKey
from orchestrator.api.serializers import StrictSerializer


class ApiKeyCreateInput(StrictSerializer):
    name = serializers.CharField(max_length=200)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class ApiKeyOutput(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "key_prefix", "created_at", "last_used_at", "expires_at"]


class ApiKeyCreatedOutput(serializers.Serializer):
    api_key = ApiKeyOutput()
    key = serializers.CharField(help_text="The full key (wfb_…). Shown once, never again.")


class ApiKeyListOutput(serializers.Serializer):
    api_keys = ApiKeyOutput(many=True)
    total = serializers.IntegerField()
