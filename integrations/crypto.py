"""AES-256-GCM for integration configs (SPEC 10, 16).

Keys come from ``ORCHESTRATOR_ENCRYPTION_KEYS``: comma-separated 32-byte keys in
base64 (standard or URL-safe, padding optional), each optionally prefixed by
``KEYID:``; without a prefix the key id is the first 8 hex digits of the key's
SHA-256. The first key encrypts; every key decrypts, so a rotation is: put the
new key first, keep the old ones after it, run ``manage.py rotate_encryption_key``,
then drop the old ones.

A stored value reads ``<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`` with a random
96-bit nonce. The associated data binds a value to its row (tenant and
integration IDs), so a ciphertext copied into another row does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_BYTES = 32
NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class EncryptionNotConfigured(ImproperlyConfigured):
    """ORCHESTRATOR_ENCRYPTION_KEYS is missing or malformed."""


class DecryptionFailed(Exception):
    """A stored value that cannot be decrypted: unknown key id, wrong key, tampered or malformed data."""


@dataclass(frozen=True)
class Keyring:
    keys: tuple[tuple[str, bytes], ...]  # (key id, key), the encrypting key first

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    def key(self, key_id: str) -> bytes | None:
        return next((key for kid, key in self.keys if kid == key_id), None)


def default_key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def _decode_key(text: str, position: int) -> bytes:
    standard = text.replace("-", "+").replace("_", "/")
    standard += "=" * (-len(standard) % 4)
    try:
        key = base64.b64decode(standard, validate=True)
    except (binascii.Error, ValueError):
        raise EncryptionNotConfigured(f"ORCHESTRATOR_ENCRYPTION_KEYS: key #{position} is not valid base64.") from None
    if len(key) != KEY_BYTES:
        raise EncryptionNotConfigured(
            f"ORCHESTRATOR_ENCRYPTION_KEYS: key #{position} decodes to {len(key)} bytes; AES-256 needs {KEY_BYTES}."
        )
    return key


def parse_keys(raw: str) -> Keyring:
    """The keyring ``raw`` describes; EncryptionNotConfigured says what is wrong (never the key itself)."""
    entries = [entry.strip() for entry in (raw or "").split(",") if entry.strip()]
    if not entries:
        raise EncryptionNotConfigured(
            "ORCHESTRATOR_ENCRYPTION_KEYS is not set: integration secrets cannot be encrypted or decrypted. "
            'Generate a key with: python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"'
        )
    keys: list[tuple[str, bytes]] = []
    for position, entry in enumerate(entries, start=1):
        key_id, sep, encoded = entry.partition(":")
        if not sep:
            key_id, encoded = "", entry
        elif not _KEY_ID.match(key_id):
            raise EncryptionNotConfigured(
                f"ORCHESTRATOR_ENCRYPTION_KEYS: key #{position} has an invalid key id "
                "(use letters, digits, '.', '_' or '-', at most 64)."
            )
        key = _decode_key(encoded.strip(), position)
        key_id = key_id or default_key_id(key)
        if any(kid == key_id for kid, _ in keys):
            raise EncryptionNotConfigured(f"ORCHESTRATOR_ENCRYPTION_KEYS: key id {key_id!r} appears twice.")
        keys.append((key_id, key))
    return Keyring(tuple(keys))


_cache: dict[str, Keyring] = {}


def keyring() -> Keyring:
    """The configured keyring (parsed once per distinct setting value, so tests may override it)."""
    raw = getattr(settings, "ORCHESTRATOR_ENCRYPTION_KEYS", "") or ""
    ring = _cache.get(raw)
    if ring is None:
        ring = parse_keys(raw)
        _cache.clear()
        _cache[raw] = ring
    return ring


def key_id_of(token: str) -> str:
    """The key id a stored value was encrypted with (no key needed)."""
    key_id, sep, _ = (token or "").partition(":")
    if not sep or not key_id:
        raise DecryptionFailed("could not decrypt: the stored value is not in the '<key id>:<data>' format")
    return key_id


def encrypt(plaintext: bytes, *, associated_data: bytes, ring: Keyring | None = None) -> str:
    ring = ring or keyring()
    key_id, key = ring.keys[0]
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext, associated_data)
    return f"{key_id}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, associated_data: bytes, ring: Keyring | None = None) -> bytes:
    key_id = key_id_of(token)
    ring = ring or keyring()
    key = ring.key(key_id)
    if key is None:
        raise DecryptionFailed(
            f"could not decrypt: encrypted with key id {key_id!r} which is not configured "
            "in ORCHESTRATOR_ENCRYPTION_KEYS"
        )
    try:
        blob = base64.b64decode(token.partition(":")[2], validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionFailed("could not decrypt: the stored value is not valid base64") from None
    if len(blob) < NONCE_BYTES + 16:
        raise DecryptionFailed("could not decrypt: the stored value is truncated")
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated_data)
    except InvalidTag:
        raise DecryptionFailed("could not decrypt: wrong key or tampered data") from None
