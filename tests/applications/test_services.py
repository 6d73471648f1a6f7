"""applications.services: registration, secrets, roles, permissions, consent (SPEC §5)."""

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError

from applications import selectors, services
from applications.models import ClientSecret
from audit.models import AuditEvent
from tests.conftest import ACTOR

pytestmark = pytest.mark.django_db


def test_secret_is_returned_once_and_stored_hashed(daemon_app):
    secret, value = services.client_secret_add(application=daemon_app, actor=ACTOR, description="ci")
    stored = ClientSecret.objects.get(pk=secret.pk)
    assert value not in stored.secret_hash
    assert stored.secret_hash.startswith("client_secret_sha256$")
    assert check_password(value, stored.secret_hash)
    assert stored.hint == value[:3]
    assert (stored.expires_at - stored.created_at).days == 180
    event = AuditEvent.objects.get(action="client_secret.add")
    assert value not in str(event.details)


def test_secret_expiry_is_at_most_two_years(daemon_app):
    with pytest.raises(ValidationError, match="1 to 730 days"):
        services.client_secret_add(application=daemon_app, actor=ACTOR, expires_days=731)
    assert not ClientSecret.objects.exists()


def test_public_clients_get_no_secret(native_app):
    with pytest.raises(ValidationError, match="public client"):
        services.client_secret_add(application=native_app, actor=ACTOR)


def test_consent_grants_requested_roles_and_selector_reads_them(daemon_app, api_app):
    services.permission_add(client=daemon_app, api=api_app, values=["app.read", "app.write"], actor=ACTOR)
    assert [s.status for s in selectors.permissions_with_status(daemon_app)] == ["Not granted", "Not granted"]
    services.admin_consent_grant(client=daemon_app, actor=ACTOR)
    assert selectors.roles_consented(client=daemon_app, api=api_app) == ["app.read", "app.write"]
    assert [s.status for s in selectors.permissions_with_status(daemon_app)] == ["Granted", "Granted"]
    services.admin_consent_revoke(client=daemon_app, actor=ACTOR)
    assert selectors.roles_consented(client=daemon_app, api=api_app) == []


def test_unknown_permission_writes_nothing(daemon_app, api_app):
    with pytest.raises(ValidationError, match=r"no app role or scope 'app\.delete'"):
        services.permission_add(client=daemon_app, api=api_app, values=["app.read", "app.delete"], actor=ACTOR)
    assert not daemon_app.required_permissions.exists()


def test_an_app_turned_public_loses_its_secrets(daemon_app):
    services.client_secret_add(application=daemon_app, actor=ACTOR)
    daemon_app.client_type = "public"
    services.application_update(application=daemon_app, changed=["client_type"], actor=ACTOR)
    assert not daemon_app.secrets.exists()
    event = AuditEvent.objects.filter(action="application.update").latest("id")
    assert len(event.details["secrets_removed"]) == 1


def test_a_scope_can_be_added_disabled(api_app):
    scope = services.delegated_scope_add(application=api_app, actor=ACTOR, value="tasks.read", enabled=False)
    assert not scope.is_enabled
