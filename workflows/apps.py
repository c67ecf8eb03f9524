from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _builtin_templates_load(sender: AppConfig, apps=None, **kwargs) -> None:
    """After every ``migrate`` (and a test database's flush) the built-in templates match the
    data files, so a fresh ``make run`` has them. Skipped when the migration state has no
    Template yet (a migration back to before it)."""
    if apps is not None:
        try:
            apps.get_model("workflows", "Template")
        except LookupError:
            return
    from orchestrator.authoring.templates import library_load

    library_load()


class WorkflowsConfig(AppConfig):
    name = "workflows"

    def ready(self) -> None:
        post_migrate.connect(_builtin_templates_load, sender=self, dispatch_uid="workflows.builtin_templates")
