from django.core.management.base import BaseCommand, CommandError

from orchestrator.errors import DomainError
from orchestrator.models import Role, Tenant
from orchestrator.tenancy.services import user_create


class Command(BaseCommand):
    help = "Add a user to a tenant with a role."

    def add_arguments(self, parser) -> None:
        parser.add_argument("tenant_id")
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", choices=Role.values, default=Role.MEMBER)
        parser.add_argument("--email", default="")

    def handle(self, *args, tenant_id: str, username: str, password: str, role: str, email: str, **opts) -> None:
        tenant = Tenant.objects.filter(id=tenant_id).first()
        if tenant is None:
            raise CommandError(f"No tenant with ID {tenant_id!r}.")
        try:
            user = user_create(tenant=tenant, username=username, password=password, role=role, email=email)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(user.id)
