"""enableuser, disableuser, setpassword and listusers (issue 17, item 18): the directory's users only.

Admin accounts (staff) run the tenant and are not its users: USER lookups and listings never see them.
"""

import json
import sys
from datetime import datetime

import pytest
from django.contrib.auth.hashers import check_password
from django.utils import timezone

from accounts.models import User
from accounts.services import user_create
from audit.models import AuditEvent
from tests.conftest import ACTOR, DEMO_PASSWORD

NEW_PASSWORD = "Brand-New-Pass-42"


@pytest.fixture
def staff(admin_user):
    return admin_user  # username "admin", email admin@contoso.test, is_staff


# disableuser / enableuser

@pytest.mark.parametrize("identifier", ["alice", "ALICE@contoso.test", "object_id"])
def test_disableuser_disables_and_revokes_refresh_tokens_through_the_service(run, user, identifier):
    before = timezone.now()
    data = run.json("disableuser", str(user.object_id) if identifier == "object_id" else identifier)
    user.refresh_from_db()
    assert not user.is_active and user.refresh_tokens_valid_from >= before
    assert data == {
        "object_id": str(user.object_id), "username": "alice", "email": "alice@contoso.test", "enabled": False,
        "changed": True, "refresh_tokens_valid_from": user.refresh_tokens_valid_from.isoformat().replace("+00:00", "Z"),
    }
    assert AuditEvent.objects.get(action="user.disable").actor_label == "manage.py disableuser"


def test_enableuser_enables_a_disabled_user(run, user):
    run("disableuser", "alice")
    out = run("enableuser", "alice")
    user.refresh_from_db()
    assert user.is_active
    assert out.startswith(f"Now enabled: alice ({user.object_id}).")
    assert AuditEvent.objects.get(action="user.enable").actor_label == "manage.py enableuser"


def test_a_user_already_in_that_state_is_left_alone(run, user):
    valid_from = user.refresh_tokens_valid_from
    data = run.json("enableuser", "alice")
    assert data["changed"] is False and data["enabled"] is True
    assert run("enableuser", "alice").startswith("Already enabled: alice")
    run("disableuser", "alice")
    user.refresh_from_db()
    revoked_at = user.refresh_tokens_valid_from
    assert revoked_at > valid_from
    assert run.json("disableuser", "alice")["changed"] is False
    user.refresh_from_db()
    assert user.refresh_tokens_valid_from == revoked_at  # not written, audited or revoked twice
    assert AuditEvent.objects.filter(action="user.disable").count() == 1
    assert not AuditEvent.objects.filter(action="user.enable").exists()


@pytest.mark.parametrize("command", ["disableuser", "enableuser", "revokesessions"])
@pytest.mark.parametrize("identifier", ["admin", "admin@contoso.test", "STAFF_OBJECT_ID", "nobody"])
def test_admin_accounts_are_not_directory_users(run, staff, command, identifier):
    identifier = str(staff.object_id) if identifier == "STAFF_OBJECT_ID" else identifier
    assert run.fails(command, identifier) == f"Unknown user '{identifier}'."
    staff.refresh_from_db()
    assert staff.is_active


# setpassword

def test_setpassword_reads_one_line_of_stdin_and_revokes_refresh_tokens(run, user):
    before = timezone.now()
    data = run.json("setpassword", "alice", "--password-stdin", stdin=f"{NEW_PASSWORD}\nignored\n")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert check_password(DEMO_PASSWORD, user.previous_password)  # "Looks like you used an old password"
    assert user.refresh_tokens_valid_from >= before and not user.password_expired
    assert data == {
        "object_id": str(user.object_id), "username": "alice", "email": "alice@contoso.test",
        "password_changed_at": user.password_changed_at.isoformat().replace("+00:00", "Z"), "force_change": False,
        "refresh_tokens_valid_from": user.refresh_tokens_valid_from.isoformat().replace("+00:00", "Z"),
    }
    event = AuditEvent.objects.get(action="user.set_password")
    assert event.actor_label == "manage.py setpassword" and event.details == {"force_change": False}
    assert NEW_PASSWORD not in json.dumps(data) + str(event.details)


def test_setpassword_can_force_a_change_at_the_next_sign_in(run, user):
    out = run("setpassword", "alice@contoso.test", "--password-stdin", "--force-change", stdin=NEW_PASSWORD)
    user.refresh_from_db()
    assert user.password_expired
    assert "must choose a new password at the next sign-in" in out and NEW_PASSWORD not in out


class Terminal:
    """A standard input that is a terminal: setpassword asks there, without echo."""

    def isatty(self) -> bool:
        return True


def test_setpassword_on_a_terminal_asks_twice_without_echo(run, user, monkeypatch):
    answers = iter([NEW_PASSWORD, NEW_PASSWORD])
    prompts = []
    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or next(answers))
    out = run("setpassword", "alice")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert prompts == ["New password: ", "New password (again): "]
    assert NEW_PASSWORD not in out


def test_setpassword_on_a_terminal_refuses_two_different_passwords(run, user, monkeypatch):
    answers = iter([NEW_PASSWORD, "Something-Else-42"])
    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    assert run.fails("setpassword", "alice") == "The two passwords do not match; nothing was changed."
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (("alice",), "Piped-Pass-123\n", "No terminal to ask for the password on: pipe it in with --password-stdin."),
    (("alice", "--password-stdin"), "", "No password on standard input."),
    (("alice", "--password-stdin"), "short\n", "too short"),
    (("alice", "--password-stdin"), "password123\n", "too common"),
    (("nobody", "--password-stdin"), f"{NEW_PASSWORD}\n", "Unknown user 'nobody'"),
    (("admin", "--password-stdin"), f"{NEW_PASSWORD}\n", "Unknown user 'admin'"),
    (("alice", "--password", NEW_PASSWORD), None, "setpassword takes no --password"),  # never from an argument
])
def test_setpassword_rejects_bad_input_and_changes_nothing(run, user, staff, args, stdin, message):
    said = run.fails("setpassword", *args, stdin=stdin)
    assert message in said
    assert NEW_PASSWORD not in said and "Piped-Pass-123" not in said
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)


# listusers

def test_listusers_lists_directory_users_only_by_sign_in_name(run, user, staff):
    user_create(actor=ACTOR, email="carol@contoso.test", enabled=False, mfa_required=True)
    user_create(actor=ACTOR, username="bob", password=DEMO_PASSWORD, display_name="Bob Builder")
    data = run.json("listusers")
    assert data["count"] == 3
    assert [(u["username"], u["email"]) for u in data["users"]] == [
        ("alice", "alice@contoso.test"), ("bob", None), (None, "carol@contoso.test"),
    ]
    carol = data["users"][2]
    stored = User.objects.get(email="carol@contoso.test")
    assert carol == {
        "object_id": str(stored.object_id), "username": None, "email": "carol@contoso.test", "display_name": "",
        "enabled": False, "mfa_required": True, "password_expired": False, "has_password": False,
        "created_at": stored.created_at.isoformat().replace("+00:00", "Z"),
        "refresh_tokens_valid_from": stored.refresh_tokens_valid_from.isoformat().replace("+00:00", "Z"),
    }
    assert datetime.fromisoformat(carol["created_at"]) == stored.created_at
    assert "admin" not in json.dumps(data)


def test_listusers_prints_a_table_for_a_person(run, user, staff):
    lines = run("listusers").splitlines()
    assert lines[0].split() == ["USER", "NAME", "EMAIL", "STATE", "OBJECT", "ID", "DISPLAY", "NAME"]
    assert lines[1].split()[:4] == ["alice", "alice@contoso.test", "enabled", str(user.object_id)]
    assert lines[-1] == "1 user(s)."
    assert not any("admin" in line for line in lines)


def test_listusers_of_an_empty_directory(run, staff):
    assert run.json("listusers") == {"users": [], "count": 0}
