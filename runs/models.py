"""Runs, their step runs and events. PostgreSQL is the source of truth; Celery
messages only say "look at step run X, attempt N".

One StepRun row per step per run (and per loop iteration), carrying its attempt
counter: a retry re-queues the same row with ``attempt + 1``. The counters
``deps_*`` make fan-in O(out-degree): each settling step bumps its dependants'
counters under the run's row lock, and a step is decided when ``deps_settled``
reaches ``deps_total``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from orchestrator.ids import new_evt_id, new_run_id, new_step_id
from orchestrator.models import Tenant, TenantQuerySet
from workflows.models import Workflow


class RunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


RUN_TERMINAL = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.TIMED_OUT})


class RunTrigger(models.TextChoices):
    MANUAL = "manual"
    API = "api"
    SCHEDULE = "schedule"
    WEBHOOK = "webhook"
    RESUME = "resume"


class StepStatus(models.TextChoices):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


STEP_TERMINAL = frozenset({StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.CANCELLED})
STEP_ACTIVE = frozenset({StepStatus.QUEUED, StepStatus.RUNNING, StepStatus.WAITING})


class Run(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=new_run_id, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="runs")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="runs")
    workflow_version = models.PositiveIntegerField()
    # The definition as it was when the run started: later edits don't change a run.
    definition = models.JSONField()
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True)
    trigger = models.CharField(max_length=10, choices=RunTrigger.choices, default=RunTrigger.MANUAL)
    inputs = models.JSONField(default=dict, blank=True)
    outputs = models.JSONField(null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A sub_workflow step's run points at the step run waiting for it.
    parent_step_run = models.ForeignKey(
        "StepRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="child_runs"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True, db_index=True)
    steps_remaining = models.IntegerField(default=0)
    event_sequence = models.IntegerField(default=0)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "status"]),
            models.Index(fields=["workflow", "status"]),
            models.Index(fields=["tenant", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in RUN_TERMINAL

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.completed_at
        if end is None:
            from django.utils import timezone

            end = timezone.now()
        return round((end - self.started_at).total_seconds(), 3)


class StepRun(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=new_step_id, editable=False)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="step_runs")
    step_id = models.CharField(max_length=120)
    step_type = models.CharField(max_length=60)
    # Loop iterations are step runs of their loop: parent set, iteration = index.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="iterations")
    iteration = models.IntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=StepStatus.choices, default=StepStatus.PENDING)
    attempt = models.PositiveIntegerField(default=0)
    worker_losses = models.PositiveSmallIntegerField(default=0)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    logs = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Queued rows due later (backoff) and waiting rows (wait step) are swept by beat.
    due_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True, default="")
    wait_signal = models.CharField(max_length=200, blank=True, default="")
    deps_total = models.IntegerField(default=0)
    deps_settled = models.IntegerField(default=0)
    deps_succeeded = models.IntegerField(default=0)
    deps_failed = models.IntegerField(default=0)
    branch_skipped = models.BooleanField(default=False)

    class Meta:
        ordering = ["run", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "step_id"], condition=models.Q(parent__isnull=True), name="step_run_unique_per_run"
            ),
            models.UniqueConstraint(
                fields=["parent", "iteration"], condition=models.Q(parent__isnull=False), name="iteration_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["status", "lease_expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.step_id} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.completed_at is None:
            return None
        return round((self.completed_at - self.started_at).total_seconds(), 3)


class Event(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=new_evt_id, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    workflow_id = models.CharField(max_length=40, db_index=True)
    sequence = models.IntegerField()
    type = models.CharField(max_length=30)
    step_id = models.CharField(max_length=120, null=True, blank=True)
    timestamp = models.DateTimeField(auto_now_add=True)
    data = models.JSONField(default=dict, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["run", "sequence"]
        constraints = [models.UniqueConstraint(fields=["run", "sequence"], name="event_sequence_unique_per_run")]
        indexes = [models.Index(fields=["tenant", "timestamp"])]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.sequence} {self.type}"


class IdempotencyKey(models.Model):
    """The first answer to a run-starting request, replayed for 24 h to the same key."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=200)
    run = models.ForeignKey(Run, null=True, on_delete=models.CASCADE, related_name="+")
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "key", "scope"], name="idempotency_key_unique")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
