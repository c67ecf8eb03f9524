from django.core.management.base import BaseCommand, CommandError

from orchestrator.errors import DomainError
from orchestrator.tenancy.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant with its owner; prints the tenant ID."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--owner", required=True, help="username of the owner")
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default="")

    def handle(self, *args, name: str, owner: str, password: str, email: str, **options) -> None:
        try:
            tenant = tenant_create(name=name, owner_username=owner, owner_password=password, owner_email=email)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(tenant.id)
