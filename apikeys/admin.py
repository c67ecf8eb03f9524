from django.contrib import admin, messages
from django.utils import timezone

from apikeys.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "key_prefix", "tenant", "user", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["tenant"]
    search_fields = ["name", "key_prefix"]
    # The hash is never shown; keys are issued through the API or create_api_key.
    fields = ["name", "key_prefix", "tenant", "user", "created_at", "last_used_at", "expires_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request, queryset) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} key(s).", messages.SUCCESS)
