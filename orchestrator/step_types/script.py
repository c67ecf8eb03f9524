from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

from django.conf import settings

from orchestrator.step_types.base import StepType
from orchestrator.step_types.execution import StepContext, StepError
from orchestrator.step_types.registry import registry
from orchestrator.step_types.schemas import positive_number


@registry.register
class ScriptStep(StepType):
    name = "script"
    label = "Script"
    category = "code"
    description = (
        "Run Python or shell code in a subprocess with a timeout, CPU/memory/file/process limits, an empty "
        "environment and a temporary directory. The step input arrives as JSON on stdin; the last stdout line "
        "is the output (parsed as JSON when it is JSON); stderr is kept as logs. Off unless "
        "ORCHESTRATOR_ENABLE_SCRIPTS=true."
    )
    config_schema = {
        "type": "object",
        "required": ["language", "code"],
        "properties": {
            "language": {"type": "string", "enum": ["python", "shell"]},
            "code": {"type": "string", "minLength": 1},
            "timeout": positive_number("Seconds before the process is killed.", maximum=3600),
        },
    }
    output_schema = {"description": "The last stdout line, parsed as JSON when it is JSON, else the text."}
    examples = [
        {"language": "python", "code": "import json, sys\ndata = json.load(sys.stdin)\nprint(json.dumps({'n': 1}))"},
        {"language": "shell", "code": "echo '{\"ok\": true}'", "timeout": 5},
    ]

    @classmethod
    def enabled(cls) -> bool:
        # Read on every call: the setting is the switch, and tests flip it.
        return bool(getattr(settings, "ORCHESTRATOR_ENABLE_SCRIPTS", False))

    @classmethod
    def disabled_reason(cls) -> str:
        return "" if cls.enabled() else "set ORCHESTRATOR_ENABLE_SCRIPTS=true to enable it"

    def execute(self, ctx: StepContext, config: dict) -> object:
        """A subprocess in a temp dir, with an empty environment (PATH only) and rlimits.

        stdin: the run input as JSON. Output: the last stdout line, as JSON when
        it parses, else text. stderr is kept as the step's logs.
        """
        timeout = min(float(config.get("timeout") or ctx.timeout_seconds), float(ctx.timeout_seconds))
        if config["language"] == "python":
            command = [sys.executable, "-I", "-c", config["code"]]
        else:
            command = ["/bin/sh", "-c", config["code"]]
        stdin = json.dumps(ctx.context.get("input", {}), default=str).encode()
        with tempfile.TemporaryDirectory(prefix="step-") as workdir:
            process = subprocess.Popen(
                command,
                cwd=workdir,
                env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": workdir, "LANG": "C.UTF-8"},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                preexec_fn=_limits(timeout),
                start_new_session=True,
            )
            stdout, stderr = _communicate(process, stdin, timeout, ctx)
        for line in stderr.decode(errors="replace").splitlines()[-200:]:
            ctx.log(line)
        if process.returncode != 0:
            tail = stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise StepError(f"The script exited with status {process.returncode}: {' | '.join(tail)}".strip(": "))
        lines = [line for line in stdout.decode(errors="replace").splitlines() if line.strip()]
        if not lines:
            return None
        try:
            return json.loads(lines[-1])
        except ValueError:
            return lines[-1]


MEMORY_BYTES = 512 * 1024 * 1024
FILE_BYTES = 16 * 1024 * 1024
PROCESSES = 64
OUTPUT_BYTES = 4 * 1024 * 1024


def _limits(timeout: float):
    def apply() -> None:
        cpu = int(timeout) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES, FILE_BYTES))
        resource.setrlimit(resource.RLIMIT_NPROC, (PROCESSES, PROCESSES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _communicate(process: subprocess.Popen, stdin: bytes, timeout: float, ctx: StepContext) -> tuple[bytes, bytes]:
    """Like communicate(), but the whole process group dies on timeout or cancellation."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                stdout, stderr = process.communicate(input=stdin, timeout=0.25)
                return stdout[-OUTPUT_BYTES:], stderr[-OUTPUT_BYTES:]
            except subprocess.TimeoutExpired:
                stdin = None
                if ctx.cancelled.is_set():
                    raise StepError("The step was cancelled.") from None
                if time.monotonic() > deadline:
                    raise StepError(f"The script ran longer than {timeout:g} s.", kind="timeout") from None
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 9)
            process.wait()
