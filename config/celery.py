"""The Celery app: `celery -A config worker` and `celery -A config beat`."""

import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("orchestrator")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each app's tasks.py, and the engine's, which lives in the orchestrator package's engine/.
app.autodiscover_tasks()
app.autodiscover_tasks(["orchestrator.engine"])


def _refuse(what: str) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from orchestrator.startup import refuse_insecure_start

    try:
        refuse_insecure_start(what)
    except ImproperlyConfigured as exc:
        # Celery logs and ignores an Exception raised by a signal receiver; SystemExit stops it.
        raise SystemExit(str(exc)) from None


@worker_init.connect
def _refuse_insecure_worker(**kwargs) -> None:
    _refuse("worker")


@beat_init.connect
def _refuse_insecure_beat(**kwargs) -> None:
    _refuse("beat")
