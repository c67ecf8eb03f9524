from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from orchestrator.models import Tenant, User


class UserInline(admin.TabularInline):
    model = User
    extra = 0
    fields = ["username", "email", "role", "is_active"]
    show_change_link = True


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "created_at"]
    search_fields = ["name", "id"]
    readonly_fields = ["id", "created_at"]
    inlines = [UserInline]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "tenant", "role", "is_staff", "is_active"]
    list_filter = ["role", "is_staff", "is_active", "tenant"]
    fieldsets = [*BaseUserAdmin.fieldsets, ("Tenancy", {"fields": ["tenant", "role"]})]
    add_fieldsets = [*BaseUserAdmin.add_fieldsets, ("Tenancy", {"fields": ["tenant", "role"]})]
