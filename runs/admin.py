from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from orchestrator.errors import DomainError
from runs.models import Event, Run, StepRun
from runs.services import run_cancel, run_resume

_COLOURS = {
    "completed": "#2e7d32",
    "failed": "#c62828",
    "running": "#1565c0",
    "queued": "#6a1b9a",
    "waiting": "#ef6c00",
    "skipped": "#9e9e9e",
    "cancelled": "#616161",
    "pending": "#bdbdbd",
}


class StepRunInline(admin.TabularInline):
    model = StepRun
    extra = 0
    fields = ["step_id", "step_type", "status", "attempt", "started_at", "completed_at", "error"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["id", "workflow", "status", "trigger", "created_at", "duration_seconds"]
    list_filter = ["status", "trigger", "tenant"]
    search_fields = ["id", "workflow__name"]
    readonly_fields = [f.name for f in Run._meta.fields] + ["graph"]
    inlines = [StepRunInline]
    actions = ["cancel", "retry"]

    @admin.display(description="DAG")
    def graph(self, run: Run) -> str:
        """The steps in dependency layers, each coloured by its status."""
        status = {sr.step_id: sr.status for sr in run.step_runs.filter(parent__isnull=True)}
        steps = run.definition.get("steps", [])
        depth: dict[str, int] = {}
        for step in steps:  # steps are stored in an order where dependencies may come later
            depth.setdefault(step["id"], 0)
        for _ in range(len(steps)):
            for step in steps:
                deps = step.get("depends_on", [])
                depth[step["id"]] = max([depth.get(d, 0) + 1 for d in deps] or [0])
        layers: dict[int, list[dict]] = {}
        for step in steps:
            layers.setdefault(depth[step["id"]], []).append(step)
        rows = []
        for level in sorted(layers):
            boxes = format_html_join(
                " ",
                '<span style="display:inline-block;margin:2px;padding:4px 8px;border-radius:4px;color:#fff;'
                'background:{}" title="{} ← {}">{}: {}</span>',
                (
                    (
                        _COLOURS.get(status.get(s["id"], "pending"), "#bdbdbd"),
                        s["type"],
                        ", ".join(s.get("depends_on", [])) or "start",
                        s["id"],
                        status.get(s["id"], "pending"),
                    )
                    for s in layers[level]
                ),
            )
            rows.append(format_html("<div>{}</div>", boxes))
        return format_html_join("", "{}", ((row,) for row in rows))

    @admin.action(description="Cancel selected runs")
    def cancel(self, request, queryset) -> None:
        for run in queryset:
            try:
                run_cancel(run=run, reason=f"Cancelled by {request.user.username} in the admin.")
            except DomainError as exc:
                self.message_user(request, f"{run.id}: {exc.message}", messages.WARNING)

    @admin.action(description="Resume selected runs from their failed steps (new runs)")
    def retry(self, request, queryset) -> None:
        for run in queryset:
            try:
                new = run_resume(run=run)
                self.message_user(request, f"{run.id} → {new.id}", messages.SUCCESS)
            except DomainError as exc:
                self.message_user(request, f"{run.id}: {exc.message}", messages.WARNING)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["run", "sequence", "type", "step_id", "timestamp"]
    list_filter = ["type"]
    search_fields = ["run__id", "workflow_id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
