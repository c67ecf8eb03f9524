from __future__ import annotations

from rest_framework import serializers

from orchestrator.api.serializers import JSONObjectField, StrictSerializer
from orchestrator.security.redaction import redact, redact_text
from runs.models import Event, Run, StepRun


class RunStartInput(StrictSerializer):
    input_data = JSONObjectField(required=False)
    trigger = serializers.ChoiceField(choices=["manual", "api"], required=False, default="manual")
    metadata = JSONObjectField(required=False)


class ExecuteInput(StrictSerializer):
    input = JSONObjectField(required=False)
    inputs = JSONObjectField(required=False)
    input_data = JSONObjectField(required=False)
    metadata = JSONObjectField(required=False)
    # "async" is a Python keyword: declared below under its JSON name.
    wait_seconds = serializers.FloatField(required=False, min_value=0, max_value=300, default=30)

    def get_fields(self) -> dict:
        fields = super().get_fields()
        fields["async"] = serializers.BooleanField(required=False, default=True)
        return fields

    def validate(self, attrs: dict) -> dict:
        given = [name for name in ("input", "inputs", "input_data") if name in attrs]
        if len(given) > 1:
            raise serializers.ValidationError(f"Give the input once, not as {' and '.join(given)}.")
        attrs["run_input"] = attrs.get(given[0]) if given else {}
        return attrs


class CancelInput(StrictSerializer):
    reason = serializers.CharField(required=False, max_length=500)


class ResumeInput(StrictSerializer):
    from_step = serializers.CharField(required=False, max_length=120)
    signal = serializers.JSONField(required=False)


class RedactedJSONField(serializers.JSONField):
    """Outputs are kept as produced (later steps read them); what people see is masked."""

    def to_representation(self, value):
        return redact(super().to_representation(value))


class RedactedTextField(serializers.CharField):
    def to_representation(self, value):
        return redact_text(super().to_representation(value))


class StepRunOutput(serializers.ModelSerializer):
    duration_seconds = serializers.FloatField(allow_null=True)
    output = RedactedJSONField(allow_null=True)
    error = RedactedTextField(allow_null=True)

    class Meta:
        model = StepRun
        fields = [
            "step_id",
            "step_type",
            "status",
            "attempt",
            "output",
            "error",
            "started_at",
            "completed_at",
            "duration_seconds",
        ]


class RunSummaryOutput(serializers.ModelSerializer):
    duration_seconds = serializers.FloatField(allow_null=True)
    inputs = RedactedJSONField()
    outputs = RedactedJSONField(allow_null=True)
    error = RedactedTextField(allow_null=True)

    class Meta:
        model = Run
        fields = [
            "id",
            "workflow_id",
            "workflow_version",
            "status",
            "trigger",
            "inputs",
            "outputs",
            "error",
            "metadata",
            "created_at",
            "started_at",
            "completed_at",
            "duration_seconds",
        ]


class RunOutput(RunSummaryOutput):
    step_runs = StepRunOutput(many=True)

    class Meta(RunSummaryOutput.Meta):
        fields = [*RunSummaryOutput.Meta.fields, "step_runs"]


class RunEnvelope(serializers.Serializer):
    run = RunOutput()


class RunStartedOutput(serializers.Serializer):
    run_id = serializers.CharField()


class RunListOutput(serializers.Serializer):
    runs = RunSummaryOutput(many=True)
    total = serializers.IntegerField()


class RunStatusOutput(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.CharField()
    node_statuses = serializers.DictField(child=serializers.CharField())


class LogEntryOutput(serializers.Serializer):
    step_id = serializers.CharField()
    step_name = serializers.CharField()
    step_type = serializers.CharField()
    status = serializers.CharField()
    attempt = serializers.IntegerField()
    input = serializers.JSONField()
    output = serializers.JSONField()
    error = serializers.CharField(allow_null=True)
    logs = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)


def step_names(run: Run) -> dict[str, str]:
    return {step["id"]: step.get("name") or step["id"] for step in run.definition.get("steps", [])}


def log_entry(step_run: StepRun, names: dict[str, str]) -> dict:
    """One step run as a log entry, secrets redacted (input, output, error, logs)."""
    duration = step_run.duration_seconds
    return {
        "step_id": step_run.step_id,
        "step_name": names.get(step_run.step_id, step_run.step_id),
        "step_type": step_run.step_type,
        "status": step_run.status,
        "attempt": step_run.attempt,
        "input": redact(step_run.input),
        "output": redact(step_run.output),
        "error": redact_text(step_run.error) if step_run.error else None,
        "logs": redact_text(step_run.logs or ""),
        "started_at": step_run.started_at,
        "completed_at": step_run.completed_at,
        "duration_ms": int(duration * 1000) if duration is not None else None,
    }


class LogListOutput(serializers.Serializer):
    logs = LogEntryOutput(many=True)
    total = serializers.IntegerField()


class EventOutput(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = ["id", "sequence", "type", "run_id", "workflow_id", "step_id", "timestamp", "data"]


class EventListOutput(serializers.Serializer):
    events = EventOutput(many=True)
    total = serializers.IntegerField()
