"""Schedule API (SPEC 9): serializers and thin views over workflows/schedules.py.

Roles per SPEC 3: any tenant user reads; admins (and owners) manage schedules.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestrator.api.pagination import paginated
from orchestrator.api.serializers import JSONObjectField, StrictSerializer
from orchestrator.models import Role
from workflows.models import Schedule
from workflows.schedules import schedule_create, schedule_delete, schedule_get, schedule_list, schedule_update
from workflows.selectors import workflow_get

TAG = ["Schedules"]
EXAMPLE = {
    "cron_expression": "0 9 * * 1",
    "timezone": "America/New_York",
    "inputs": {"date_range": "LAST_WEEK"},
    "missed_execution_policy": "run_immediately",
}


class ScheduleCreateInput(StrictSerializer):
    # Cron, timezone and policy are checked together by the service, so one 400 lists every problem.
    cron_expression = serializers.CharField(max_length=200)
    timezone = serializers.CharField(max_length=64, required=False, default="UTC")
    inputs = JSONObjectField(required=False, default=dict)
    missed_execution_policy = serializers.CharField(max_length=20, required=False, default="skip")
    enabled = serializers.BooleanField(required=False, default=True)


class SchedulePatchInput(StrictSerializer):
    cron_expression = serializers.CharField(max_length=200, required=False)
    timezone = serializers.CharField(max_length=64, required=False)
    inputs = JSONObjectField(required=False)
    missed_execution_policy = serializers.CharField(max_length=20, required=False)
    enabled = serializers.BooleanField(required=False)


class ScheduleOutput(serializers.ModelSerializer):
    workflow_id = serializers.CharField()
    created_by = serializers.CharField(source="created_by_id", allow_null=True)

    class Meta:
        model = Schedule
        fields = [
            "id",
            "workflow_id",
            "cron_expression",
            "timezone",
            "inputs",
            "missed_execution_policy",
            "enabled",
            "next_run_at",
            "last_run_at",
            "created_by",
            "created_at",
            "updated_at",
        ]


class ScheduleEnvelope(serializers.Serializer):
    schedule = ScheduleOutput()


class ScheduleCreatedOutput(serializers.Serializer):
    schedule_id = serializers.CharField()
    schedule = ScheduleOutput()


class ScheduleListOutput(serializers.Serializer):
    schedules = ScheduleOutput(many=True)
    total = serializers.IntegerField()


def _valid(serializer_class: type, data: object) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class WorkflowScheduleListCreateView(APIView):
    read_role = Role.VIEWER
    write_role = Role.ADMIN

    @extend_schema(
        tags=TAG,
        summary="Schedules of a workflow",
        parameters=[OpenApiParameter("limit", int), OpenApiParameter("offset", int)],
        responses=ScheduleListOutput,
    )
    def get(self, request: Request, workflow_id: str) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        schedules = schedule_list(workflow=workflow)
        return paginated(request, schedules, "schedules", lambda sc: ScheduleOutput(sc).data)

    @extend_schema(
        tags=TAG,
        summary="Create a cron schedule (400 lists every bad field: cron, timezone, policy, inputs)",
        request=ScheduleCreateInput,
        responses={201: ScheduleCreatedOutput},
        examples=[OpenApiExample("Every Monday 09:00 New York", value=EXAMPLE, request_only=True)],
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        workflow = workflow_get(tenant=request.user.tenant, workflow_id=workflow_id)
        data = _valid(ScheduleCreateInput, request.data)
        data["timezone_name"] = data.pop("timezone")
        schedule = schedule_create(workflow=workflow, user=request.user, **data)
        return Response(
            {"schedule_id": schedule.id, "schedule": ScheduleOutput(schedule).data}, status=status.HTTP_201_CREATED
        )


class ScheduleDetailView(APIView):
    read_role = Role.VIEWER
    write_role = Role.ADMIN

    @extend_schema(tags=TAG, summary="A schedule", responses=ScheduleEnvelope)
    def get(self, request: Request, schedule_id: str) -> Response:
        schedule = schedule_get(tenant=request.user.tenant, schedule_id=schedule_id)
        return Response({"schedule": ScheduleOutput(schedule).data})

    @extend_schema(
        tags=TAG,
        summary="Update a schedule; next_run_at is recomputed",
        request=SchedulePatchInput,
        responses=ScheduleEnvelope,
        examples=[OpenApiExample("Mondays and Thursdays", value={"cron_expression": "0 9 * * 1,4"}, request_only=True)],
    )
    def patch(self, request: Request, schedule_id: str) -> Response:
        schedule = schedule_get(tenant=request.user.tenant, schedule_id=schedule_id)
        data = _valid(SchedulePatchInput, request.data)
        return Response({"schedule": ScheduleOutput(schedule_update(schedule=schedule, **data)).data})

    @extend_schema(tags=TAG, summary="Delete a schedule and its beat entry", responses={204: None})
    def delete(self, request: Request, schedule_id: str) -> Response:
        schedule_delete(schedule=schedule_get(tenant=request.user.tenant, schedule_id=schedule_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
