"""System checks for ORCHESTRATOR_ENCRYPTION_KEYS (SPEC 16: production refuses to start without one).

* A malformed value is an error outside DEBUG (a warning in DEBUG): it would make every
  integration unreadable.
* An empty value outside DEBUG is an error under ``manage.py check --deploy`` and a
  warning for every other command, so that ``makemigrations`` or ``migrate`` in a
  development shell without a key still work; integrations then answer a clear 503.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.checks import Tags, register

from integrations.crypto import EncryptionNotConfigured, parse_keys

HINT = "Set ORCHESTRATOR_ENCRYPTION_KEYS (see README, Integrations); `make run` generates one."


def _problem() -> str | None:
    try:
        parse_keys(getattr(settings, "ORCHESTRATOR_ENCRYPTION_KEYS", ""))
    except EncryptionNotConfigured as exc:
        return str(exc)
    return None


def _empty() -> bool:
    return not str(getattr(settings, "ORCHESTRATOR_ENCRYPTION_KEYS", "") or "").replace(",", "").strip()


@register(Tags.security)
def encryption_keys_check(app_configs: Any = None, **kwargs: Any) -> list:
    problem = _problem()
    if problem is None:
        return []
    if settings.DEBUG or _empty():
        return [checks.Warning(problem, hint=HINT, id="integrations.W001")]
    return [checks.Error(problem, hint=HINT, id="integrations.E002")]


@register(Tags.security, deploy=True)
def encryption_keys_deploy_check(app_configs: Any = None, **kwargs: Any) -> list:
    problem = _problem()
    if problem is None or settings.DEBUG or not _empty():
        return []  # a malformed value is already an error in the check above
    return [checks.Error(problem, hint=HINT, id="integrations.E001")]
