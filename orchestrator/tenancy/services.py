"""Tenants and users: every write, with its rules."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from orchestrator.errors import Conflict, ValidationFailed
from orchestrator.models import Role, Tenant, User


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            " ".join(exc.messages), details=[{"field": "password", "message": m} for m in exc.messages]
        ) from exc


@transaction.atomic
def user_create(
    *, tenant: Tenant, username: str, password: str, role: str = Role.MEMBER, email: str = "", name: str = ""
) -> User:
    if role not in Role.values:
        raise ValidationFailed(f"Unknown role {role!r}; expected one of {', '.join(Role.values)}.")
    if User.objects.filter(username=username).exists():
        raise Conflict(f"A user named {username!r} already exists.")
    _check_password(password)
    first, _, last = name.partition(" ")
    user = User(username=username, email=email, tenant=tenant, role=role, first_name=first, last_name=last)
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def tenant_create(*, name: str, owner_username: str, owner_password: str, owner_email: str = "") -> Tenant:
    if Tenant.objects.filter(name=name).exists():
        raise Conflict(f"A tenant named {name!r} already exists.")
    tenant = Tenant.objects.create(name=name)
    user_create(tenant=tenant, username=owner_username, password=owner_password, role=Role.OWNER, email=owner_email)
    return tenant


@transaction.atomic
def user_update(
    *,
    user: User,
    name: str | None = None,
    email: str | None = None,
    password: str | None = None,
    old_password: str | None = None,
) -> User:
    if name is not None:
        first, _, last = name.strip().partition(" ")
        for part, column in ((first, "first_name"), (last, "last_name")):
            limit = User._meta.get_field(column).max_length
            if len(part) > limit:  # checked here: the column would refuse it with a DataError (500)
                raise ValidationFailed(
                    f"name: each of the first and last name has at most {limit} characters.",
                    details=[{"field": "name", "message": f"The {column} part is over {limit} characters."}],
                )
        user.first_name, user.last_name = first, last
    if email is not None:
        limit = User._meta.get_field("email").max_length
        if len(email) > limit:
            raise ValidationFailed(
                f"email has at most {limit} characters.",
                details=[{"field": "email", "message": f"At most {limit} characters."}],
            )
        user.email = email
    if password is not None:
        if not old_password or not user.check_password(old_password):
            raise ValidationFailed(
                "Changing the password needs the current one in old_password.",
                details=[{"field": "old_password", "message": "Missing or wrong."}],
            )
        _check_password(password, user)
        user.set_password(password)
    user.save()
    return user
