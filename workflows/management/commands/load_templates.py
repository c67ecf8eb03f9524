"""``manage.py load_templates``: make the built-in templates equal orchestrator/authoring/library/."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from orchestrator.authoring.templates import library_load


class Command(BaseCommand):
    help = (
        "Load the built-in templates from orchestrator/authoring/library/: add new ones, update changed ones "
        "in place, remove retired ones. Idempotent; migrate runs it too."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = library_load()
        self.stdout.write(
            "built-in templates: {created} created, {updated} updated, {unchanged} unchanged, {removed} removed".format(
                **counts
            )
        )
