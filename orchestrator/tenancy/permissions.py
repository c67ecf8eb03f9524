"""Roles (SPEC 3): viewer reads; member writes workflows and runs them; admin
also manages integrations, API keys and schedules; owner also the tenant's users."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from orchestrator.models import Role


class TenantRolePermission(BasePermission):
    """The caller is authenticated, belongs to a tenant and holds the view's role.

    A view sets ``read_role`` / ``write_role`` (defaults viewer / member).
    """

    message = "You do not have permission to perform this action."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if user.tenant_id is None:
            self.message = "Your account does not belong to a tenant."
            return False
        if request.method in SAFE_METHODS:
            role = getattr(view, "read_role", Role.VIEWER)
        else:
            role = getattr(view, "write_role", Role.MEMBER)
        if not user.has_role(role):
            self.message = f"This action needs the {role} role; you are {user.role}."
            return False
        return True
