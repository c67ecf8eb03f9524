"""JWT authentication whose tokens carry the tenant as ``customer_id``."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.tokens import RefreshToken

from orchestrator.models import User


class TenantTokenObtainSerializer(TokenObtainPairSerializer):
    @classmethod
    def get_token(cls, user: User) -> RefreshToken:
        token = super().get_token(user)
        # Claims on the refresh token are copied onto every access token it mints.
        token["customer_id"] = user.tenant_id
        token["role"] = user.role
        return token


def token_pair_for(user: User) -> dict[str, str]:
    refresh = TenantTokenObtainSerializer.get_token(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


class TenantJWTAuthentication(JWTAuthentication):
    """Rejects a token whose tenant no longer matches its user's."""

    def get_user(self, validated_token: Any) -> User:
        user = super().get_user(validated_token)
        if validated_token.get("customer_id") != user.tenant_id:
            raise exceptions.AuthenticationFailed("The token's tenant does not match its user.")
        return user

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'
