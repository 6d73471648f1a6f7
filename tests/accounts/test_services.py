"""accounts.services: creation, password changes, disable, revoke sessions (SPEC §4.2, §5)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts import selectors, services
from accounts.models import User
from audit.models import AuditEvent
from tests.conftest import ACTOR, DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_sign_in_names_are_stored_case_folded_and_found_in_any_case(user):
    assert (user.username, user.email) == ("alice", "alice@contoso.test")
    assert selectors.user_get_by_sign_in_name("  ALICE ") == user
    assert selectors.user_get_by_sign_in_name("Alice@Contoso.Test") == user
    assert selectors.user_get(str(user.object_id).upper()) == user


def test_unicode_compatibility_forms_are_one_sign_in_name(user):
    # NFKC: fullwidth "alice" (U+FF41…) is the same sign-in name as "alice".
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in "alice")
    assert selectors.user_get_by_sign_in_name(fullwidth) == user
    with pytest.raises(ValidationError, match="already in use"):
        services.user_create(actor=ACTOR, username=fullwidth.upper(), password=DEMO_PASSWORD)


def test_duplicate_sign_in_name_is_refused_and_nothing_is_written(user):
    before = (User.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError, match="already in use"):
        services.user_create(actor=ACTOR, username="bob", email="ALICE@contoso.test", password=DEMO_PASSWORD)
    assert (User.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": "bob@x"}, "cannot contain '@'"),
        ({"email": "bob"}, "Invalid email"),
        ({"username": "bob smith"}, "Invalid user name"),
        ({}, "needs a user name or an email"),
        ({"username": "bob", "password": "short"}, "too short"),
        ({"username": "bob", "password": "x" * 257 + "Aa1!"}, "too long"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(db, fields, message):
    fields.setdefault("password", DEMO_PASSWORD)
    with pytest.raises(ValidationError, match=message):
        services.user_create(actor=ACTOR, **fields)
    assert not User.objects.exists()


def test_a_user_without_password_cannot_use_one(db):
    user = services.user_create(actor=ACTOR, username="fed")
    assert not user.has_usable_password()


def test_password_change_keeps_only_the_previous_hash_and_revokes_refresh_tokens(user):
    old_hash, before = user.password, user.refresh_tokens_valid_from
    services.user_set_password(user=user, password="Another-Pass-42", actor=ACTOR)
    user.refresh_from_db()
    assert user.check_password("Another-Pass-42")
    assert user.previous_password == old_hash
    assert user.refresh_tokens_valid_from > before
    assert user.password_changed_at == user.refresh_tokens_valid_from
    services.user_set_password(user=user, password="Third-Pass-4242", actor=ACTOR, force_change=True)
    user.refresh_from_db()
    assert user.previous_password != old_hash  # one level of history only
    assert user.password_expired


def test_disabling_revokes_refresh_tokens_and_enabling_does_not(user):
    services.user_set_enabled(user=user, enabled=False, actor=ACTOR)
    user.refresh_from_db()
    assert not user.is_active
    revoked_at = user.refresh_tokens_valid_from
    assert timezone.now() - revoked_at < timedelta(seconds=5)
    services.user_set_enabled(user=user, enabled=True, actor=ACTOR)
    user.refresh_from_db()
    assert user.is_active and user.refresh_tokens_valid_from == revoked_at


def test_revoke_sessions_sets_valid_from_to_now_and_is_audited(user):
    before = user.refresh_tokens_valid_from
    services.user_revoke_sessions(user=user, actor="manage.py revokesessions")
    user.refresh_from_db()
    assert user.refresh_tokens_valid_from > before
    event = AuditEvent.objects.get(action="user.revoke_sessions")
    assert event.actor_label == "manage.py revokesessions" and event.target_id == str(user.pk)


def test_no_audit_event_holds_a_password(user):
    services.user_set_password(user=user, password="Another-Pass-42", actor=ACTOR)
    dump = " ".join(str(e.details) for e in AuditEvent.objects.all())
    assert DEMO_PASSWORD not in dump and "Another-Pass-42" not in dump


def test_unknown_user_is_a_clear_error(db):
    with pytest.raises(ValidationError, match="Unknown user 'ghost'"):
        selectors.user_get("ghost")
