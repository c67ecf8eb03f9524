"""Provider modules, one per integration type, and the actions the ``integration`` step runs.

Every provider function takes the decrypted config and ``secrets`` (the values to mask in
anything that comes back), goes out through the SSRF guard, and raises StepError.
"""

from __future__ import annotations

from collections.abc import Callable

from integrations.providers import http, llm, slack, smtp

# type → check(config, *, secrets, timeout) -> message
CHECKS: dict[str, Callable[..., str]] = {
    "slack": slack.check,
    "smtp": smtp.check,
    "http": http.check,
    "llm": llm.check,
}

# action → (integration type, run(config, params, *, secrets, timeout) -> output)
ACTIONS: dict[str, tuple[str, Callable[..., object]]] = {
    "slack.post_message": ("slack", slack.post_message),
    "email.send": ("smtp", smtp.send),
    "smtp.send": ("smtp", smtp.send),
    "http.request": ("http", http.request),
}
