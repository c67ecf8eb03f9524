"""Issuing, checking and revoking API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apikeys.models import ApiKey
from orchestrator.errors import ValidationFailed
from orchestrator.models import User

KEY_PREFIX = "wfb_"
_ALPHABET = string.ascii_letters + string.digits
_RANDOM_LENGTH = 40
_LOOKUP_LENGTH = 12  # "wfb_" + 8 characters: what the list shows and the lookup uses
_TOUCH_EVERY = timedelta(seconds=60)


def _hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, user: User, name: str, expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """Returns the stored key and the raw key, which is shown once and never again."""
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed(
            "expires_at must be in the future.", details=[{"field": "expires_at", "message": "Must be in the future."}]
        )
    raw = KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LENGTH))
    key = ApiKey.objects.create(
        tenant_id=user.tenant_id,
        user=user,
        name=name,
        key_prefix=raw[:_LOOKUP_LENGTH],
        key_hash=_hash(raw),
        expires_at=expires_at,
    )
    return key, raw


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """The active, unexpired key matching ``raw_key`` (constant-time compare), or None."""
    if not raw_key.startswith(KEY_PREFIX) or len(raw_key) < _LOOKUP_LENGTH:
        return None
    digest = _hash(raw_key)
    candidates = ApiKey.objects.active().filter(key_prefix=raw_key[:_LOOKUP_LENGTH]).select_related("user", "tenant")
    now = timezone.now()
    for key in candidates:
        if hmac.compare_digest(key.key_hash, digest):
            if key.expires_at is not None and key.expires_at <= now:
                return None
            if key.last_used_at is None or now - key.last_used_at > _TOUCH_EVERY:
                # Throttled so that a busy key does not write on every request.
                ApiKey.objects.filter(id=key.id).update(last_used_at=now)
                key.last_used_at = now
            return key
    return None


@transaction.atomic
def api_key_revoke(*, key: ApiKey) -> ApiKey:
    ApiKey.objects.filter(id=key.id, revoked_at__isnull=True).update(revoked_at=timezone.now())
    key.refresh_from_db()
    return key
