"""A demo tenant, owner and API key, and one example workflow, for `make run`.

Idempotent: a second run keeps the tenant and user and issues a fresh key.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from apikeys.services import api_key_create
from orchestrator.models import Tenant, User
from orchestrator.tenancy.services import tenant_create
from workflows.api.examples import FETCH_AND_NOTIFY
from workflows.models import Workflow
from workflows.services import workflow_create

DEMO_TENANT = "Demo"
DEMO_USER = "demo"
DEMO_PASSWORD = "demo-password"
CHECK_THIS_SERVER = "Check this server"


def _check_this_server() -> dict:
    """A workflow that works offline: it asks this server's own health endpoint (make run
    allows private addresses), keeps the interesting part, and branches on it."""
    health = f"http://127.0.0.1:{settings.PORT}/api/health"
    return {
        "name": CHECK_THIS_SERVER,
        "description": "Calls this server's /api/health and reports whether every check passed.",
        "definition": {
            "steps": [
                {"id": "health", "type": "http_request", "config": {"method": "GET", "url": health}},
                {
                    "id": "summary",
                    "type": "transform",
                    "config": {"expression": "steps.health.output.body.{status: status, checks: checks}"},
                    "depends_on": ["health"],
                },
                {
                    "id": "healthy",
                    "type": "condition",
                    "config": {
                        "field": "steps.summary.output.status",
                        "operator": "equals",
                        "value": "ok",
                        "then": ["report_ok"],
                        "else": ["report_problem"],
                    },
                    "depends_on": ["summary"],
                },
                {
                    "id": "report_ok",
                    "type": "transform",
                    "config": {"value": "All checks passed"},
                    "depends_on": ["healthy"],
                },
                {
                    "id": "report_problem",
                    "type": "transform",
                    "config": {"value": "Degraded: {{ steps.summary.output.checks }}"},
                    "depends_on": ["healthy"],
                },
            ]
        },
    }


class Command(BaseCommand):
    help = "Create (or reuse) the demo tenant, user and an API key, and print them."

    def handle(self, *args, **options) -> None:
        tenant = Tenant.objects.filter(name=DEMO_TENANT).first()
        if tenant is None:
            tenant = tenant_create(name=DEMO_TENANT, owner_username=DEMO_USER, owner_password=DEMO_PASSWORD)
        user = User.objects.get(username=DEMO_USER)
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "", DEMO_PASSWORD)
        if not Workflow.objects.for_tenant(tenant).exists():
            workflow_create(user=user, **FETCH_AND_NOTIFY)
        if not Workflow.objects.for_tenant(tenant).filter(name=CHECK_THIS_SERVER).exists():
            workflow_create(user=user, **_check_this_server())
        _, key = api_key_create(user=user, name="demo")
        base = f"http://127.0.0.1:{settings.PORT}"
        self.stdout.write(
            "\n".join(
                [
                    "Demo tenant ready:",
                    f"  tenant    {tenant.id} ({tenant.name})",
                    f"  user      {DEMO_USER} / {DEMO_PASSWORD} (owner)",
                    f"  admin     admin / {DEMO_PASSWORD} at {base}/admin/",
                    f"  API key   {key}",
                    f"  try       curl -H 'Authorization: Bearer {key}' {base}/api/workflows",
                ]
            )
        )
