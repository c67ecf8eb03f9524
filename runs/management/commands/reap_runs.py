from django.core.management.base import BaseCommand

from orchestrator.engine.sweeper import reap_expired, sweep_due


class Command(BaseCommand):
    help = "Once, what beat does periodically: dispatch due steps, finish waits, time out runs, reap dead workers."

    def handle(self, *args, **options) -> None:
        swept = sweep_due()
        reaped = reap_expired()
        self.stdout.write(" ".join(f"{k}={v}" for k, v in {**swept, **reaped}.items()))
