"""Integrations: a tenant's credentials for a provider, stored encrypted (SPEC 10)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from orchestrator.ids import new_int_id
from orchestrator.models import Tenant, TenantQuerySet


class IntegrationType(models.TextChoices):
    SLACK = "slack", "Slack"
    SMTP = "smtp", "SMTP"
    HTTP = "http", "HTTP API"
    LLM = "llm", "LLM (OpenAI-compatible)"


class Integration(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=new_int_id, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="integrations")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=10, choices=IntegrationType.choices)
    # "<key id>:<base64(nonce ‖ AES-256-GCM ciphertext ‖ tag)>" of the JSON config; see integrations/crypto.py.
    config_encrypted = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="integration_name_unique_per_tenant")]

    def __str__(self) -> str:
        return f"{self.name} ({self.type}, {self.id})"

    @property
    def key_id(self) -> str:
        """The id of the key the config is encrypted with (not a secret)."""
        return self.config_encrypted.partition(":")[0]

    @property
    def associated_data(self) -> bytes:
        # Binds the ciphertext to this row: copied into another row or tenant, it does not decrypt.
        return f"integration|{self.tenant_id}|{self.id}".encode()
