from django.contrib import admin

from integrations.models import Integration
from integrations.schemas import MASK


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    """Operators see that an integration exists and which key seals it, never its config:
    nothing here decrypts. Integrations are created and edited through the API."""

    list_display = ["name", "type", "tenant", "config_display", "created_by", "created_at", "updated_at"]
    list_filter = ["type", "tenant"]
    search_fields = ["name", "id"]
    fields = ["id", "name", "type", "tenant", "config_display", "created_by", "created_at", "updated_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="config")
    def config_display(self, obj: Integration) -> str:
        return f"{MASK} (encrypted, key id {obj.key_id})"
