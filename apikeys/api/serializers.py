from __future__ import annotations

from rest_framework import serializers

from apikeys.models import ApiKey
from orchestrator.api.serializers import StrictSerializer


class ApiKeyCreateInput(StrictSerializer):
    name = serializers.CharField(max_length=200)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class ApiKeyOutput(serializers.ModelSerializer):
    """Canonical snake_case fields, and seed 002's camelCase ones beside them (same values)."""

    keyPrefix = serializers.CharField(source="key_prefix", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    lastUsedAt = serializers.DateTimeField(source="last_used_at", read_only=True, allow_null=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "key_prefix",
            "created_at",
            "last_used_at",
            "expires_at",
            "keyPrefix",
            "createdAt",
            "lastUsedAt",
        ]


class ApiKeyCreatedOutput(serializers.Serializer):
    """Canonical ``{api_key, key}``; seed 002 reads ``id``, ``name``, ``keyPrefix``, ``createdAt`` beside ``key``."""

    api_key = ApiKeyOutput()
    key = serializers.CharField(help_text="The full key (wfb_…). Shown once, never again.")
    id = serializers.CharField()
    name = serializers.CharField()
    keyPrefix = serializers.CharField()
    createdAt = serializers.DateTimeField()


class ApiKeyEnvelope(serializers.Serializer):
    api_key = ApiKeyOutput()


class ApiKeyListOutput(serializers.Serializer):
    api_keys = ApiKeyOutput(many=True)
    total = serializers.IntegerField()
