from django.contrib import admin

from workflows.models import Schedule, Workflow, WorkflowVersion
from workflows.schedules import schedule_delete, schedule_update


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


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ["id", "workflow", "cron_expression", "timezone", "enabled", "next_run_at", "last_run_at", "tenant"]
    list_filter = ["enabled", "missed_execution_policy", "tenant"]
    search_fields = ["id", "workflow__name", "workflow__id"]
    ordering = ["next_run_at"]
    # Only ``enabled`` is edited here, through the service, so that the beat entry stays in step.
    readonly_fields = [
        "id",
        "tenant",
        "workflow",
        "cron_expression",
        "timezone",
        "inputs",
        "missed_execution_policy",
        "next_run_at",
        "last_run_at",
        "covered_until",
        "periodic_task",
        "created_by",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False  # created through the API, which validates the cron, timezone and inputs

    def save_model(self, request, obj: Schedule, form, change: bool) -> None:
        schedule_update(schedule=obj, enabled=obj.enabled)

    def delete_model(self, request, obj: Schedule) -> None:
        schedule_delete(schedule=obj)
