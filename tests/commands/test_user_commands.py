"""createuser and revokesessions (SPEC §7)."""

import json
import uuid
from datetime import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from tests.conftest import DEMO_PASSWORD

USER_KEYS = {
    "object_id", "username", "email", "display_name", "given_name", "surname", "enabled", "mfa_required",
    "password_expired", "has_password",
}


def test_createuser_prints_the_object_id_of_the_new_user(run):
    out = run("createuser", "bob", "--password-stdin", stdin=f"{DEMO_PASSWORD}\n")
    user = User.objects.get(username="bob")
    assert str(user.object_id) in out
    assert DEMO_PASSWORD not in out
    assert user.check_password(DEMO_PASSWORD)


@pytest.mark.parametrize("as_json", [False, True])
def test_a_password_on_the_command_line_still_works_with_a_warning_on_stderr(db, as_json):
    """It shows in the process list and the shell history: say so, and point to --password-stdin."""
    out, err = StringIO(), StringIO()
    call_command("createuser", "bob", "--password", DEMO_PASSWORD, *(["--json"] if as_json else []),
                 stdout=out, stderr=err)
    assert User.objects.get(username="bob").check_password(DEMO_PASSWORD)
    warning = json.loads(err.getvalue())["warning"] if as_json else err.getvalue()
    assert "process list" in warning and "shell history" in warning and "--password-stdin" in warning
    assert DEMO_PASSWORD not in err.getvalue()
    assert not as_json or json.loads(out.getvalue())["has_password"] is True  # stdout stays one JSON object
    if not as_json:
        assert err.getvalue().startswith("Warning: ") and len(err.getvalue().strip().splitlines()) == 1


def test_createuser_json_describes_the_user_with_every_flag(run):
    data = run.json(
        "createuser", "Bob", "--email", "Bob@Contoso.test", "--password-stdin", "--given-name", "Bob",
        "--surname", "Builder", "--display-name", "Bob the Builder", "--mfa-required", "--password-expired",
        "--disabled", stdin=f"{DEMO_PASSWORD}\n",
    )
    assert set(data) == USER_KEYS
    user = User.objects.get(object_id=uuid.UUID(data["object_id"]))
    assert data == {
        "object_id": str(user.object_id), "username": "bob", "email": "bob@contoso.test",
        "display_name": "Bob the Builder", "given_name": "Bob", "surname": "Builder", "enabled": False,
        "mfa_required": True, "password_expired": True, "has_password": True,
    }
    assert (user.is_active, user.mfa_required, user.password_expired) == (False, True, True)


def test_createuser_without_a_password_makes_an_account_that_cannot_sign_in_with_one(run):
    data = run.json("createuser", "carol")
    assert data["has_password"] is False
    assert not User.objects.get(username="carol").has_usable_password()


def test_createuser_reads_the_password_from_one_line_of_stdin(run):
    data = run.json("createuser", "dave", "--password-stdin", stdin=" spaced Pass-123 \nsecond line\n")
    user = User.objects.get(object_id=data["object_id"])
    assert user.check_password(" spaced Pass-123 ")  # only the line ending is dropped


def test_createuser_records_the_command_as_the_actor_and_no_password(run):
    run("createuser", "erin", "--password-stdin", stdin=f"{DEMO_PASSWORD}\n")
    event = AuditEvent.objects.get(action="user.create")
    assert event.actor_label == "manage.py createuser"
    assert DEMO_PASSWORD not in str(event.details)


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (("alice",), None, "already in use"),
    (("ALICE",), None, "already in use"),
    (("zed", "--email", "alice@contoso.test"), None, "already in use"),
    (("zed", "--email", "not-an-email"), None, "Invalid email address"),
    (("zed@contoso.test",), None, "cannot contain '@'"),
    (("zed", "--password", "short"), None, "too short"),
    (("zed", "--password", "password123"), None, "too common"),
    (("zed", "--password-stdin"), "", "No password on standard input"),
    (("zed", "--password-stdin"), "\n", "No password on standard input"),
    (("zed", "--password", DEMO_PASSWORD, "--password-stdin"), None, "not allowed with argument"),
])
def test_createuser_rejects_bad_input_and_writes_nothing(run, user, args, stdin, message):
    assert message in run.fails("createuser", *args, stdin=stdin)


def test_createuser_says_where_an_email_address_goes_in_the_same_words_as_the_admin(run):
    message = run.fails("createuser", "zed@contoso.test")
    assert message == (
        "A user name cannot contain '@' (got 'zed@contoso.test'); an email address is the email sign-in name, so "
        "give it there."
    )


def test_createuser_names_the_field_that_is_too_long(run):
    assert run.fails("createuser", "zed", "--given-name", "x" * 70) == (
        "Given name: Ensure this value has at most 64 characters (it has 70)."
    )


def test_createuser_error_messages_never_echo_the_password(run):
    assert "Zq9x" not in run.fails("createuser", "zed", "--password", "Zq9x")


@pytest.mark.parametrize("identifier", ["alice", "ALICE@contoso.test", "object_id"])
def test_revokesessions_finds_the_user_by_name_email_or_object_id(run, user, identifier):
    before = timezone.now()
    if identifier == "object_id":
        identifier = str(user.object_id)
    data = run.json("revokesessions", identifier)
    assert set(data) == {"object_id", "username", "email", "refresh_tokens_valid_from"}
    user.refresh_from_db()
    assert user.refresh_tokens_valid_from >= before
    assert datetime.fromisoformat(data["refresh_tokens_valid_from"]) == user.refresh_tokens_valid_from
    assert data["refresh_tokens_valid_from"].endswith("Z")
    assert AuditEvent.objects.filter(action="user.revoke_sessions", actor_label="manage.py revokesessions").exists()


def test_revokesessions_prints_the_new_valid_from_time(run, user):
    out = run("revokesessions", "alice")
    user.refresh_from_db()
    assert user.refresh_tokens_valid_from.isoformat().replace("+00:00", "Z") in out


@pytest.mark.parametrize("identifier", ["nobody", "nobody@contoso.test", str(uuid.uuid4()), ""])
def test_revokesessions_of_an_unknown_user_fails(run, user, identifier):
    valid_from = user.refresh_tokens_valid_from
    assert "Unknown user" in run.fails("revokesessions", identifier)
    user.refresh_from_db()
    assert user.refresh_tokens_valid_from == valid_from
