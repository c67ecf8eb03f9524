from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from orchestrator.definitions.expressions import is_template
from orchestrator.step_types.base import StepType
from orchestrator.step_types.execution import StepContext, StepError, Suspend
from orchestrator.step_types.registry import registry
from orchestrator.step_types.schemas import templated

# StepRun.wait_signal is varchar(200): longer is a 400 at validation, a step error at run time.
SIGNAL_MAX = 200


@registry.register
class WaitStep(StepType):
    inline = True
    name = "wait"
    label = "Wait"
    category = "logic"
    description = (
        "Pause for `seconds`, until a time (`until`, ISO 8601), or until a named `signal` arrives through "
        "POST /api/workflows/runs/{id}/resume. A signal wait with `timeout` (seconds) gives up after that long "
        'and completes with {"timed_out": true, "signal": NAME}, so a later step can branch on it. Holds no worker '
        "while waiting and survives restarts."
    )
    config_schema = {
        "type": "object",
        "properties": {
            "seconds": templated({"type": "number", "minimum": 0}, "a number of seconds"),
            "until": {"type": "string", "minLength": 1, "format": "date-time", "description": "ISO 8601 time."},
            "signal": {
                "type": "string",
                "minLength": 1,
                "maxLength": SIGNAL_MAX,
                "description": "Name of the signal to wait for.",
            },
            "timeout": templated(
                {"type": "number", "exclusiveMinimum": 0, "description": "With signal: seconds to wait at most."},
                "a positive number of seconds",
            ),
        },
        "oneOf": [{"required": ["seconds"]}, {"required": ["until"]}, {"required": ["signal"]}],
        "errorMessage": {"oneOf": "needs exactly one of 'seconds', 'until' or 'signal'"},
    }
    output_schema = {
        "description": 'With `signal`: the payload given at resume. Otherwise {"waited_until": ISO time}.',
    }
    examples = [{"seconds": 30}, {"until": "2026-01-01T09:00:00Z"}, {"signal": "approval"}]

    @classmethod
    def config_problems(cls, config: dict[str, Any]) -> list[str]:
        if "timeout" in config and "signal" not in config:
            return ["'timeout' applies only to a signal wait (give 'signal' too, or use 'seconds')"]
        until = config.get("until")
        if isinstance(until, str) and not is_template(until):
            try:
                datetime.fromisoformat(until.replace("Z", "+00:00"))
            except ValueError:
                return [f"{until!r} is not an ISO 8601 time at config.until"]
        return []

    def execute(self, ctx: StepContext, config: dict) -> Suspend:
        if config.get("signal"):
            signal = str(config["signal"])
            if len(signal) > SIGNAL_MAX:  # a template can render longer than the schema allowed
                raise StepError(f"config.signal is {len(signal)} characters; a signal name has at most {SIGNAL_MAX}.")
            if config.get("timeout") in (None, ""):
                return Suspend(signal=signal)
            try:
                timeout = float(config["timeout"])
            except (TypeError, ValueError) as exc:
                raise StepError(f"config.timeout {config['timeout']!r} is not a number of seconds.") from exc
            if timeout <= 0:
                raise StepError("config.timeout must be a positive number of seconds.")
            return Suspend(signal=signal, due_at=timezone.now() + timedelta(seconds=timeout))
        if config.get("until"):
            try:
                until = datetime.fromisoformat(str(config["until"]).replace("Z", "+00:00"))
            except ValueError as exc:
                raise StepError(f"config.until {config['until']!r} is not an ISO 8601 time.") from exc
            if timezone.is_naive(until):
                until = timezone.make_aware(until, UTC)
            return Suspend(due_at=until, output={"until": until.isoformat()})
        try:
            seconds = float(config.get("seconds", 0))
        except (TypeError, ValueError) as exc:
            raise StepError(f"config.seconds {config.get('seconds')!r} is not a number.") from exc
        if seconds < 0:
            raise StepError("config.seconds may not be negative.")
        return Suspend(due_at=timezone.now() + timedelta(seconds=seconds), output={"seconds": seconds})
