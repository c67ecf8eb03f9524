from django.core.management.base import BaseCommand, CommandError

from apikeys.services import api_key_create
from orchestrator.models import User


class Command(BaseCommand):
    help = "Create an API key acting as USERNAME; prints only the key."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True)

    def handle(self, *args, username: str, name: str, **options) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if user.tenant_id is None:
            raise CommandError(f"User {username!r} belongs to no tenant.")
        _, raw = api_key_create(user=user, name=name)
        self.stdout.write(raw)
