"""Auth, the current user, health and the node-types registry."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from orchestrator.api.health import HEALTH_STATUSES, health_report
from orchestrator.api.pagination import page_params
from orchestrator.api.serializers import StrictSerializer
from orchestrator.errors import NotFound
from orchestrator.models import User
from orchestrator.step_types import registry
from orchestrator.tenancy.authentication import TenantTokenObtainSerializer
from orchestrator.tenancy.services import user_update


class TokenView(TokenObtainPairView):
    serializer_class = TenantTokenObtainSerializer
    openapi_errors = (401,)  # wrong username or password

    @extend_schema(
        tags=["Auth"],
        summary="Obtain a JWT pair (the access token carries customer_id)",
        examples=[OpenApiExample("Login", value={"username": "demo", "password": "demo-password"}, request_only=True)],
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        return super().post(request, *args, **kwargs)


class TokenRefresh(TokenRefreshView):
    openapi_errors = (401,)  # an invalid or expired refresh token

    @extend_schema(tags=["Auth"], summary="Exchange a refresh token for a new access token")
    def post(self, request: Request, *args, **kwargs) -> Response:
        return super().post(request, *args, **kwargs)


class UserOutput(serializers.Serializer):
    id = serializers.CharField()
    username = serializers.CharField()
    name = serializers.CharField(source="display_name")
    email = serializers.EmailField()
    tenant_id = serializers.CharField()
    role = serializers.CharField()
    date_joined = serializers.DateTimeField()
    # Seed 002's profile fields. Accounts here are local username/password ones: no avatar, never
    # anonymous, and "credential" is the provider id such an account has in that seed's auth library.
    image = serializers.SerializerMethodField()
    isAnonymous = serializers.SerializerMethodField()
    providerId = serializers.SerializerMethodField()

    def get_image(self, user: User) -> str | None:
        return None

    def get_isAnonymous(self, user: User) -> bool:
        return False

    def get_providerId(self, user: User) -> str:
        return "credential"


class UserEnvelope(serializers.Serializer):
    user = UserOutput()


class UserUpdateInput(StrictSerializer):
    name = serializers.CharField(required=False, max_length=300)
    email = serializers.EmailField(required=False)
    password = serializers.CharField(required=False, write_only=True)
    old_password = serializers.CharField(required=False, write_only=True)


def user_payload(user: User) -> dict:
    return {"user": UserOutput(user).data}


class CurrentUserView(APIView):
    # Every role may read and edit its own profile.
    write_role = "viewer"

    @extend_schema(tags=["Auth"], summary="The authenticated user", responses={200: UserEnvelope})
    def get(self, request: Request) -> Response:
        return Response(user_payload(request.user))

    @extend_schema(
        tags=["Auth"],
        summary="Update your name or email; change the password with old_password",
        request=UserUpdateInput,
        responses={200: UserEnvelope},
        examples=[OpenApiExample("Rename", value={"name": "New Name"}, request_only=True)],
    )
    def patch(self, request: Request) -> Response:
        data = UserUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(user_payload(user_update(user=request.user, **data.validated_data)))


HEALTH = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=HEALTH_STATUSES),
        "service": serializers.CharField(),
        "version": serializers.CharField(),
        "timestamp": serializers.DateTimeField(),
        "checks": serializers.DictField(child=serializers.CharField()),
    },
)


class HealthView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        tags=["Health"],
        summary="Service health (public); 503 when the database is down",
        responses={200: HEALTH, 503: HEALTH},
    )
    def get(self, request: Request) -> Response:
        body, code = health_report()
        return Response(body, status=code)


class NodeTypeOutput(serializers.Serializer):
    type = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField()
    enabled = serializers.BooleanField()
    config_schema = serializers.JSONField(help_text="JSON Schema of the step's config.")
    output_schema = serializers.JSONField(help_text="JSON Schema of the step's output.")
    examples = serializers.JSONField()


class NodeTypeListView(APIView):
    @extend_schema(
        tags=["Node types"],
        summary="Every step type with its config and output schemas",
        responses=inline_serializer(
            "NodeTypeList",
            {
                "node_types": NodeTypeOutput(many=True),
                "categories": serializers.ListField(child=serializers.CharField()),
                "total": serializers.IntegerField(),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        types = [step_type.describe() for step_type in registry.all()]
        categories = sorted({t["category"] for t in types})
        limit, offset = page_params(request)  # a list like any other (SPEC 2)
        return Response({"node_types": types[offset : offset + limit], "categories": categories, "total": len(types)})


def _node_type(type_name: str) -> type:
    step_type = registry.get(type_name)
    if step_type is None:
        raise NotFound(f"Unknown node type {type_name!r}.")
    return step_type


class NodeTypeDetailView(APIView):
    @extend_schema(
        tags=["Node types"],
        summary="One step type",
        responses=inline_serializer("NodeTypeEnvelope", {"node_type": NodeTypeOutput()}),
    )
    def get(self, request: Request, type_name: str) -> Response:
        return Response({"node_type": _node_type(type_name).describe()})


class NodeTypeSchemaView(APIView):
    @extend_schema(
        tags=["Node types"],
        summary="The JSON Schema of a step type's config",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, type_name: str) -> Response:
        return Response(_node_type(type_name).config_schema)
