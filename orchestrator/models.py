"""Tenants and their users. Every tenant-owned model elsewhere uses TenantQuerySet."""

from __future__ import annotations

from typing import Self

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models

from orchestrator.ids import new_ten_id, new_usr_id


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant) -> Self:
        return self.filter(tenant=tenant)


class Tenant(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=new_ten_id, editable=False)
    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class Role(models.TextChoices):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


# Each role includes the rights of those after it.
ROLE_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class User(AbstractUser):
    """A person. Belongs to one tenant with one role; staff operators may have none."""

    id = models.CharField(primary_key=True, max_length=40, default=new_usr_id, editable=False)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="users")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    objects = UserManager()

    def has_role(self, role: str) -> bool:
        return self.tenant_id is not None and ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username
