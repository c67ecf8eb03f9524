"""``manage.py rotate_encryption_key``: re-encrypt under the first key, count, stay idempotent."""

from __future__ import annotations

import base64
import os
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from integrations.models import Integration
from integrations.services import integration_config, integration_create


def key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


def rotate() -> str:
    out = StringIO()
    call_command("rotate_encryption_key", stdout=out, stderr=StringIO())
    return out.getvalue().strip()


@pytest.fixture
def old_and_new(settings):
    old, new = key("old"), key("new")
    settings.ORCHESTRATOR_ENCRYPTION_KEYS = old
    return old, new


def test_rotation_re_encrypts_every_integration_with_the_first_key(admin_user, old_and_new, settings):
    old, new = old_and_new
    created = [
        integration_create(user=admin_user, name=f"s{n}", type="slack", config={"token": f"xoxb-token-{n}"})
        for n in range(3)
    ]
    settings.ORCHESTRATOR_ENCRYPTION_KEYS = f"{new},{old}"

    output = rotate()

    assert output == "current key id new: 3 integrations, 3 re-encrypted, 0 already current, 0 failed"
    assert set(Integration.objects.values_list("config_encrypted", flat=True)) != {c.config_encrypted for c in created}
    assert {i.key_id for i in Integration.objects.all()} == {"new"}
    settings.ORCHESTRATOR_ENCRYPTION_KEYS = new  # the old key can go now
    assert sorted(integration_config(integration=i)["token"] for i in Integration.objects.all()) == [
        "xoxb-token-0",
        "xoxb-token-1",
        "xoxb-token-2",
    ]


def test_rotation_is_idempotent(admin_user, old_and_new, settings):
    old, new = old_and_new
    integration_create(user=admin_user, name="s", type="slack", config={"token": "xoxb-token"})
    settings.ORCHESTRATOR_ENCRYPTION_KEYS = f"{new},{old}"
    rotate()
    stored = Integration.objects.get().config_encrypted

    again = rotate()

    assert again == "current key id new: 1 integrations, 0 re-encrypted, 1 already current, 0 failed"
    assert Integration.objects.get().config_encrypted == stored


def test_rotation_keeps_updated_at(admin_user, old_and_new, settings):
    old, new = old_and_new
    integration = integration_create(user=admin_user, name="s", type="slack", config={"token": "xoxb-token"})
    settings.ORCHESTRATOR_ENCRYPTION_KEYS = f"{new},{old}"

    rotate()

    assert Integration.objects.get().updated_at == integration.updated_at


def test_rotation_reports_rows_it_cannot_decrypt_and_fails(admin_user, old_and_new, settings):
    old, new = old_and_new
    integration = integration_create(user=admin_user, name="s", type="slack", config={"token": "xoxb-token"})
    integration_create(user=admin_user, name="t", type="slack", config={"token": "xoxb-token-2"})
    settings.ORCHESTRATOR_ENCRYPTION_KEYS = new  # the old key is gone too early
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="2 integration\\(s\\) could not be decrypted"):
        call_command("rotate_encryption_key", stdout=out, stderr=err)

    assert "0 re-encrypted, 0 already current, 2 failed" in out.getvalue()
    assert (
        f"{integration.id} (s): could not decrypt: encrypted with key id 'old' which is not configured"
        in err.getvalue()
    )


def test_rotation_without_keys_is_a_clear_command_error(db, settings):
    settings.ORCHESTRATOR_ENCRYPTION_KEYS = ""

    with pytest.raises(CommandError, match="ORCHESTRATOR_ENCRYPTION_KEYS is not set"):
        rotate()
