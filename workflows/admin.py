from django.contrib import admin

from workflows.models import Workflow, WorkflowVersion


class WorkflowVersionInline(admin.TabularInline):
    model = WorkflowVersion
    extra = 0
    fields = ["version", "change_summary", "created_by", "created_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "tenant", "status", "trigger_type", "version", "updated_at"]
    list_filter = ["status", "trigger_type", "tenant"]
    search_fields = ["name", "id"]
    # The definition changes only through the API (validated, versioned), never by a raw edit here.
    readonly_fields = ["id", "version", "definition", "created_by", "created_at", "updated_at"]
    inlines = [WorkflowVersionInline]


@admin.register(WorkflowVersion)
class WorkflowVersionAdmin(admin.ModelAdmin):
    list_display = ["workflow", "version", "change_summary", "created_at"]
    search_fields = ["workflow__name", "workflow__id"]
    readonly_fields = ["workflow", "version", "definition", "change_summary", "created_by", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False
