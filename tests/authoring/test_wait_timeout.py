"""A signal wait may give up (the approval template's timeout branch): validation of the new
``timeout`` key. Its run behaviour is tested with a real worker in test_templates_run.py."""

from __future__ import annotations

from orchestrator.definitions import definition_errors, definition_normalize


def errors(config: dict) -> list[str]:
    return definition_errors(definition_normalize({"steps": [{"id": "w", "type": "wait", "config": config}]}))


def test_a_signal_wait_may_have_a_timeout():
    assert errors({"signal": "approval", "timeout": 3600}) == []
    assert errors({"signal": "approval", "timeout": "{{ input.timeout_seconds }}"}) == []


def test_a_timeout_needs_a_signal_and_a_positive_number():
    assert errors({"seconds": 5, "timeout": 10}) == [
        "Step 'w' config: 'timeout' applies only to a signal wait (give 'signal' too, or use 'seconds')"
    ]
    assert any("timeout" in e for e in errors({"signal": "go", "timeout": 0}))
    assert any("timeout" in e for e in errors({"signal": "go", "timeout": "soon"}))
