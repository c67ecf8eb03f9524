"""Every write of integrations, and the reads that need the key (decrypted config, provider test)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from integrations import crypto
from integrations.models import Integration, IntegrationType
from integrations.providers import CHECKS
from integrations.schemas import MASK, SECRET_FIELDS, config_problems, normalized, secret_values
from orchestrator.errors import Conflict, DomainError, ValidationFailed
from orchestrator.models import User
from orchestrator.security.redaction import redact_text
from orchestrator.step_types.execution import StepError

logger = logging.getLogger(__name__)

TEST_TIMEOUT_SECONDS = 15.0


class EncryptionUnavailable(DomainError):
    """ORCHESTRATOR_ENCRYPTION_KEYS is missing or malformed: the server cannot read or write secrets."""

    code = "encryption_not_configured"
    status = 503


class IntegrationUnreadable(DomainError):
    """A stored config that does not decrypt (its key is gone, or the row was tampered with)."""

    code = "integration_unreadable"
    status = 500


def _ring() -> crypto.Keyring:
    try:
        return crypto.keyring()
    except crypto.EncryptionNotConfigured as exc:
        raise EncryptionUnavailable(str(exc)) from None


def _seal(integration: Integration, config: dict) -> None:
    plaintext = json.dumps(config, separators=(",", ":"), sort_keys=True).encode()
    integration.config_encrypted = crypto.encrypt(plaintext, associated_data=integration.associated_data, ring=_ring())


def integration_config(*, integration: Integration) -> dict:
    """The decrypted config. Only for admins' eyes, provider calls and steps."""
    try:
        plaintext = crypto.decrypt(
            integration.config_encrypted, associated_data=integration.associated_data, ring=_ring()
        )
    except crypto.DecryptionFailed as exc:
        raise IntegrationUnreadable(f"Integration {integration.id}: {exc}.") from None
    return json.loads(plaintext)


def _checked_config(type_name: str, config: object) -> dict:
    problems = config_problems(type_name, config)
    if problems:
        message = (
            problems[0]["message"] if len(problems) == 1 else f"{len(problems)} problems in the {type_name} config."
        )
        raise ValidationFailed(message, details=problems)
    return normalized(type_name, config)  # type: ignore[arg-type]


def _check_type(type_name: str) -> None:
    if type_name not in IntegrationType.values:
        raise ValidationFailed(
            f"type must be one of {', '.join(IntegrationType.values)}.",
            details=[{"field": "type", "message": f"{type_name!r} is not an integration type."}],
        )


def _save(integration: Integration, update_fields: list[str] | None = None) -> Integration:
    try:
        with transaction.atomic():
            integration.save(update_fields=update_fields)
    except IntegrityError:
        raise Conflict(f"An integration named {integration.name!r} already exists.") from None
    return integration


@transaction.atomic
def integration_create(*, user: User, name: str, type: str, config: dict) -> Integration:
    _check_type(type)
    config = _checked_config(type, config)
    if Integration.objects.filter(tenant_id=user.tenant_id, name=name).exists():
        raise Conflict(f"An integration named {name!r} already exists.")
    integration = Integration(tenant_id=user.tenant_id, name=name, type=type, created_by=user)
    _seal(integration, config)
    return _save(integration)


def _keep_masked_secrets(type_name: str, new: dict, old: dict) -> dict:
    """A secret sent back as the mask (what a GET showed) keeps its stored value."""
    merged = dict(new)
    for field in SECRET_FIELDS[type_name]:
        if merged.get(field) == MASK:
            stored = old.get("token") if field == "apiKey" else old.get(field)
            if stored is None:
                raise ValidationFailed(
                    f"config.{field} is the mask {MASK!r} but no value is stored; send the real value.",
                    details=[{"field": f"config.{field}", "message": "No stored value to keep."}],
                )
            merged[field] = stored
    return merged


@transaction.atomic
def integration_update(
    *, integration: Integration, name: str | None = None, type: str | None = None, config: dict | None = None
) -> Integration:
    integration = Integration.objects.select_for_update(no_key=True).get(pk=integration.pk)
    if type is not None and type != integration.type:
        raise ValidationFailed(
            "An integration's type cannot change; create a new integration instead.",
            details=[{"field": "type", "message": f"Is {integration.type}."}],
        )
    fields = ["updated_at"]
    if name is not None and name != integration.name:
        if Integration.objects.filter(tenant_id=integration.tenant_id, name=name).exclude(pk=integration.pk).exists():
            raise Conflict(f"An integration named {name!r} already exists.")
        integration.name = name
        fields.append("name")
    if config is not None:
        if isinstance(config, dict) and any(config.get(f) == MASK for f in SECRET_FIELDS[integration.type]):
            config = _keep_masked_secrets(integration.type, config, integration_config(integration=integration))
        _seal(integration, _checked_config(integration.type, config))
        fields.append("config_encrypted")
    return _save(integration, update_fields=fields)


@transaction.atomic
def integration_delete(*, integration: Integration) -> None:
    Integration.objects.filter(pk=integration.pk).delete()


@dataclass
class ProviderCheck:
    success: bool
    message: str


def integration_test(*, integration: Integration) -> ProviderCheck:
    """A real call to the provider with the stored credentials; the message never holds a secret."""
    config = integration_config(integration=integration)
    secrets = secret_values(integration.type, config)
    try:
        message = CHECKS[integration.type](config, secrets=secrets, timeout=TEST_TIMEOUT_SECONDS)
    except StepError as exc:
        return ProviderCheck(False, redact_text(exc.message, secrets))
    except Exception as exc:  # a provider bug still answers a clear failure, not a 500
        logger.exception("integration test of %s failed unexpectedly", integration.id)
        return ProviderCheck(False, redact_text(f"{type(exc).__name__}: {exc}", secrets))
    return ProviderCheck(True, redact_text(message, secrets))


@dataclass
class RotationReport:
    total: int = 0
    rotated: int = 0
    already_current: int = 0
    failed: int = 0


def integration_rotate_keys(*, on_failure=None) -> RotationReport:
    """Re-encrypt every integration not yet under the current (first) key. Safe to run again.

    Each row is rewritten by compare-and-set on its old ciphertext, so a concurrent
    edit is never overwritten with stale data (that row is simply counted as current).
    """
    ring = _ring()
    report = RotationReport()
    for integration in Integration.objects.order_by("id").iterator():
        report.total += 1
        if integration.key_id == ring.current_id:
            report.already_current += 1
            continue
        try:
            plaintext = crypto.decrypt(
                integration.config_encrypted, associated_data=integration.associated_data, ring=ring
            )
        except crypto.DecryptionFailed as exc:
            report.failed += 1
            if on_failure:
                on_failure(integration, str(exc))
            continue
        sealed = crypto.encrypt(plaintext, associated_data=integration.associated_data, ring=ring)
        updated = Integration.objects.filter(pk=integration.pk, config_encrypted=integration.config_encrypted).update(
            config_encrypted=sealed
        )
        if updated:
            report.rotated += 1
        else:
            report.already_current += 1
    return report
