from django.core.management.base import BaseCommand, CommandError

from integrations.crypto import EncryptionNotConfigured, keyring
from integrations.services import integration_rotate_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt every integration with the current key (the first of ORCHESTRATOR_ENCRYPTION_KEYS). "
        "Put the new key first, keep the old ones after it, run this, then drop the old ones. Safe to run again."
    )

    def handle(self, *args, **options) -> None:
        try:
            current = keyring().current_id
        except EncryptionNotConfigured as exc:
            raise CommandError(str(exc)) from None

        def failed(integration, reason: str) -> None:
            self.stderr.write(f"{integration.id} ({integration.name}): {reason}")

        report = integration_rotate_keys(on_failure=failed)
        self.stdout.write(
            f"current key id {current}: {report.total} integrations, {report.rotated} re-encrypted, "
            f"{report.already_current} already current, {report.failed} failed"
        )
        if report.failed:
            raise CommandError(f"{report.failed} integration(s) could not be decrypted with the configured keys.")
