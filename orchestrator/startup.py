"""SPEC 16: outside DEBUG, servers and workers refuse to start without their secrets.

Checked where something starts serving (ASGI/WSGI application, Celery worker and
beat, ``manage.py serve``), not at settings import, so that ``migrate``,
``makemigrations`` and the test suite run in a shell without them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def startup_problems() -> list[str]:
    if settings.DEBUG:
        return []
    from integrations.crypto import EncryptionNotConfigured, parse_keys

    problems = []
    if not settings.SECRET_KEY_CONFIGURED:
        problems.append(
            "DJANGO_SECRET_KEY is not set (generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    try:
        parse_keys(settings.ORCHESTRATOR_ENCRYPTION_KEYS)
    except EncryptionNotConfigured as exc:
        problems.append(str(exc))
    return problems


def refuse_insecure_start(what: str) -> None:
    problems = startup_problems()
    if problems:
        raise ImproperlyConfigured(
            f"Refusing to start the {what} with DEBUG off (production): "
            + " ".join(problems)
            + " For local development set DEBUG=true (make run does)."
        )
