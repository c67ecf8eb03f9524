"""Run a workflow from the shell: progress bar over its steps, outputs printed,
exit status 0 completed, 1 failed, 2 anything else (cancelled, timed out, still running,
or no worker to run it).

Who executes the steps:

* embedded (SQLite, no Redis): this process starts its own worker and engine clock
  (threads, as ``manage.py serve`` does), on the same database, so the run completes
  whether or not ``make run`` is up; the memory broker of another process is out of reach.
* distributed: the workers on the broker. When none answers a ping, the command says so at
  once, with how to start one, and starts no run.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orchestrator.engine.presence import workers_online
from orchestrator.errors import DomainError
from runs.models import RUN_TERMINAL, Run, StepRun
from runs.services import run_create
from workflows.models import Workflow

DEFAULT_TIMEOUT = 120.0  # a person at a shell; --timeout for longer runs
WORKER_START_SECONDS = 15.0


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


class Command(BaseCommand):
    help = "Start a run of a workflow and follow it to the end."

    def add_arguments(self, parser) -> None:
        parser.add_argument("workflow_id")
        parser.add_argument("--input", default="{}", help="run input as JSON")
        parser.add_argument(
            "--timeout", type=float, default=DEFAULT_TIMEOUT, help=f"seconds to follow the run ({DEFAULT_TIMEOUT:g})"
        )

    def handle(self, *args, workflow_id: str, input: str, timeout: float, **options) -> None:
        workflow = Workflow.objects.filter(id=workflow_id).select_related("created_by").first()
        if workflow is None:
            raise CommandError(f"No workflow {workflow_id!r}.")
        try:
            inputs = json.loads(input)
        except json.JSONDecodeError as exc:
            raise CommandError(f"--input is not JSON: {exc}") from exc
        stop_worker = self._worker()
        try:
            self._run(workflow, inputs, timeout)
        finally:
            if stop_worker is not None:
                stop_worker()

    def _worker(self) -> Callable[[], None] | None:
        """Embedded: start this process's worker. Distributed: make sure one answers."""
        deadline = time.monotonic() + WORKER_START_SECONDS
        if settings.EMBEDDED:
            from orchestrator.engine.embedded import start_embedded_worker

            # The worker's own lines (task received, succeeded) would break up the progress bar.
            for name in ("celery", "orchestrator.engine.embedded"):
                logging.getLogger(name).setLevel(logging.WARNING)
            stop = start_embedded_worker()
            while workers_online()[0] != "ok":
                if time.monotonic() > deadline:
                    stop()
                    message = f"The in-process worker did not start in {WORKER_START_SECONDS:g} s."
                    raise CommandError(message, returncode=2)
                time.sleep(0.05)
            return stop
        state, detail = workers_online(timeout=1.0)
        if state == "starting":
            self.stderr.write("Waiting for a worker to start…")
            while state == "starting" and time.monotonic() < deadline:
                time.sleep(0.5)
                state, detail = workers_online(timeout=1.0)
        if state != "ok":
            raise CommandError(
                f"No worker answered on the broker ({detail}), so nothing would run the steps. Start one "
                "in another shell with `celery -A config worker -l info` (and `celery -A config beat` for "
                "waits, retries and timeouts), or run `make run`, then try again. No run was started.",
                returncode=2,
            )
        return None

    def _run(self, workflow: Workflow, inputs: object, timeout: float) -> None:
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
                if run.status == "paused" and "paused" not in shown:  # say what it waits for, once
                    self.stderr.write(
                        f"\nPaused: a step waits for a signal. Continue it with POST "
                        f'/api/workflows/runs/{run.id}/resume {{"signal": {{…}}}} (or Ctrl-C; the run stays paused).'
                    )
                self.stderr.write(line, ending="")
                self.stderr.flush()
                shown = line
            if run.status in RUN_TERMINAL or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.stderr.write("")
        for sr in StepRun.objects.filter(run=run, parent__isnull=True).order_by("id"):
            suffix = f" ({sr.error})" if sr.error else ""
            self.stderr.write(f"  {sr.step_id:<24} {sr.status}{suffix}")
        if run.status not in RUN_TERMINAL:
            where = (
                "It goes on when `make run` (manage.py serve) runs on this database: its reaper takes the steps back."
                if settings.EMBEDDED
                else "It goes on in the workers."
            )
            self.stderr.write(f"Run {run.id} is still {run.status} after {timeout:g} s (--timeout). {where}")
        self.stdout.write(json.dumps({"run_id": run.id, "status": run.status, "outputs": run.outputs}, indent=2))
        sys.exit(0 if run.status == "completed" else 1 if run.status == "failed" else 2)
