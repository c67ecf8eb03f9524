from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _builtin_templates_load(sender: AppConfig, using: str = "default", **kwargs) -> None:
    """After every ``migrate`` (and a test database's flush) the built-in templates match the
    data files, so a fresh ``make run`` has them. Skipped while the table does not exist yet
    (a migration back to before it)."""
    from django.db import connections

    from workflows.models import Template

    if Template._meta.db_table not in connections[using].introspection.table_names():
        return
    from orchestrator.authoring.templates import library_load

    library_load()


class WorkflowsConfig(AppConfig):
    name = "workflows"

    def ready(self) -> None:
        post_migrate.connect(_builtin_templates_load, sender=self, dispatch_uid="workflows.builtin_templates")
