from __future__ import annotations

from django.conf import settings

from orchestrator.step_types.base import StepType
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
