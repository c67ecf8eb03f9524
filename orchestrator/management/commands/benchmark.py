"""``manage.py benchmark [--only SECTION …] [--json]``: print the figures of SPEC section 15."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orchestrator.benchmarks import DISTRIBUTED_ONLY, NEEDS_DISTRIBUTED, SECTIONS


class Command(BaseCommand):
    help = "Measure the orchestrator's performance figures. Sections: " + ", ".join(SECTIONS)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--only",
            action="append",
            metavar="SECTION",
            help=f"Run only these sections (repeat or comma-separate): {', '.join(SECTIONS)}.",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")

    def handle(self, *args: Any, **options: Any) -> None:
        names = [n.strip() for value in options["only"] or [] for n in value.split(",") if n.strip()] or list(SECTIONS)
        unknown = [n for n in names if n not in SECTIONS]
        if unknown:
            raise CommandError(f"Unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
        report: dict[str, Any] = {
            "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
        }
        for name in names:
            if settings.EMBEDDED and name in DISTRIBUTED_ONLY:
                reason = NEEDS_DISTRIBUTED.format(section=name)
                if options["only"]:  # asked for by name: say why it cannot run, and fail
                    raise CommandError(reason)
                report[name] = {"skipped": reason}
                if not options["json"]:
                    self.stdout.write(f"{name}: skipped. {reason}")
                continue
            measurements = SECTIONS[name]()
            report[name] = {
                m.key: {**{k: v for k, v in asdict(m).items() if k != "key"}, "ratio": m.ratio, "rate": m.rate}
                for m in measurements
            }
            if not options["json"]:
                for measurement in measurements:
                    self.stdout.write(measurement.line())
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
