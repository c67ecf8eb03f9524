"""Thin views over integrations/services.py and integrations/selectors.py (SPEC 10)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.api import serializers as s
from integrations.models import Integration, IntegrationType
from integrations.providers import ACTIONS
from integrations.schemas import CONFIG_SCHEMAS, SECRET_FIELDS, masked
from integrations.selectors import integration_get, integration_list
from integrations.services import (
    integration_config,
    integration_create,
    integration_delete,
    integration_test,
    integration_update,
)
from orchestrator.api.pagination import page_params, paginated
from orchestrator.models import Role

TAG = ["Integrations"]


def _valid(serializer_class: type, data: object) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _integration(integration: Integration, *, reveal: bool) -> dict:
    """The member shape; secrets in clear only when ``reveal`` (admins and owners reading it)."""
    config = integration_config(integration=integration)
    shown = config if reveal else masked(integration.type, config)
    return {"integration": {**s.IntegrationOutput(integration).data, "config": shown, "config_masked": not reveal}}


CREATE_EXAMPLES = [
    OpenApiExample(
        "Slack",
        value={"name": "My Slack Connection", "type": "slack", "config": {"apiKey": "xoxb-your-slack-token"}},
        request_only=True,
    ),
    OpenApiExample(
        "LLM",
        value={
            "name": "OpenAI",
            "type": "llm",
            "config": {"base_url": "https://api.openai.com/v1", "api_key": "sk-…", "model": "gpt-4o-mini"},
        },
        request_only=True,
    ),
    OpenApiExample(
        "HTTP API",
        value={
            "name": "Reporting API",
            "type": "http",
            "config": {"base_url": "https://reports.example.com/api", "auth_type": "bearer", "token": "…"},
        },
        request_only=True,
    ),
    OpenApiExample(
        "SMTP",
        value={
            "name": "Mail",
            "type": "smtp",
            "config": {
                "host": "smtp.example.com",
                "port": 587,
                "username": "robot",
                "password": "…",
                "use_tls": True,
                "from_email": "robot@example.com",
            },
        },
        request_only=True,
    ),
]


class IntegrationListCreateView(APIView):
    read_role = Role.VIEWER
    write_role = Role.ADMIN

    @extend_schema(
        tags=TAG,
        summary="List integrations (never their config)",
        operation_id="integrations_list",
        parameters=[
            OpenApiParameter("type", str, enum=IntegrationType.values),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
        responses=s.IntegrationListOutput,
    )
    def get(self, request: Request) -> Response:
        integrations = integration_list(tenant=request.user.tenant, type=request.query_params.get("type"))
        return paginated(request, integrations, "integrations", lambda i: s.IntegrationOutput(i).data)

    @extend_schema(
        tags=TAG,
        summary="Create an integration; its config is encrypted (the answer masks secrets)",
        request=s.IntegrationCreateInput,
        responses={201: s.IntegrationEnvelope},
        examples=CREATE_EXAMPLES,
    )
    def post(self, request: Request) -> Response:
        integration = integration_create(user=request.user, **_valid(s.IntegrationCreateInput, request.data))
        return Response(_integration(integration, reveal=False), status=status.HTTP_201_CREATED)


class IntegrationTypeListView(APIView):
    @extend_schema(
        tags=TAG,
        summary="Integration types, their config JSON Schemas and actions",
        operation_id="integration_types_list",
        responses=s.IntegrationTypeListOutput,
    )
    def get(self, request: Request) -> Response:
        types = [
            {
                "type": name,
                "config_schema": CONFIG_SCHEMAS[name],
                "secret_fields": list(SECRET_FIELDS[name]),
                "actions": sorted(action for action, (type_name, _) in ACTIONS.items() if type_name == name),
            }
            for name in IntegrationType.values
        ]
        limit, offset = page_params(request)  # a list like any other (SPEC 2)
        return Response({"integration_types": types[offset : offset + limit], "total": len(types)})


class IntegrationDetailView(APIView):
    read_role = Role.VIEWER
    write_role = Role.ADMIN

    @extend_schema(
        tags=TAG,
        summary="An integration with its config: decrypted for admins and owners, secrets masked for others",
        operation_id="integrations_retrieve",
        responses=s.IntegrationEnvelope,
    )
    def get(self, request: Request, integration_id: str) -> Response:
        integration = integration_get(tenant=request.user.tenant, integration_id=integration_id)
        return Response(_integration(integration, reveal=request.user.has_role(Role.ADMIN)))

    @extend_schema(
        tags=TAG,
        summary="Update an integration's name or config (re-encrypted; the answer masks secrets)",
        request=s.IntegrationUpdateInput,
        responses=s.IntegrationEnvelope,
    )
    def put(self, request: Request, integration_id: str) -> Response:
        integration = integration_get(tenant=request.user.tenant, integration_id=integration_id)
        integration = integration_update(integration=integration, **_valid(s.IntegrationUpdateInput, request.data))
        return Response(_integration(integration, reveal=False))

    @extend_schema(tags=TAG, summary="Delete an integration", responses={204: None})
    def delete(self, request: Request, integration_id: str) -> Response:
        integration_delete(integration=integration_get(tenant=request.user.tenant, integration_id=integration_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class IntegrationTestView(APIView):
    write_role = Role.ADMIN

    @extend_schema(
        tags=TAG,
        summary="Call the provider with the stored credentials",
        description="slack: auth.test; smtp: connect (+TLS) and log in; http: GET base_url with the auth; "
        "llm: GET {base_url}/models (or a one-token chat completion). The message never holds a secret.",
        request=None,
        responses=s.IntegrationTestOutput,
    )
    def post(self, request: Request, integration_id: str) -> Response:
        integration = integration_get(tenant=request.user.tenant, integration_id=integration_id)
        result = integration_test(integration=integration)
        return Response({"success": result.success, "message": result.message})
