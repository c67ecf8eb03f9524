"""AES-256-GCM of integration configs: key parsing, key ids, rotation, clear failures."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from django.core.checks import Error, Warning

from integrations import crypto
from integrations.checks import encryption_keys_check, encryption_keys_deploy_check

AAD = b"integration|ten_1|int_1"


def raw_key() -> bytes:
    return os.urandom(32)


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_a_value_round_trips():
    ring = crypto.parse_keys(b64(raw_key()))

    token = crypto.encrypt(b'{"token": "xoxb-secret"}', associated_data=AAD, ring=ring)

    assert crypto.decrypt(token, associated_data=AAD, ring=ring) == b'{"token": "xoxb-secret"}'


def test_the_stored_value_is_key_id_then_base64_of_nonce_and_ciphertext():
    key = raw_key()
    ring = crypto.parse_keys(b64(key))

    token = crypto.encrypt(b"hello", associated_data=AAD, ring=ring)

    key_id, _, data = token.partition(":")
    assert key_id == hashlib.sha256(key).hexdigest()[:8]
    assert len(base64.b64decode(data)) == 12 + len(b"hello") + 16  # nonce, ciphertext, tag
    assert b"hello" not in base64.b64decode(data)


def test_each_encryption_uses_a_fresh_nonce():
    ring = crypto.parse_keys(b64(raw_key()))

    first = crypto.encrypt(b"same", associated_data=AAD, ring=ring)
    second = crypto.encrypt(b"same", associated_data=AAD, ring=ring)

    assert first != second
    assert base64.b64decode(first.split(":")[1])[:12] != base64.b64decode(second.split(":")[1])[:12]


def test_a_prefixed_key_uses_its_own_key_id():
    ring = crypto.parse_keys(f"2024-q1:{b64(raw_key())}")

    assert ring.current_id == "2024-q1"
    assert crypto.encrypt(b"x", associated_data=AAD, ring=ring).startswith("2024-q1:")


def test_url_safe_and_unpadded_base64_keys_are_accepted():
    key = b"\xfb\xff" * 16  # encodes with + and / in standard base64
    urlsafe = base64.urlsafe_b64encode(key).decode().rstrip("=")

    assert crypto.parse_keys(urlsafe).keys[0][1] == key
    assert crypto.parse_keys(base64.b64encode(key).decode()).keys[0][1] == key


def test_the_first_key_encrypts_and_every_key_decrypts():
    old, new = raw_key(), raw_key()
    before = crypto.parse_keys(f"old:{b64(old)}")
    token = crypto.encrypt(b"secret", associated_data=AAD, ring=before)

    after = crypto.parse_keys(f"new:{b64(new)}, old:{b64(old)}")

    assert crypto.decrypt(token, associated_data=AAD, ring=after) == b"secret"
    assert crypto.encrypt(b"secret", associated_data=AAD, ring=after).startswith("new:")


def test_a_value_under_a_key_no_longer_configured_says_which_key_id_is_missing():
    token = crypto.encrypt(b"secret", associated_data=AAD, ring=crypto.parse_keys(f"old:{b64(raw_key())}"))

    with pytest.raises(crypto.DecryptionFailed) as caught:
        crypto.decrypt(token, associated_data=AAD, ring=crypto.parse_keys(f"new:{b64(raw_key())}"))

    assert "encrypted with key id 'old' which is not configured" in str(caught.value)


def test_the_wrong_key_under_the_same_key_id_is_a_clear_error_not_garbage():
    token = crypto.encrypt(b"secret", associated_data=AAD, ring=crypto.parse_keys(f"k:{b64(raw_key())}"))

    with pytest.raises(crypto.DecryptionFailed, match="could not decrypt: wrong key or tampered data"):
        crypto.decrypt(token, associated_data=AAD, ring=crypto.parse_keys(f"k:{b64(raw_key())}"))


def test_a_tampered_ciphertext_is_a_clear_error():
    ring = crypto.parse_keys(b64(raw_key()))
    key_id, _, data = crypto.encrypt(b"secret", associated_data=AAD, ring=ring).partition(":")
    blob = bytearray(base64.b64decode(data))
    blob[-1] ^= 0x01

    with pytest.raises(crypto.DecryptionFailed, match="wrong key or tampered data"):
        crypto.decrypt(f"{key_id}:{base64.b64encode(bytes(blob)).decode()}", associated_data=AAD, ring=ring)


def test_the_associated_data_binds_a_value_to_its_tenant_and_integration():
    ring = crypto.parse_keys(b64(raw_key()))
    token = crypto.encrypt(b"secret", associated_data=b"integration|ten_1|int_1", ring=ring)

    for other in (b"integration|ten_2|int_1", b"integration|ten_1|int_2"):
        with pytest.raises(crypto.DecryptionFailed, match="wrong key or tampered data"):
            crypto.decrypt(token, associated_data=other, ring=ring)


@pytest.mark.parametrize(
    "token, message",
    [
        ("no-separator", "not in the '<key id>:<data>' format"),
        (":abc", "not in the '<key id>:<data>' format"),
    ],
)
def test_a_malformed_stored_value_is_a_clear_error(token, message):
    with pytest.raises(crypto.DecryptionFailed, match=message):
        crypto.decrypt(token, associated_data=AAD, ring=crypto.parse_keys(b64(raw_key())))


def test_truncated_or_non_base64_data_is_a_clear_error():
    ring = crypto.parse_keys(f"k:{b64(raw_key())}")

    with pytest.raises(crypto.DecryptionFailed, match="truncated"):
        crypto.decrypt("k:" + base64.b64encode(b"short").decode(), associated_data=AAD, ring=ring)
    with pytest.raises(crypto.DecryptionFailed, match="not valid base64"):
        crypto.decrypt("k:%%%%", associated_data=AAD, ring=ring)


@pytest.mark.parametrize(
    "raw, message",
    [
        ("", "is not set"),
        (" , ", "is not set"),
        ("not base64!!", "key #1 is not valid base64"),
        (base64.b64encode(b"short").decode(), "key #1 decodes to 5 bytes; AES-256 needs 32"),
        (
            f"a:{base64.b64encode(b'k' * 32).decode()},a:{base64.b64encode(b'j' * 32).decode()}",
            "key id 'a' appears twice",
        ),
        (f"bad id:{base64.b64encode(b'k' * 32).decode()}", "key #1 has an invalid key id"),
    ],
)
def test_a_missing_or_invalid_setting_is_improperly_configured(raw, message):
    with pytest.raises(crypto.EncryptionNotConfigured, match=message):
        crypto.parse_keys(raw)


def test_the_configuration_error_never_quotes_a_key():
    bad = base64.b64encode(b"sixteen-byte-key").decode()

    with pytest.raises(crypto.EncryptionNotConfigured) as caught:
        crypto.parse_keys(bad)

    assert bad not in str(caught.value)


def test_keyring_reads_the_setting_and_follows_changes(settings):
    first, second = raw_key(), raw_key()
    settings.ORCHESTRATOR_ENCRYPTION_KEYS = b64(first)
    assert crypto.keyring().keys[0][1] == first

    settings.ORCHESTRATOR_ENCRYPTION_KEYS = b64(second)
    assert crypto.keyring().keys[0][1] == second


def test_the_system_check_errors_outside_debug_on_a_malformed_setting(settings):
    settings.DEBUG = False
    settings.ORCHESTRATOR_ENCRYPTION_KEYS = "not-a-key"

    problems = encryption_keys_check()

    assert [type(p) for p in problems] == [Error] and problems[0].id == "integrations.E002"


def test_the_deploy_check_errors_outside_debug_without_a_key(settings):
    settings.DEBUG = False
    settings.ORCHESTRATOR_ENCRYPTION_KEYS = ""

    assert [p.id for p in encryption_keys_deploy_check()] == ["integrations.E001"]
    assert [type(p) for p in encryption_keys_check()] == [Warning]


def test_the_checks_only_warn_in_debug_and_pass_with_a_good_key(settings):
    settings.DEBUG = True
    settings.ORCHESTRATOR_ENCRYPTION_KEYS = "not-a-key"
    assert [type(p) for p in encryption_keys_check()] == [Warning]
    assert encryption_keys_deploy_check() == []

    settings.DEBUG = False
    settings.ORCHESTRATOR_ENCRYPTION_KEYS = b64(raw_key())
    assert encryption_keys_check() == [] and encryption_keys_deploy_check() == []
