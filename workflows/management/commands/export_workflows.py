import json

from django.core.management.base import BaseCommand, CommandError

from orchestrator.models import Tenant
from workflows.models import Workflow
from workflows.portable import workflow_export


class Command(BaseCommand):
    help = "Write a tenant's workflows as a JSON array of portable documents."

    def add_arguments(self, parser) -> None:
        parser.add_argument("tenant_id")
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")
        parser.add_argument("--id", action="append", dest="ids", help="only this workflow (repeatable)")

    def handle(self, *args, tenant_id: str, output: str | None, ids: list[str] | None, **options) -> None:
        tenant = Tenant.objects.filter(id=tenant_id).first()
        if tenant is None:
            raise CommandError(f"No tenant with ID {tenant_id!r}.")
        workflows = Workflow.objects.for_tenant(tenant).order_by("created_at")
        if ids:
            workflows = workflows.filter(id__in=ids)
        text = json.dumps([workflow_export(workflow=w) for w in workflows], indent=2)
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            self.stderr.write(f"Exported {workflows.count()} workflow(s) to {output}.")
        else:
            self.stdout.write(text)
