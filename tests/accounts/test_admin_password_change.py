"""Every password change through the one service (issue 18 item 6): the admin's own "Change password" page and
`manage.py changepassword` (ours, in place of Django's) write the audit event and apply the password rules."""

from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.test import Client

from accounts import admin_login, lockout, services
from accounts.models import User
from audit.models import AuditEvent
from tests.accounts.conftest import ADMIN_PASSWORD, form_errors, log_in

NEW_PASSWORD = "Another-Pass-456!"


def change_own_password(client, old: str = ADMIN_PASSWORD, new: str = NEW_PASSWORD):
    return client.post("/admin/password_change/", {"old_password": old, "new_password1": new, "new_password2": new})


def test_changing_ones_own_password_goes_through_the_service_and_is_audited(client, admin_account):
    log_in(client)
    response = change_own_password(client)
    assert response.status_code == 302 and response["Location"] == "/admin/password_change/done/"
    assert client.get("/admin/").status_code == 200  # this session stays signed in
    event = AuditEvent.objects.get(action="admin.set_password")
    assert (event.actor_label, event.target_id) == ("admin:alice", str(admin_account.pk))
    admin_account.refresh_from_db()
    assert admin_account.check_password(NEW_PASSWORD) and admin_account.password_changed_at is not None
    assert log_in(Client(), "alice", NEW_PASSWORD).status_code == 302


def test_other_sessions_of_the_admin_end_when_its_password_changes(client, admin_account):
    other = Client()
    log_in(other)
    log_in(client)
    change_own_password(client)
    assert other.get("/admin/").status_code == 302


def test_a_wrong_current_password_is_refused_counted_by_the_admin_lockout_and_checked_in_a_hashing_slot(
        client, admin_account):
    log_in(client)
    with mock.patch.object(admin_login, "hashing_slot", wraps=admin_login.hashing_slot) as slot:
        response = change_own_password(client, old="not-it")
    assert slot.call_count == 1
    assert "Your old password was entered incorrectly" in form_errors(response)
    assert lockout.lock_state("alice", namespace=lockout.NAMESPACE_ADMIN).episode
    assert not AuditEvent.objects.filter(action="admin.set_password").exists()


def test_the_password_rules_apply_to_the_new_password(client, admin_account):
    log_in(client)
    response = change_own_password(client, new="short")
    assert "too short" in form_errors(response)


def test_manage_py_changepassword_is_ours(db):
    assert get_commands()["changepassword"] == "accounts"


def test_changepassword_sets_an_admin_accounts_password_through_the_service(admin_account):
    out = StringIO()
    call_command("changepassword", "Alice", "--password-stdin", "--json", stdin=StringIO(NEW_PASSWORD + "\n"),
                 stdout=out)
    assert '"password_changed": true' in out.getvalue()
    admin_account.refresh_from_db()
    assert admin_account.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.get(action="admin.set_password").actor_label == "manage.py changepassword"


def test_changepassword_applies_the_password_rules(admin_account):
    with pytest.raises(CommandError, match="too short"):
        call_command("changepassword", "alice", "--password-stdin", stdin=StringIO("short\n"))
    admin_account.refresh_from_db()
    assert admin_account.check_password(ADMIN_PASSWORD)


def test_changepassword_refuses_a_directory_user_and_names_setpassword(db):
    user = services.user_create(actor="tests", username="bob", password="Correct-Horse-9")
    with pytest.raises(CommandError, match=r"directory user.*manage\.py setpassword"):
        call_command("changepassword", "bob", "--password-stdin", stdin=StringIO(NEW_PASSWORD + "\n"))
    assert User.objects.get(pk=user.pk).check_password("Correct-Horse-9")


def test_changepassword_with_an_admin_and_a_user_of_one_name_changes_the_admins_only(admin_account):
    user = services.user_create(actor="tests", username="alice", password="Correct-Horse-9")
    call_command("changepassword", "alice", "--password-stdin", stdin=StringIO(NEW_PASSWORD + "\n"), stdout=StringIO())
    admin_account.refresh_from_db()
    assert admin_account.check_password(NEW_PASSWORD)
    assert User.objects.get(pk=user.pk).check_password("Correct-Horse-9")


def test_changepassword_without_a_terminal_or_stdin_flag_asks_for_one(admin_account):
    with pytest.raises(CommandError, match="--password-stdin"):
        call_command("changepassword", "alice", stdin=StringIO(NEW_PASSWORD + "\n"))
