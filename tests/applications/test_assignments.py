"""applications.assignments: assigning app roles of member type User to directory users, and the reads."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services as accounts
from accounts.models import User
from applications import assignments
from applications import services as applications
from applications.models import AppRole, AppRoleAssignment
from audit.models import AuditEvent
from tests.conftest import ACTOR, DEMO_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def hr_api(db):
    api = applications.application_register(actor=ACTOR, name="HR API",
                                            app_id_uri="https://contoso.onmicrosoft.com/hr")
    applications.app_role_add(application=api, actor=ACTOR, value="hr.read", member_types="User")
    applications.app_role_add(application=api, actor=ACTOR, value="hr.admin", member_types="User,Application")
    applications.app_role_add(application=api, actor=ACTOR, value="hr.sync", member_types="Application")
    applications.app_role_add(application=api, actor=ACTOR, value="hr.old", member_types="User", enabled=False)
    return api


def role(api, value: str) -> AppRole:
    return api.app_roles.get(value=value)


# ---- assign ---------------------------------------------------------------------------------------------


def test_assigning_records_who_and_when_and_audits_it(user, hr_api, admin_user):
    assignment = assignments.app_role_assign(user=user, app_role=role(hr_api, "hr.read"), actor=admin_user)
    stored = AppRoleAssignment.objects.get()
    assert (stored.user, stored.app_role) == (user, role(hr_api, "hr.read"))
    assert stored.created_by == admin_user and stored.created_by_label == "admin:admin" and stored.created_at
    event = AuditEvent.objects.get(action="app_role.assign")
    assert event.actor == admin_user and event.target_id == str(hr_api.pk)
    assert event.details == {
        "assignment_id": str(assignment.assignment_id), "user": "alice", "user_object_id": str(user.object_id),
        "role_id": str(role(hr_api, "hr.read").role_id), "value": "hr.read",
    }


def test_a_command_actor_is_kept_as_a_label(user, hr_api):
    assignment = assignments.app_role_assign(user=user, app_role=role(hr_api, "hr.admin"), actor="manage.py x")
    assert assignment.created_by is None and assignment.created_by_label == "manage.py x"


@pytest.mark.parametrize(("value", "message"), [
    ("hr.sync", "App role 'hr.sync' of 'HR API' does not allow member type User."),
    ("hr.old", "App role 'hr.old' of 'HR API' is disabled; enable it before assigning it."),
])
def test_a_role_that_is_not_for_users_or_disabled_is_refused(user, hr_api, value, message):
    with pytest.raises(ValidationError) as excinfo:
        assignments.app_role_assign(user=user, app_role=role(hr_api, value), actor=ACTOR)
    assert excinfo.value.messages == [message]
    assert not AppRoleAssignment.objects.exists() and not AuditEvent.objects.filter(action="app_role.assign")


def test_an_admin_account_is_refused(hr_api, admin_user):
    with pytest.raises(ValidationError) as excinfo:
        assignments.app_role_assign(user=admin_user, app_role=role(hr_api, "hr.read"), actor=ACTOR)
    assert excinfo.value.messages == ["'admin' is an admin account; app roles are assigned to directory users only."]
    assert excinfo.value.code == "admin_account"
    assert not AppRoleAssignment.objects.exists()


def test_assigning_the_same_role_twice_is_refused(user, hr_api):
    assignments.app_role_assign(user=user, app_role=role(hr_api, "hr.read"), actor=ACTOR)
    with pytest.raises(ValidationError, match=r"'alice' is already assigned app role 'hr\.read' of 'HR API'\."):
        assignments.app_role_assign(user=user, app_role=role(hr_api, "hr.read"), actor=ACTOR)
    assert AppRoleAssignment.objects.count() == 1
    assert AuditEvent.objects.filter(action="app_role.assign").count() == 1


def test_a_concurrent_duplicate_is_refused_as_already_assigned(user, hr_api, monkeypatch):
    """The check passed, then another request inserted the pair: the unique constraint answers, as a refusal."""
    assignments.app_role_assign(user=user, app_role=role(hr_api, "hr.read"), actor=ACTOR)
    monkeypatch.setattr(assignments, "app_role_assign_check", lambda **_: None)
    with pytest.raises(ValidationError) as excinfo:
        assignments.app_role_assign(user=user, app_role=role(hr_api, "hr.read"), actor=ACTOR)
    assert excinfo.value.code == "already_assigned"
    assert AppRoleAssignment.objects.count() == 1


def test_a_disabled_directory_user_may_be_assigned(user, hr_api):
    """As in Entra: the account's state is the sign-in's business, not the assignment's."""
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.refresh_from_db()
    assert assignments.app_role_assign(user=user, app_role=role(hr_api, "hr.read"), actor=ACTOR)


# ---- unassign -------------------------------------------------------------------------------------------


def test_unassigning_deletes_the_assignment_and_audits_it(user, hr_api, admin_user):
    assignment = assignments.app_role_assign(user=user, app_role=role(hr_api, "hr.read"), actor=ACTOR)
    assignments.app_role_unassign(assignment=assignment, actor=admin_user)
    assert not AppRoleAssignment.objects.exists()
    event = AuditEvent.objects.get(action="app_role.unassign")
    assert event.actor == admin_user and event.details["value"] == "hr.read" and event.details["user"] == "alice"


def test_a_disabled_role_can_still_be_unassigned(user, hr_api):
    assignment = assignments.app_role_assign(user=user, app_role=role(hr_api, "hr.read"), actor=ACTOR)
    AppRole.objects.filter(pk=assignment.app_role_id).update(is_enabled=False)
    assignment.refresh_from_db()
    assignments.app_role_unassign(assignment=assignment, actor=ACTOR)
    assert not AppRoleAssignment.objects.exists()


def test_deleting_the_user_or_the_role_deletes_its_assignments(user, hr_api):
    bob = accounts.user_create(actor=ACTOR, username="bob", password=DEMO_PASSWORD)
    assignments.app_role_assign(user=user, app_role=role(hr_api, "hr.read"), actor=ACTOR)
    assignments.app_role_assign(user=bob, app_role=role(hr_api, "hr.admin"), actor=ACTOR)
    user.delete()
    assert list(AppRoleAssignment.objects.values_list("user__username", flat=True)) == ["bob"]
    role(hr_api, "hr.admin").delete()
    assert not AppRoleAssignment.objects.exists()


# ---- reads ----------------------------------------------------------------------------------------------


def test_a_users_and_an_apps_assignments(user, hr_api):
    bob = accounts.user_create(actor=ACTOR, username="bob", password=DEMO_PASSWORD)
    other = applications.application_register(actor=ACTOR, name="Another API")
    applications.app_role_add(application=other, actor=ACTOR, value="x.read", member_types="User")
    for who, api, value in ((user, hr_api, "hr.read"), (user, other, "x.read"), (bob, hr_api, "hr.admin")):
        assignments.app_role_assign(user=who, app_role=role(api, value), actor=ACTOR)
    assert [(a.app_role.application.name, a.app_role.value) for a in assignments.app_role_assignments_of_user(user)
            ] == [("Another API", "x.read"), ("HR API", "hr.read")]
    assert [(a.app_role.value, str(a.user)) for a in assignments.app_role_assignments_of_app(hr_api)] == [
        ("hr.admin", "bob"), ("hr.read", "alice")]
    assert assignments.app_role_assignment_find(user=bob, app_role=role(hr_api, "hr.read")) is None


def test_only_enabled_user_roles_are_assignable(hr_api):
    assert [r.value for r in assignments.assignable_app_roles()] == ["hr.admin", "hr.read"]


def test_token_roles_are_the_enabled_user_roles_assigned_on_each_app(user, hr_api, native_app):
    applications.app_role_add(application=native_app, actor=ACTOR, value="reader", member_types="User")
    assignments.app_role_assign(user=user, app_role=role(hr_api, "hr.read"), actor=ACTOR)
    assignments.app_role_assign(user=user, app_role=role(hr_api, "hr.admin"), actor=ACTOR)
    assignments.app_role_assign(user=user, app_role=role(native_app, "reader"), actor=ACTOR)
    AppRole.objects.filter(pk=role(hr_api, "hr.admin").pk).update(is_enabled=False)  # no signal: still cached
    with CaptureQueriesContext(connection) as ctx:
        roles = assignments.user_roles_for_tokens(user=user, applications=(hr_api, native_app))
    assert roles == {hr_api.pk: ["hr.read"], native_app.pk: ["reader"]}
    assignment_reads = [q for q in ctx.captured_queries if "applications_approleassignment" in q["sql"]]
    assert len(assignment_reads) == 1


def test_token_roles_cost_no_query_for_apps_without_user_roles(user, native_app, daemon_app):
    assignments.user_roles_for_tokens(user=user, applications=(native_app, daemon_app))  # fills the cache
    with CaptureQueriesContext(connection) as ctx:
        assert assignments.user_roles_for_tokens(user=user, applications=(native_app, None, daemon_app)) == {}
    assert [q["sql"] for q in ctx.captured_queries if "applications_approle" in q["sql"]] == []
