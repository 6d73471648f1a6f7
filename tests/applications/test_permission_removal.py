"""Removing a permission revokes its admin consent; consent without a request is listed (issue 18 item 5).

applications.services.permission_remove is the one rule of the admin's "Remove" and `manage.py
removepermission`; selectors.other_permissions_granted is Entra's "Other permissions granted for {tenant}".
"""

import pytest
from django.core.exceptions import ValidationError

from applications import selectors, services
from applications.models import ConsentGrant, RequiredPermission
from audit.models import AuditEvent
from tests.conftest import ACTOR

pytestmark = pytest.mark.django_db


@pytest.fixture
def granted(daemon_app, api_app):
    """The daemon requests app.read, app.write and the delegated scope tasks.read, all admin-consented."""
    scope = services.delegated_scope_add(application=api_app, actor=ACTOR, value="tasks.read")
    services.permission_add(client=daemon_app, api=api_app, values=["app.read", "app.write", "tasks.read"],
                            actor=ACTOR)
    services.admin_consent_grant(client=daemon_app, actor=ACTOR)
    return scope


def values(queryset) -> set[str]:
    return {row.target.value for row in queryset}


def test_removing_a_granted_app_role_revokes_its_admin_consent_too(daemon_app, api_app, granted):
    done = services.permission_remove(
        client=daemon_app, targets=services.permission_targets(api=api_app, values=["app.write"]), actor=ACTOR)
    assert (done.removed, done.consent_revoked, done.unchanged) == (["app.write"], ["app.write"], [])
    assert values(RequiredPermission.objects.all()) == values(ConsentGrant.objects.all()) == {"app.read", "tasks.read"}
    assert selectors.roles_consented(client=daemon_app, api=api_app) == ["app.read"]
    assert selectors.other_permissions_granted(daemon_app) == []
    event = AuditEvent.objects.get(action="permission.remove")
    assert event.details == {"permissions": [{
        "api": api_app.client_id, "value": "app.write", "type": "Application", "request_removed": True,
        "consent_revoked": True}]}


def test_removing_a_delegated_scope_revokes_the_tenant_wide_consent_and_keeps_users_own(
    daemon_app, api_app, granted, user
):
    ConsentGrant.objects.create(client=daemon_app, scope=granted, user=user)
    done = services.permission_remove(client=daemon_app, targets=[granted], actor=ACTOR)
    assert done.consent_revoked == ["tasks.read"]
    assert list(ConsentGrant.objects.filter(scope=granted).values_list("user", flat=True)) == [user.pk]


def test_removing_a_permission_that_was_never_granted_only_removes_the_request(daemon_app, api_app):
    services.permission_add(client=daemon_app, api=api_app, values=["app.read"], actor=ACTOR)
    done = services.permission_remove(
        client=daemon_app, targets=services.permission_targets(api=api_app, values=["app.read"]), actor=ACTOR)
    assert (done.removed, done.consent_revoked) == (["app.read"], [])
    assert not RequiredPermission.objects.exists()


def test_consent_without_a_request_is_listed_as_other_permissions_granted_and_removal_revokes_it(
    daemon_app, api_app, granted, user
):
    # What an earlier build's "Remove" left: the requests gone, the consent in force.
    RequiredPermission.objects.filter(client=daemon_app).exclude(app_role__value="app.read").delete()
    ConsentGrant.objects.create(client=daemon_app, scope=granted, user=user)  # a user's own: not tenant-wide
    assert values(selectors.other_permissions_granted(daemon_app)) == {"app.write", "tasks.read"}
    assert selectors.roles_consented(client=daemon_app, api=api_app) == ["app.read", "app.write"]  # in force
    done = services.permission_remove(
        client=daemon_app, targets=services.permission_targets(api=api_app, values=["app.write", "tasks.read"]),
        actor=ACTOR)
    assert (done.removed, done.consent_revoked, done.unchanged) == ([], ["app.write", "tasks.read"], [])
    assert selectors.other_permissions_granted(daemon_app) == []
    assert selectors.roles_consented(client=daemon_app, api=api_app) == ["app.read"]


def test_the_other_permissions_granted_can_be_revoked_one_by_one(daemon_app, api_app, granted):
    RequiredPermission.objects.filter(client=daemon_app).delete()
    grants = selectors.other_permissions_granted(daemon_app)
    write = next(g for g in grants if g.target.value == "app.write")
    assert services.admin_consent_revoke(client=daemon_app, actor=ACTOR, grants_only=[write.pk]) == 1
    assert values(selectors.other_permissions_granted(daemon_app)) == {"app.read", "tasks.read"}
    assert AuditEvent.objects.get(action="consent.revoke").details == {"revoked": ["app.write"]}


def test_removing_what_is_neither_requested_nor_granted_changes_nothing_and_audits_nothing(daemon_app, api_app):
    done = services.permission_remove(
        client=daemon_app, targets=services.permission_targets(api=api_app, values=["app.read"]), actor=ACTOR)
    assert (done.removed, done.consent_revoked, done.unchanged) == ([], [], ["app.read"])
    assert not AuditEvent.objects.filter(action="permission.remove").exists()


def test_a_value_the_api_does_not_define_is_refused_before_anything_is_removed(daemon_app, api_app, granted):
    with pytest.raises(ValidationError, match=r"no app role or scope 'app\.delete'"):
        services.permission_targets(api=api_app, values=["app.read", "app.delete"])
    with pytest.raises(ValidationError, match="at least one"):
        services.permission_targets(api=api_app, values=[])
    assert RequiredPermission.objects.count() == ConsentGrant.objects.count() == 3
