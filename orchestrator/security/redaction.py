"""Masks secrets in anything shown to people: step inputs, logs, errors."""

from __future__ import annotations

import re
from typing import Any

MASK = "[REDACTED]"
# Whole key names (optionally prefixed, "x-api-key", "access_token"), so "prompt_tokens" stays visible.
_SECRET_KEY = re.compile(
    r"(?:.*[-_])?(authorization|password|passwd|secret|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key"
    r"|cookie|set-cookie|signature|credentials?)",
    re.IGNORECASE,
)
_SECRET_TEXT = [
    re.compile(r"\bwfb_[A-Za-z0-9]{8,}"),
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{8,}"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{12,}"),
]


def redact_text(text: str, secrets: list[str] | None = None) -> str:
    for secret in secrets or []:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    for pattern in _SECRET_TEXT:
        text = pattern.sub(MASK, text)
    return text


def redact(value: Any, secrets: list[str] | None = None) -> Any:
    """A copy of ``value`` with secret-looking keys masked and known secrets removed."""
    if isinstance(value, dict):
        return {
            k: (MASK if isinstance(k, str) and _SECRET_KEY.fullmatch(k) and v not in (None, "") else redact(v, secrets))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    if isinstance(value, str):
        return redact_text(value, secrets)
    return value
