"""Web admin for users (SPEC §6): create, set password, disable/enable, revoke sessions, never a hash."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import FederatedIdentity, User
from audit.models import AuditEvent
from tests.admin.conftest import errors_of, form_data
from tests.conftest import DEMO_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§6")]

ADD_URL = reverse("admin:accounts_user_add")
NEW_PASSWORD = "Another-Horse-42"


def change_url(user: User) -> str:
    return reverse("admin:accounts_user_change", args=[user.pk])


def user_url(user: User, name: str) -> str:
    return reverse(f"admin:accounts_user_{name}", args=[user.pk])


def add_data(**overrides) -> dict:
    data = {"username": "Bob", "email": "Bob@Contoso.test", "display_name": "Bob B", "given_name": "Bob",
            "surname": "B", "password1": DEMO_PASSWORD, "password2": DEMO_PASSWORD, "is_active": "on"}
    return {k: v for k, v in (data | overrides).items() if v is not None}


def test_creating_a_user_calls_the_service_and_is_audited(admin, admin_user):
    response = admin.post(ADD_URL, add_data(mfa_required="on"))
    assert response.status_code == 302, errors_of(response)
    bob = User.objects.get(username="bob")
    assert bob.email == "bob@contoso.test" and bob.mfa_required and bob.is_active
    assert bob.check_password(DEMO_PASSWORD)
    event = AuditEvent.objects.get(action="user.create")
    assert event.actor == admin_user and event.details == {"object_id": str(bob.object_id)}


def test_a_user_without_password_cannot_sign_in_with_one(admin):
    assert admin.post(ADD_URL, add_data(username=None, password1="", password2="")).status_code == 302
    assert not User.objects.get(email="bob@contoso.test").has_usable_password()


@pytest.mark.parametrize(("overrides", "message"), [
    ({"password2": "Something-else-1"}, "do not match"),
    ({"password1": "short", "password2": "short"}, "too short"),
    ({"username": "", "email": ""}, "Give a user name, an email address or both"),
    ({"username": "ALICE"}, "already in use"),
    ({"email": "ALICE@contoso.test"}, "already in use"),
    ({"username": "bob@contoso"}, "cannot contain '@'"),
    ({"email": "not an email"}, "Invalid email address"),
])
def test_bad_user_input_is_shown_and_nothing_is_written(admin, user, overrides, message):
    response = admin.post(ADD_URL, add_data(**overrides))
    assert response.status_code == 200
    assert message in errors_of(response)
    assert User.objects.count() == 2  # the fixture user and the admin
    assert not AuditEvent.objects.filter(actor__isnull=False).exists()


def test_change_page_never_shows_a_password_hash(admin, user):
    user.previous_password = user.password
    user.save()
    body = admin.get(change_url(user)).content.decode()
    assert user.password not in body
    assert user.password.split("$")[-1] not in body
    assert "previous_password" not in body
    assert "refreshTokensValidFromDateTime" in body and str(user.object_id) in body


def test_editing_a_user_is_audited_and_disabling_revokes_sessions(admin, user):
    before = user.refresh_tokens_valid_from
    data = form_data(admin.get(change_url(user)))
    data.pop("is_active")
    data["display_name"] = "Alice Renamed"
    assert admin.post(change_url(user), data).status_code == 302
    user.refresh_from_db()
    assert user.display_name == "Alice Renamed" and not user.is_active
    assert user.refresh_tokens_valid_from > before
    assert AuditEvent.objects.get(action="user.update").details == {"changed": ["display_name", "is_active"]}


def test_editing_a_sign_in_name_keeps_it_normalized_and_unique(admin, user, admin_user):
    services.user_create(actor="tests", username="bob")
    data = form_data(admin.get(change_url(user)))
    data["username"] = "BOB"
    response = admin.post(change_url(user), data)
    assert "already in use" in errors_of(response)
    data["username"] = "  Alicia "
    assert admin.post(change_url(user), data).status_code == 302
    user.refresh_from_db()
    assert user.username == "alicia"


def test_set_password_calls_the_service_and_revokes_sessions(admin, user):
    user.refresh_tokens_valid_from = timezone.now() - timedelta(days=1)
    user.save()
    response = admin.post(user_url(user, "set_password"),
                          {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "force_change": "on"})
    assert response.status_code == 302, errors_of(response)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) and user.password_expired
    assert user.refresh_tokens_valid_from > timezone.now() - timedelta(minutes=1)
    event = AuditEvent.objects.get(action="user.set_password")
    assert event.details == {"force_change": True}
    assert NEW_PASSWORD not in str(event.details)


def test_set_password_refuses_a_weak_or_mismatched_password(admin, user):
    for data, message in (({"password1": "password", "password2": "password"}, "too common"),
                          ({"password1": NEW_PASSWORD, "password2": "x"}, "do not match")):
        response = admin.post(user_url(user, "set_password"), data)
        assert response.status_code == 200 and message in errors_of(response)
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)
    assert not AuditEvent.objects.filter(action="user.set_password").exists()


def test_buttons_ask_first_then_disable_enable_and_revoke_sessions(admin, user):
    body = admin.get(change_url(user)).content.decode()
    for label in ("Set password", "Revoke sessions", "Disable"):
        assert label in body
    user.refresh_tokens_valid_from = timezone.now() - timedelta(days=1)
    user.save()

    assert admin.post(user_url(user, "revoke_sessions"), {"confirm": "yes"}).status_code == 302
    user.refresh_from_db()
    assert user.refresh_tokens_valid_from > timezone.now() - timedelta(minutes=1)

    assert admin.post(user_url(user, "disable"), {"confirm": "yes"}).status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    assert "Enable" in admin.get(change_url(user)).content.decode()
    assert admin.post(user_url(user, "enable")).status_code == 302
    user.refresh_from_db()
    assert user.is_active
    actions = list(AuditEvent.objects.filter(actor__isnull=False).order_by("id").values_list("action", flat=True))
    assert actions == ["user.revoke_sessions", "user.disable", "user.enable"]


@pytest.mark.parametrize(("name", "says"), [
    ("disable", ["can no longer sign in", "refreshTokensValidFromDateTime is set to now"]),
    ("revoke_sessions", ["every refresh token issued until now stops working", "can still sign in again"]),
])
def test_disable_and_revoke_sessions_show_what_will_happen_and_change_nothing_until_confirmed(
        admin, user, name, says):
    before = (user.is_active, user.refresh_tokens_valid_from)
    for response in (admin.get(user_url(user, name)), admin.post(user_url(user, name))):
        assert response.status_code == 200
        body = response.content.decode()
        assert all(text in body for text in says) and "alice" in body
        assert 'name="confirm" value="yes"' in body and "No, take me back" in body
    user.refresh_from_db()
    assert (user.is_active, user.refresh_tokens_valid_from) == before
    assert not AuditEvent.objects.filter(actor__isnull=False).exists()


def test_changelist_actions_ask_first_then_call_the_services(admin, user):
    url = reverse("admin:accounts_user_changelist")
    for action in ("revoke_sessions", "disable_users"):
        response = admin.post(url, {"action": action, "_selected_action": [user.pk], "index": "0"})
        assert response.status_code == 200 and "What will happen" in response.content.decode()
        assert not AuditEvent.objects.filter(actor__isnull=False).exists()
    for action in ("revoke_sessions", "disable_users", "enable_users"):
        response = admin.post(url, {"action": action, "_selected_action": [user.pk], "confirm": "yes"})
        assert response.status_code == 302
    actions = list(AuditEvent.objects.filter(actor__isnull=False).order_by("id").values_list("action", flat=True))
    assert actions == ["user.revoke_sessions", "user.disable", "user.enable"]


def test_admin_accounts_are_not_in_the_user_list_and_cannot_be_disabled_from_it(admin, admin_user, user):
    listing = admin.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "alice" in listing and f'href="/admin/accounts/user/{admin_user.pk}/change/"' not in listing
    assert admin.get(change_url(admin_user)).status_code == 302  # "does not exist" back to the index
    admin.post(reverse("admin:accounts_user_changelist"), {"action": "disable_users", "confirm": "yes",
                                                           "_selected_action": [admin_user.pk]})
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_federated_identities_are_edited_inline_and_audited(admin, user):
    data = form_data(admin.get(change_url(user)))
    data.update({"federated_identities-TOTAL_FORMS": "1", "federated_identities-0-issuer": "https://idp.test",
                 "federated_identities-0-issuer_subject": "12345"})
    assert admin.post(change_url(user), data).status_code == 302
    assert FederatedIdentity.objects.get(user=user).issuer_subject == "12345"
    assert AuditEvent.objects.get(action="user.update").details["changed"] == [
        "federated identity added: https://idp.test / 12345"
    ]


def test_deleting_a_user_is_audited(admin, user):
    response = admin.post(reverse("admin:accounts_user_delete", args=[user.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    assert AuditEvent.objects.get(action="user.delete").details == {"object_id": str(user.object_id)}


def test_search_finds_a_user_by_object_id(admin, user, admin_user):
    response = admin.get(reverse("admin:accounts_user_changelist"), {"q": str(user.object_id)})
    assert list(response.context["cl"].result_list) == [user]
