"""`createadmin` and `assignrole`: admin accounts and built-in roles from the command line (issue 17)."""

import pytest

from accounts.models import AdminAccount, User
from audit.models import AuditEvent

pytestmark = [pytest.mark.django_db]

PASSWORD = "Admin-Pass-123!\n"


def test_createadmin_makes_an_admin_account_with_roles(run):
    data = run.json("createadmin", "Ops", "--role", "user administrator", "--role", "Reports reader",
                    "--password-stdin", stdin=PASSWORD)
    assert data == {"username": "ops", "email": None, "display_name": "", "enabled": True, "superuser": False,
                    "roles": ["Reports reader", "User administrator"]}
    account = AdminAccount.objects.get(username="ops")
    assert account.check_password(PASSWORD.strip()) and account.is_staff
    assert PASSWORD.strip() not in str(AuditEvent.objects.get(action="admin.create").details)


def test_createadmin_refuses_an_unknown_role_a_taken_name_and_a_missing_password(run):
    assert "Unknown admin role 'Janitor'" in run.fails("createadmin", "ops", "--role", "Janitor",
                                                       "--password-stdin", stdin=PASSWORD)
    run("createadmin", "ops", "--password-stdin", stdin=PASSWORD)
    assert "already in use" in run.fails("createadmin", "OPS", "--password-stdin", stdin=PASSWORD)
    assert "--password-stdin" in run.fails("createadmin", "other", stdin=PASSWORD)
    assert "common" in run.fails("createadmin", "other", "--password-stdin", stdin="password\n")


def test_an_admin_name_does_not_collide_with_a_directory_user(run, user):
    run("createadmin", "alice", "--password-stdin", stdin=PASSWORD)
    assert User.objects.filter(username="alice").count() == 2


def test_assignrole_adds_and_removes_roles(run):
    run("createadmin", "ops", "--password-stdin", stdin=PASSWORD)
    assert run.json("assignrole", "OPS", "Security reader", "Application administrator")["roles"] == [
        "Application administrator", "Security reader"]
    assert run.json("assignrole", "ops", "security reader", "--remove")["roles"] == ["Application administrator"]
    assert [e.details for e in AuditEvent.objects.filter(action="admin.roles").order_by("id")][-1] == {
        "before": ["Application administrator", "Security reader"], "after": ["Application administrator"]}


def test_assignrole_is_for_admin_accounts_only(run, user):
    assert "Unknown admin account 'alice'" in run.fails("assignrole", "alice", "Reports reader")
