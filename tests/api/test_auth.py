"""Authentication (SPEC 3, 10): JWT, sessions and API keys; the current user."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from apikeys.services import api_key_create, api_key_revoke
from tests.factories import PASSWORD


def _decode(token: str) -> dict:
    return jwt.decode(token, settings.SECRET_KEY, algorithms=["HS256"])


def _bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _assert_envelope(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]


def _login(username: str, password: str):
    return APIClient().post("/api/auth/token", {"username": username, "password": password}, format="json")


# --- JWT ---------------------------------------------------------------------------


def test_login_with_username_and_password_answers_an_access_and_a_refresh_token(member):
    response = _login(member.username, PASSWORD)

    assert response.status_code == 200
    assert set(response.json()) >= {"access", "refresh"}


def test_the_access_token_carries_the_users_tenant_as_customer_id(member, tenant):
    access = _login(member.username, PASSWORD).json()["access"]

    payload = _decode(access)

    assert payload["customer_id"] == tenant.id
    assert payload["user_id"] == member.id


def test_login_with_a_wrong_password_is_401_in_the_error_envelope(member):
    response = _login(member.username, "not-the-password")

    _assert_envelope(response, 401, "authentication_failed")


def test_login_as_an_unknown_user_is_401_in_the_error_envelope(db):
    response = _login("nobody-by-this-name", PASSWORD)

    _assert_envelope(response, 401, "authentication_failed")


def test_a_refresh_token_mints_a_new_access_token_for_the_same_user_and_tenant(member, tenant):
    refresh = _login(member.username, PASSWORD).json()["refresh"]

    response = APIClient().post("/api/auth/token/refresh", {"refresh": refresh}, format="json")

    assert response.status_code == 200
    payload = _decode(response.json()["access"])
    assert payload["user_id"] == member.id
    assert payload["customer_id"] == tenant.id


def test_a_garbage_refresh_token_is_401_in_the_error_envelope(db):
    response = APIClient().post("/api/auth/token/refresh", {"refresh": "not.a.token"}, format="json")

    _assert_envelope(response, 401, "authentication_failed")


def test_an_access_token_obtained_by_login_authenticates_api_calls(member):
    access = _login(member.username, PASSWORD).json()["access"]

    response = _bearer(access).get("/api/user")

    assert response.status_code == 200
    assert response.json()["user"]["id"] == member.id


def test_a_tampered_access_token_is_401_in_the_error_envelope(member):
    access = _login(member.username, PASSWORD).json()["access"]
    header, payload, signature = access.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"

    response = _bearer(tampered).get("/api/user")

    _assert_envelope(response, 401, "authentication_failed")


def test_a_refresh_token_is_not_accepted_as_an_access_token(member):
    refresh = _login(member.username, PASSWORD).json()["refresh"]

    response = _bearer(refresh).get("/api/user")

    _assert_envelope(response, 401, "authentication_failed")


def test_a_deactivated_user_cannot_log_in(member):
    member.is_active = False
    member.save()

    response = _login(member.username, PASSWORD)

    _assert_envelope(response, 401, "authentication_failed")


def test_a_malformed_login_body_is_400_parse_error(db):
    response = APIClient().generic("POST", "/api/auth/token", '{"username": ', "application/json")

    _assert_envelope(response, 400, "parse_error")


def test_a_token_is_refused_once_its_user_has_moved_to_another_tenant(member, other_tenant):
    access = _login(member.username, PASSWORD).json()["access"]
    member.tenant = other_tenant
    member.save()

    response = _bearer(access).get("/api/user")

    _assert_envelope(response, 401, "authentication_failed")


# --- the current user -----------------------------------------------------------------


def test_get_user_answers_the_authenticated_user_with_tenant_and_role(api_client, member, tenant):
    response = api_client.get("/api/user")

    assert response.status_code == 200
    user = response.json()["user"]
    assert user["id"] == member.id
    assert user["username"] == member.username
    assert user["tenant_id"] == tenant.id
    assert user["role"] == "member"
    assert "password" not in user


def test_patch_user_changes_the_name(api_client, member):
    response = api_client.patch("/api/user", {"name": "Ada Lovelace"}, format="json")

    assert response.status_code == 200
    assert response.json()["user"]["name"] == "Ada Lovelace"
    member.refresh_from_db()
    assert member.get_full_name() == "Ada Lovelace"


def test_a_viewer_may_change_their_own_name(viewer_client, viewer):
    response = viewer_client.patch("/api/user", {"name": "Read Only"}, format="json")

    assert response.status_code == 200
    viewer.refresh_from_db()
    assert viewer.get_full_name() == "Read Only"


def test_changing_the_password_without_the_old_password_is_400_and_keeps_the_old_one(api_client, member):
    response = api_client.patch("/api/user", {"password": "a-brand-new-password"}, format="json")

    _assert_envelope(response, 400, "validation_error")
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


def test_changing_the_password_with_a_wrong_old_password_is_400(api_client, member):
    response = api_client.patch(
        "/api/user", {"password": "a-brand-new-password", "old_password": "wrong-old-one"}, format="json"
    )

    _assert_envelope(response, 400, "validation_error")
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


def test_changing_the_password_with_the_old_password_lets_the_user_log_in_with_the_new_one(api_client, member):
    response = api_client.patch(
        "/api/user", {"password": "a-brand-new-password", "old_password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    assert _login(member.username, "a-brand-new-password").status_code == 200
    assert _login(member.username, PASSWORD).status_code == 401


def test_a_too_short_new_password_is_400(api_client, member):
    response = api_client.patch("/api/user", {"password": "short", "old_password": PASSWORD}, format="json")

    _assert_envelope(response, 400, "validation_error")
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


# --- sessions --------------------------------------------------------------------


def test_a_session_login_authenticates_api_calls(member):
    client = Client()
    assert client.login(username=member.username, password=PASSWORD)

    response = client.get("/api/user")

    assert response.status_code == 200
    assert response.json()["user"]["id"] == member.id


def test_a_session_write_without_a_csrf_token_is_refused(member):
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=member.username, password=PASSWORD)

    response = client.patch("/api/user", {"name": "Cross Site"}, content_type="application/json")

    _assert_envelope(response, 403, "permission_denied")
    member.refresh_from_db()
    assert member.get_full_name() != "Cross Site"


# --- API keys --------------------------------------------------------------------


def test_an_api_key_in_the_authorization_header_acts_as_its_creator(member, raw_member_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_member_key}")

    response = client.get("/api/user")

    assert response.status_code == 200
    assert response.json()["user"]["id"] == member.id


def test_an_api_key_in_the_x_api_key_header_acts_as_its_creator(member, raw_member_key):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_member_key)

    response = client.get("/api/user")

    assert response.status_code == 200
    assert response.json()["user"]["id"] == member.id


def test_an_api_key_acts_with_its_creators_role(viewer):
    _, raw = api_key_create(user=viewer, name="read only")
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)

    response = client.post("/api/workflows", {"definition": {"steps": []}, "name": "x"}, format="json")

    _assert_envelope(response, 403, "permission_denied")


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_AUTHORIZATION": "Bearer wfb_thisisnotarealkeyatallthisisnotarealkey"},
        {"HTTP_X_API_KEY": "wfb_thisisnotarealkeyatallthisisnotarealkey"},
        {"HTTP_X_API_KEY": "garbage"},
    ],
    ids=["bearer", "x-api-key", "x-api-key-without-prefix"],
)
def test_an_unknown_api_key_is_401_in_the_error_envelope(db, headers):
    client = APIClient()
    client.credentials(**headers)

    response = client.get("/api/user")

    _assert_envelope(response, 401, "authentication_failed")


def test_an_api_key_with_a_right_prefix_but_wrong_rest_is_401(raw_member_key):
    forged = raw_member_key[:12] + "x" * (len(raw_member_key) - 12)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=forged)

    response = client.get("/api/user")

    _assert_envelope(response, 401, "authentication_failed")


def test_a_revoked_api_key_is_401(member_key):
    key, raw = member_key
    api_key_revoke(key=key)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)

    response = client.get("/api/user")

    _assert_envelope(response, 401, "authentication_failed")


def test_an_expired_api_key_is_401(member):
    key, raw = api_key_create(user=member, name="short lived", expires_at=timezone.now() + timedelta(hours=1))
    ApiKey.objects.filter(id=key.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)

    response = client.get("/api/user")

    _assert_envelope(response, 401, "authentication_failed")


def test_an_api_key_whose_expiry_is_ahead_still_works(member):
    _, raw = api_key_create(user=member, name="long lived", expires_at=timezone.now() + timedelta(days=1))
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)

    assert client.get("/api/user").status_code == 200


def test_an_api_key_of_a_deactivated_user_is_401(member, raw_member_key):
    member.is_active = False
    member.save()
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_member_key)

    response = client.get("/api/user")

    _assert_envelope(response, 401, "authentication_failed")


def test_an_api_key_stops_working_when_its_creator_moves_to_another_tenant(member, raw_member_key, other_tenant):
    # A key acts as its creator *within its tenant* (SPEC 3); like a JWT, it must not
    # follow its user into another tenant.
    member.tenant = other_tenant
    member.save()
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_member_key)

    response = client.get("/api/user")

    _assert_envelope(response, 401, "authentication_failed")


# Canonical fields, and seed 002's camelCase ones beside them (SPEC 14).
API_KEY_FIELDS = {
    "id", "name", "key_prefix", "created_at", "last_used_at", "expires_at", "keyPrefix", "createdAt", "lastUsedAt",
}  # fmt: skip


def test_creating_an_api_key_shows_the_full_key_once(admin_client):
    response = admin_client.post("/api/api-keys", {"name": "deploy"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["key"].startswith("wfb_")
    assert len(body["key"]) >= 36
    assert body["api_key"]["id"].startswith("key_")
    assert body["api_key"]["name"] == "deploy"
    assert body["key"].startswith(body["api_key"]["key_prefix"])


def test_a_key_created_through_the_api_authenticates(admin_client, admin_user):
    raw = admin_client.post("/api/api-keys", {"name": "deploy"}, format="json").json()["key"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.get("/api/user")

    assert response.status_code == 200
    assert response.json()["user"]["id"] == admin_user.id


def test_listing_api_keys_shows_only_metadata(admin_client):
    raw = admin_client.post("/api/api-keys", {"name": "deploy"}, format="json").json()["key"]

    response = admin_client.get("/api/api-keys")

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    (listed,) = body["api_keys"]
    assert set(listed) == API_KEY_FIELDS
    assert raw not in response.content.decode()


def test_reading_one_api_key_shows_only_metadata(admin_client):
    created = admin_client.post("/api/api-keys", {"name": "deploy"}, format="json").json()

    response = admin_client.get(f"/api/api-keys/{created['api_key']['id']}")

    assert response.status_code == 200
    assert set(response.json()["api_key"]) == API_KEY_FIELDS
    assert created["key"] not in response.content.decode()


def test_the_database_never_holds_the_raw_key(member_key):
    key, raw = member_key
    row = ApiKey.objects.filter(id=key.id).values().get()

    assert all(raw not in str(value) for value in row.values())
    assert len(row["key_prefix"]) < len(raw)


def test_creating_a_key_that_expires_in_the_past_is_400(admin_client):
    past = (timezone.now() - timedelta(days=1)).isoformat()

    response = admin_client.post("/api/api-keys", {"name": "stale", "expires_at": past}, format="json")

    _assert_envelope(response, 400, "validation_error")
    assert ApiKey.objects.count() == 0


def test_using_an_api_key_sets_last_used_at(member_key):
    key, raw = member_key
    assert key.last_used_at is None
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)

    client.get("/api/user")

    key.refresh_from_db()
    assert key.last_used_at is not None
    assert timezone.now() - key.last_used_at < timedelta(seconds=30)


def test_deleting_an_api_key_revokes_it(admin_client, member_key):
    key, raw = member_key

    response = admin_client.delete(f"/api/api-keys/{key.id}")

    assert response.status_code == 204
    key.refresh_from_db()
    assert key.revoked_at is not None
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    assert client.get("/api/user").status_code == 401


def test_a_revoked_key_is_no_longer_listed(admin_client, member_key):
    key, _ = member_key
    admin_client.delete(f"/api/api-keys/{key.id}")

    response = admin_client.get("/api/api-keys")

    assert [k["id"] for k in response.json()["api_keys"]] == []


# --- no credentials ---------------------------------------------------------------


def test_a_request_without_credentials_is_401_in_the_error_envelope(anonymous_client):
    response = anonymous_client.get("/api/workflows")

    _assert_envelope(response, 401, "not_authenticated")
    assert "WWW-Authenticate" in response


def test_get_user_without_credentials_is_401(anonymous_client):
    response = anonymous_client.get("/api/user")

    _assert_envelope(response, 401, "not_authenticated")
