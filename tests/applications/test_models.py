"""Database constraints on app registrations (SPEC §5): the rules hold even past the services."""

import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from oauth2_provider.models import set_token_value

from applications.models import Application, AppRole, ClientSecret, ConsentGrant, RefreshToken, RequiredPermission

pytestmark = pytest.mark.django_db


def _integrity_error(create) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_client_id_must_be_a_uuid():
    _integrity_error(lambda: Application.objects.create(name="x", client_id="not-a-uuid", client_type="public"))


def test_app_id_uri_is_unique_and_well_formed(api_app):
    _integrity_error(lambda: Application.objects.create(
        name="x", client_type="confidential", app_id_uri=api_app.app_id_uri))
    _integrity_error(lambda: Application.objects.create(
        name="y", client_type="confidential", app_id_uri="https://contoso/api/.default"))
    _integrity_error(lambda: Application.objects.create(name="z", client_type="confidential", app_id_uri="has space"))


def test_role_values_have_no_spaces_and_are_unique_per_app(api_app, daemon_app):
    _integrity_error(lambda: AppRole.objects.create(application=api_app, value="app read", display_name="x"))
    _integrity_error(lambda: AppRole.objects.create(application=api_app, value="app.read", display_name="x"))
    AppRole.objects.create(application=daemon_app, value="app.read", display_name="same value, other app")


def test_a_role_needs_a_member_type(api_app):
    _integrity_error(lambda: AppRole.objects.create(
        application=api_app, value="x", display_name="x", allow_application=False, allow_user=False))


def test_app_roles_are_consented_by_an_admin_for_the_tenant_only(daemon_app, api_app, user):
    role = api_app.app_roles.get(value="app.read")
    _integrity_error(lambda: ConsentGrant.objects.create(client=daemon_app, app_role=role, user=user))
    ConsentGrant.objects.create(client=daemon_app, app_role=role)
    _integrity_error(lambda: ConsentGrant.objects.create(client=daemon_app, app_role=role))


def test_a_permission_targets_exactly_one_role_or_scope(daemon_app, api_app):
    _integrity_error(lambda: RequiredPermission.objects.create(client=daemon_app))


def test_a_secret_expires_after_it_is_created(daemon_app):
    now = timezone.now()
    _integrity_error(lambda: ClientSecret.objects.create(
        application=daemon_app, hint="abc", secret_hash="x", created_at=now, expires_at=now - timedelta(days=1)))


def test_grant_types_follow_the_apps_capabilities(native_app, daemon_app):
    assert native_app.grant_types() == {"password", "refresh_token"}
    assert daemon_app.grant_types() == {"client_credentials", "refresh_token"}
    assert daemon_app.allows_grant_type("client-credentials") and not native_app.allows_grant_type("client-credentials")


def test_refresh_tokens_are_stored_as_a_checksum_only(native_app, user, policy):
    token = RefreshToken(user=user, application=native_app, policy=policy, token_family=uuid.uuid4())
    set_token_value(token, "plain-refresh-token-value")
    token.save()
    stored = RefreshToken.objects.values("token", "token_checksum").get(pk=token.pk)
    assert stored["token"] == ""
    assert len(stored["token_checksum"]) == 64 and "plain" not in stored["token_checksum"]


def test_app_id_uris_are_unique_whatever_their_case(api_app):
    from django.core.exceptions import ValidationError

    from applications import services

    _integrity_error(lambda: Application.objects.create(
        name="x", client_type="confidential", app_id_uri=api_app.app_id_uri.upper()))
    with pytest.raises(ValidationError, match="already the App ID URI of 'Tasks API'"):
        services.application_register(actor="tests", name="y", app_id_uri=api_app.app_id_uri.upper())
