"""`manage.py assignapprole USER API ROLE [--remove] [--json]`: app roles of member type User to users."""

import pytest

from applications import services as applications
from applications.models import AppRoleAssignment
from audit.models import AuditEvent
from tests.conftest import ACTOR

HR_URI = "https://contoso.onmicrosoft.com/hr"


@pytest.fixture
def hr_api(db):
    api = applications.application_register(actor=ACTOR, name="HR API", app_id_uri=HR_URI)
    applications.app_role_add(application=api, actor=ACTOR, value="hr.read", member_types="User")
    applications.app_role_add(application=api, actor=ACTOR, value="hr.admin", member_types="User,Application")
    applications.app_role_add(application=api, actor=ACTOR, value="hr.sync", member_types="Application")
    applications.app_role_add(application=api, actor=ACTOR, value="hr.old", member_types="User", enabled=False)
    return api


def assigned(user) -> list[str]:
    return sorted(AppRoleAssignment.objects.filter(user=user).values_list("app_role__value", flat=True))


def test_assigning_by_user_name_and_app_id_uri_prints_the_users_roles(run, user, hr_api):
    out = run("assignapprole", "alice", HR_URI, "hr.read")
    assert "Assigned app role hr.read of HR API to alice." in out
    assert "alice's app roles on HR API: hr.read." in out
    assert assigned(user) == ["hr.read"]
    assert AuditEvent.objects.get(action="app_role.assign").actor_label == "manage.py assignapprole"


def test_the_json_output_and_a_rerun_that_changes_nothing(run, user, hr_api):
    role = hr_api.app_roles.get(value="hr.admin")
    expected = {
        "object_id": str(user.object_id), "username": "alice", "email": "alice@contoso.test",
        "api": hr_api.client_id, "role": "hr.admin", "role_id": str(role.role_id), "action": "assign",
        "changed": True, "assigned_roles": ["hr.admin"],
    }
    # By email, client id (any case) and role id.
    assert run.json("assignapprole", "ALICE@contoso.test", hr_api.client_id.upper(), str(role.role_id)) == expected
    assert run.json("assignapprole", str(user.object_id), HR_URI, "hr.admin") == {**expected, "changed": False}
    assert "already has app role hr.admin" in run("assignapprole", "alice", HR_URI, "hr.admin")
    assert AuditEvent.objects.filter(action="app_role.assign").count() == 1


def test_remove_unassigns_and_a_second_remove_changes_nothing(run, user, hr_api):
    run("assignapprole", "alice", HR_URI, "hr.read")
    run("assignapprole", "alice", HR_URI, "hr.admin")
    data = run.json("assignapprole", "alice", HR_URI, "hr.read", "--remove")
    assert data["action"] == "remove" and data["changed"] is True and data["assigned_roles"] == ["hr.admin"]
    assert assigned(user) == ["hr.admin"]
    assert run.json("assignapprole", "alice", HR_URI, "hr.read", "--remove")["changed"] is False
    assert "alice was not assigned app role hr.read of HR API; nothing changed." in run(
        "assignapprole", "alice", HR_URI, "hr.read", "--remove")
    assert AuditEvent.objects.filter(action="app_role.unassign").count() == 1


@pytest.mark.parametrize(("args", "message"), [
    (("nobody", HR_URI, "hr.read"), "Unknown user 'nobody'."),
    (("alice", "https://contoso.onmicrosoft.com/nope", "hr.read"), "Unknown application"),
    (("alice", HR_URI, "hr.delete"), "'HR API' has no app role 'hr.delete'."),
    (("alice", HR_URI, "HR.READ"), "'HR API' has no app role 'HR.READ'."),  # values are exact, as in tokens
    (("alice", HR_URI, "hr.sync"), "App role 'hr.sync' of 'HR API' does not allow member type User."),
    (("alice", HR_URI, "hr.old"), "App role 'hr.old' of 'HR API' is disabled; enable it before assigning it."),
    # Admin accounts are not in the directory: the command does not even find one by that name.
    (("admin", HR_URI, "hr.read"), "Unknown user 'admin'."),
])
def test_refusals_are_one_line_and_write_nothing(run, user, admin_user, hr_api, args, message):
    assert message in run.fails("assignapprole", *args)
    assert not AppRoleAssignment.objects.exists()
