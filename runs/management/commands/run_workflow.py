"""Run a workflow from the shell: progress bar over its steps, outputs printed,
exit status 0 completed, 1 failed, 2 anything else (cancelled, timed out, still running)."""

from __future__ import annotations

import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from orchestrator.errors import DomainError
from runs.models import RUN_TERMINAL, Run, StepRun
from runs.services import run_create
from workflows.models import Workflow


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


class Command(BaseCommand):
    help = "Start a run of a workflow and follow it to the end."

    def add_arguments(self, parser) -> None:
        parser.add_argument("workflow_id")
        parser.add_argument("--input", default="{}", help="run input as JSON")
        parser.add_argument("--timeout", type=float, default=600, help="seconds to follow the run")

    def handle(self, *args, workflow_id: str, input: str, timeout: float, **options) -> None:
        workflow = Workflow.objects.filter(id=workflow_id).select_related("created_by").first()
        if workflow is None:
            raise CommandError(f"No workflow {workflow_id!r}.")
        try:
            inputs = json.loads(input)
        except json.JSONDecodeError as exc:
            raise CommandError(f"--input is not JSON: {exc}") from exc
        try:
            run = run_create(workflow=workflow, inputs=inputs, trigger="manual", user=workflow.created_by)
        except DomainError as exc:
            details = "; ".join(d.get("message", "") for d in exc.details or [] if isinstance(d, dict))
            raise CommandError(f"{exc.message} {details}".strip()) from exc
        self.stderr.write(f"Run {run.id} of {workflow.name} (v{run.workflow_version})")
        total = len(run.definition.get("steps", []))
        deadline = time.monotonic() + timeout
        shown = ""
        while True:
            run = Run.objects.get(id=run.id)
            done = StepRun.objects.filter(
                run=run, parent__isnull=True, status__in=["completed", "failed", "skipped", "cancelled"]
            ).count()
            line = f"\r{_bar(done, total)} {run.status:<10}"
            if line != shown:
                self.stderr.write(line, ending="")
                self.stderr.flush()
                shown = line
            if run.status in RUN_TERMINAL or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.stderr.write("")
        for sr in StepRun.objects.filter(run=run, parent__isnull=True).order_by("id"):
            suffix = f" ({sr.error})" if sr.error else ""
            self.stderr.write(f"  {sr.step_id:<24} {sr.status}{suffix}")
        self.stdout.write(json.dumps({"run_id": run.id, "status": run.status, "outputs": run.outputs}, indent=2))
        sys.exit(0 if run.status == "completed" else 1 if run.status == "failed" else 2)
