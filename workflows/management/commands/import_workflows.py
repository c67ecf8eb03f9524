from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from orchestrator.errors import DomainError
from orchestrator.models import User
from workflows.portable import document_parse, workflow_import


class Command(BaseCommand):
    help = "Create workflows from a file of portable documents (JSON or YAML; one or a list), as USERNAME."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path")
        parser.add_argument("--user", required=True, help="username whose tenant receives the workflows")

    def handle(self, *args, path: str, user: str, **options) -> None:
        owner = User.objects.filter(username=user, tenant__isnull=False).first()
        if owner is None:
            raise CommandError(f"No tenant user named {user!r}.")
        try:
            documents = document_parse(Path(path).read_bytes())
        except (OSError, DomainError) as exc:
            raise CommandError(str(exc)) from exc
        if isinstance(documents, dict):
            documents = [documents]
        if not isinstance(documents, list):
            raise CommandError("The file must hold a document or a list of documents.")
        try:
            with transaction.atomic():  # all or nothing
                created = [workflow_import(user=owner, document=doc) for doc in documents]
        except DomainError as exc:
            details = "; ".join(d["message"] for d in exc.details or [] if isinstance(d, dict))
            raise CommandError(f"{exc.message} {details}".strip()) from exc
        for workflow in created:
            self.stdout.write(f"{workflow.id}\t{workflow.name}")
