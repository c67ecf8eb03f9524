"""API keys: ``wfb_`` + 40 random characters, stored as a SHA-256 hash and looked up by prefix."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from orchestrator.ids import new_key_id
from orchestrator.models import Tenant, TenantQuerySet


class ApiKeyQuerySet(TenantQuerySet):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=new_key_id, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=200)
    key_prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def api_key_id(self) -> str:
        """What the rate limiter counts against (request.auth is this key)."""
        return self.id
