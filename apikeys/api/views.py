from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.api.serializers import (
    ApiKeyCreatedOutput,
    ApiKeyCreateInput,
    ApiKeyEnvelope,
    ApiKeyListOutput,
    ApiKeyOutput,
)
from apikeys.selectors import api_key_get, api_key_list
from apikeys.services import api_key_create, api_key_revoke
from orchestrator.api.pagination import paginated
from orchestrator.models import Role


class ApiKeyListCreateView(APIView):
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    @extend_schema(tags=["API keys"], responses=ApiKeyListOutput, summary="List API keys (metadata only)")
    def get(self, request: Request) -> Response:
        keys = api_key_list(tenant=request.user.tenant)
        return paginated(request, keys, "api_keys", lambda k: ApiKeyOutput(k).data)

    @extend_schema(
        tags=["API keys"],
        request=ApiKeyCreateInput,
        responses={201: ApiKeyCreatedOutput},
        summary="Create an API key; the key is shown once",
        examples=[OpenApiExample("Create", value={"name": "production-webhook-key"}, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        data = ApiKeyCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw = api_key_create(user=request.user, **data.validated_data)
        metadata = ApiKeyOutput(key).data
        seed_002 = {name: metadata[name] for name in ("id", "name", "keyPrefix", "createdAt")}
        return Response({"api_key": metadata, "key": raw, **seed_002}, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(APIView):
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    @extend_schema(tags=["API keys"], responses={200: ApiKeyEnvelope}, summary="Read an API key's metadata")
    def get(self, request: Request, key_id: str) -> Response:
        return Response({"api_key": ApiKeyOutput(api_key_get(tenant=request.user.tenant, key_id=key_id)).data})

    @extend_schema(tags=["API keys"], responses={204: None}, summary="Revoke an API key")
    def delete(self, request: Request, key_id: str) -> Response:
        api_key_revoke(key=api_key_get(tenant=request.user.tenant, key_id=key_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
