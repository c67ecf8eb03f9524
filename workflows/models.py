"""Workflows and their versions.

``Workflow.definition`` holds the canonical definition (SPEC 4) without its
``name`` and ``description``: those are the workflow's own columns, so a rename
is not a new version. Every definition change adds a WorkflowVersion row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django_celery_beat.models import PeriodicTask

from orchestrator.ids import new_sched_id, new_tpl_id, new_ver_id, new_wf_id
from orchestrator.models import Tenant, TenantQuerySet


class WorkflowStatus(models.TextChoices):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    ARCHIVED = "archived"


class Visibility(models.TextChoices):
    """Seed 002's flag. Within a tenant every member already sees every workflow, and another
    tenant's workflow is a 404 whatever its visibility: it is kept and returned, it grants nothing."""

    PRIVATE = "private"
    PUBLIC = "public"


class TriggerType(models.TextChoices):
    MANUAL = "manual"
    SCHEDULE = "schedule"
    WEBHOOK = "webhook"


class Workflow(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=new_wf_id, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="workflows")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    version = models.PositiveIntegerField(default=1)
    # Seed 004's free-form release label ("1.0.0"): set by its client, never bumped by us. ``version``
    # above counts definition versions and is what runs, diffs and rollbacks use.
    semantic_version = models.CharField(max_length=50, default="1.0.0")
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE)
    status = models.CharField(max_length=10, choices=WorkflowStatus.choices, default=WorkflowStatus.ACTIVE)
    trigger_type = models.CharField(max_length=10, choices=TriggerType.choices, default=TriggerType.MANUAL)
    tags = models.JSONField(default=list, blank=True)
    definition = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="workflow_name_unique_per_tenant")]
        indexes = [models.Index(fields=["tenant", "status"]), models.Index(fields=["tenant", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    def full_definition(self) -> dict:
        """The canonical definition with the workflow's name and description in front."""
        return {"name": self.name, "description": self.description, **self.definition}


class WorkflowVersion(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=new_ver_id, editable=False)
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    definition = models.JSONField()
    change_summary = models.CharField(max_length=500, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["workflow", "version"], name="workflow_version_unique")]

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.version}"


class MissedExecutionPolicy(models.TextChoices):
    SKIP = "skip"
    RUN_IMMEDIATELY = "run_immediately"
    QUEUE = "queue"


class Schedule(models.Model):
    """A cron schedule of a workflow, kept in step with one django-celery-beat PeriodicTask.

    ``covered_until``: every slot at or before it has been handled (run, skipped or
    dropped); a fire only looks at slots after it, which makes a second fire of the
    same slot a no-op. ``last_run_at`` is the slot time of the latest run started.
    """

    id = models.CharField(primary_key=True, max_length=40, default=new_sched_id, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="schedules")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="schedules")
    cron_expression = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="UTC")
    inputs = models.JSONField(default=dict, blank=True)
    missed_execution_policy = models.CharField(
        max_length=20, choices=MissedExecutionPolicy.choices, default=MissedExecutionPolicy.SKIP
    )
    enabled = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    covered_until = models.DateTimeField()
    periodic_task = models.OneToOneField(
        PeriodicTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="workflow_schedule"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["tenant", "workflow"])]

    def __str__(self) -> str:
        return f"{self.cron_expression} {self.timezone} ({self.id})"


@receiver(post_delete, sender=Schedule)
def _schedule_periodic_task_delete(sender, instance: Schedule, **kwargs) -> None:
    # Also when a workflow's deletion cascades to its schedules: no orphaned beat entry keeps firing.
    if instance.periodic_task_id:
        PeriodicTask.objects.filter(id=instance.periodic_task_id).delete()


class TemplateCategory(models.TextChoices):
    MONITORING = "monitoring"
    DATA = "data"
    NOTIFICATIONS = "notifications"
    AI = "ai"
    APPROVALS = "approvals"
    DEVOPS = "devops"
    CUSTOM = "custom"


class Template(models.Model):
    """A reusable workflow: a built-in (``tenant`` empty, shared by every tenant, read-only,
    keyed by ``slug`` and kept in step with orchestrator/authoring/library/ by ``load_templates``)
    or a tenant's own, saved from one of its workflows.

    ``definition`` is canonical without name and description, like ``Workflow.definition``.
    ``integrations`` lists the credentials it needs as placeholders
    (``[{"key", "type", "description", "steps"}]``); installing maps each key to one of the
    tenant's integrations. ``schedule`` is a suggested ``{"cron_expression", "timezone"}``.
    """

    id = models.CharField(primary_key=True, max_length=40, default=new_tpl_id, editable=False)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="templates")
    slug = models.SlugField(max_length=100, blank=True, default="")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    category = models.CharField(max_length=20, choices=TemplateCategory.choices, default=TemplateCategory.CUSTOM)
    keywords = models.JSONField(default=list, blank=True)
    definition = models.JSONField()
    integrations = models.JSONField(default=list, blank=True)
    schedule = models.JSONField(null=True, blank=True)
    trigger_type = models.CharField(max_length=10, choices=TriggerType.choices, default=TriggerType.MANUAL)
    source_workflow_id = models.CharField(max_length=40, blank=True, default="")
    # Lower-cased name, description and keywords: one portable column for ?search= (SQLite and PostgreSQL).
    search_text = models.TextField(blank=True, default="", editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["category", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["slug"], condition=models.Q(tenant__isnull=True), name="template_builtin_slug_unique"
            ),
            models.UniqueConstraint(
                fields=["tenant", "name"],
                condition=models.Q(tenant__isnull=False),
                name="template_name_unique_per_tenant",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "category"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    def save(self, *args, **kwargs) -> None:
        self.search_text_refresh()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)

    def search_text_refresh(self) -> None:
        """Also called before bulk writes, which skip save()."""
        self.search_text = " ".join([self.name, self.description, *map(str, self.keywords or [])]).lower()

    @property
    def is_builtin(self) -> bool:
        return self.tenant_id is None

    @property
    def slug_or_none(self) -> str | None:
        return self.slug or None

    @property
    def source_workflow_or_none(self) -> str | None:
        return self.source_workflow_id or None

    def full_definition(self) -> dict:
        return {"name": self.name, "description": self.description, **self.definition}
