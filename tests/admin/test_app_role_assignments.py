"""Admin "Users and groups" (app role assignments; issue 17 item 16): list, assign with a user search and a
role chooser of assignable roles, remove; every write through applications.assignments."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts import services as accounts
from applications import assignments
from applications import services as applications
from applications.models import AppRoleAssignment
from audit.models import AuditEvent
from tests.admin.conftest import errors_of
from tests.conftest import ACTOR, DEMO_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§6")]

LIST = reverse("admin:applications_approleassignment_changelist")
ADD = reverse("admin:applications_approleassignment_add")


@pytest.fixture
def hr_api(db):
    api = applications.application_register(actor=ACTOR, name="HR API",
                                            app_id_uri="https://contoso.onmicrosoft.com/hr")
    applications.app_role_add(application=api, actor=ACTOR, value="hr.read", display_name="Read HR data",
                              member_types="User")
    applications.app_role_add(application=api, actor=ACTOR, value="hr.admin", member_types="User,Application")
    applications.app_role_add(application=api, actor=ACTOR, value="hr.sync", member_types="Application")
    applications.app_role_add(application=api, actor=ACTOR, value="hr.old", member_types="User", enabled=False)
    return api


@pytest.fixture
def payroll_api(db):
    api = applications.application_register(actor=ACTOR, name="Payroll API")
    applications.app_role_add(application=api, actor=ACTOR, value="payroll.read", member_types="User")
    return api


def role(api, value: str):
    return api.app_roles.get(value=value)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# ---- the list -------------------------------------------------------------------------------------------


def test_the_list_shows_user_app_role_and_when(admin, user, hr_api, payroll_api):
    assignments.app_role_assign(user=user, app_role=role(hr_api, "hr.read"), actor=ACTOR)
    assignments.app_role_assign(user=user, app_role=role(payroll_api, "payroll.read"), actor=ACTOR)
    AppRoleAssignment.objects.filter(app_role__value="payroll.read").update(created_at="2026-01-02T03:04:05Z")
    body = admin.get(LIST).content.decode()
    for text in ("alice", "HR API", "hr.read", "Read HR data", "Payroll API", "payroll.read", "tests", "2026"):
        assert text in body
    narrowed = admin.get(LIST, {"app_role__application__id__exact": payroll_api.pk}).content.decode()
    assert "payroll.read" in narrowed and "hr.read" not in narrowed


def test_the_list_says_when_an_assigned_role_no_longer_reaches_tokens(admin, user, hr_api):
    assignments.app_role_assign(user=user, app_role=role(hr_api, "hr.read"), actor=ACTOR)
    hr_read = role(hr_api, "hr.read")
    hr_read.is_enabled = False
    hr_read.save()
    assert "No: the role is disabled" in admin.get(LIST).content.decode()


def test_a_users_assignments_can_be_listed_from_a_link(admin, user, hr_api):
    bob = accounts.user_create(actor=ACTOR, username="bob", password=DEMO_PASSWORD)
    assignments.app_role_assign(user=user, app_role=role(hr_api, "hr.read"), actor=ACTOR)
    assignments.app_role_assign(user=bob, app_role=role(hr_api, "hr.admin"), actor=ACTOR)
    response = admin.get(LIST, {"user__id__exact": bob.pk})
    assert [a.user for a in response.context["cl"].result_list] == [bob]


# ---- assign ---------------------------------------------------------------------------------------------


def test_the_role_chooser_offers_only_enabled_user_roles(admin, hr_api, payroll_api):
    field = admin.get(ADD).context["adminform"].form.fields["app_role"]
    assert [label for _, label in field.choices][1:] == [
        "HR API: hr.admin", "HR API: hr.read (Read HR data)", "Payroll API: payroll.read"]


def test_a_link_from_an_app_narrows_the_chooser_to_its_roles(admin, hr_api, payroll_api):
    field = admin.get(ADD, {"api": payroll_api.pk}).context["adminform"].form.fields["app_role"]
    assert [label for _, label in field.choices][1:] == ["Payroll API: payroll.read"]


def test_assigning_goes_through_the_service_and_is_audited(admin, admin_user, user, hr_api):
    response = admin.post(ADD, {"user": user.pk, "app_role": role(hr_api, "hr.read").pk})
    assert response.status_code == 302, errors_of(response)
    assignment = AppRoleAssignment.objects.get()
    assert (assignment.user, assignment.app_role.value, assignment.created_by) == (user, "hr.read", admin_user)
    assert AuditEvent.objects.get(action="app_role.assign").actor == admin_user


def test_assigning_twice_is_refused_on_the_form_in_the_services_words(admin, user, hr_api):
    assignments.app_role_assign(user=user, app_role=role(hr_api, "hr.read"), actor=ACTOR)
    response = admin.post(ADD, {"user": user.pk, "app_role": role(hr_api, "hr.read").pk})
    assert response.status_code == 200
    assert errors_of(response) == "'alice' is already assigned app role 'hr.read' of 'HR API'."
    assert AppRoleAssignment.objects.count() == 1


@pytest.mark.parametrize("value", ["hr.sync", "hr.old"])
def test_a_role_not_for_users_or_disabled_cannot_be_posted(admin, user, hr_api, value):
    response = admin.post(ADD, {"user": user.pk, "app_role": role(hr_api, value).pk})
    assert response.status_code == 200 and "Select a valid choice" in errors_of(response)
    assert not AppRoleAssignment.objects.exists()


def test_an_admin_account_cannot_be_assigned(admin, admin_user, hr_api):
    response = admin.post(ADD, {"user": admin_user.pk, "app_role": role(hr_api, "hr.read").pk})
    assert response.status_code == 200 and "Select a valid choice" in errors_of(response)
    assert not AppRoleAssignment.objects.exists()


def test_an_assignment_made_between_the_form_and_the_save_is_a_message_not_a_500(admin, user, hr_api, monkeypatch):
    check = assignments.app_role_assign_check

    def another_admin_was_faster(**kwargs) -> None:  # the service's own check, right before its insert
        AppRoleAssignment.objects.create(user=kwargs["user"], app_role=kwargs["app_role"])
        check(**kwargs)

    monkeypatch.setattr(assignments, "app_role_assign_check", another_admin_was_faster)
    response = admin.post(ADD, {"user": user.pk, "app_role": role(hr_api, "hr.read").pk})
    assert response.status_code == 302
    assert messages_of(response) == ["'alice' is already assigned app role 'hr.read' of 'HR API'."]
    assert not AuditEvent.objects.filter(action="app_role.assign").exists()


def test_the_user_search_finds_directory_users_and_never_admin_accounts(admin, admin_user, user):
    accounts.user_create(actor=ACTOR, username="adam", password=DEMO_PASSWORD)
    response = admin.get(reverse("admin:autocomplete"), {
        "app_label": "applications", "model_name": "approleassignment", "field_name": "user", "term": "a",
    })
    assert response.status_code == 200
    assert sorted(r["text"] for r in response.json()["results"]) == ["adam", "alice"]


# ---- view and remove ------------------------------------------------------------------------------------


def test_an_assignment_is_viewed_not_edited(admin, user, hr_api):
    assignment = assignments.app_role_assign(user=user, app_role=role(hr_api, "hr.read"), actor=ACTOR)
    url = reverse("admin:applications_approleassignment_change", args=[assignment.pk])
    body = admin.get(url).content.decode()
    assert "hr.read" in body and "Read HR data" in body and "alice" in body
    assert 'name="app_role"' not in body and 'name="_save"' not in body
    assert admin.post(url, {"user": user.pk, "app_role": role(hr_api, "hr.admin").pk}).status_code == 403
    assert AppRoleAssignment.objects.get().app_role.value == "hr.read"


def test_removing_goes_through_the_service_and_is_audited(admin, admin_user, user, hr_api):
    assignment = assignments.app_role_assign(user=user, app_role=role(hr_api, "hr.read"), actor=ACTOR)
    url = reverse("admin:applications_approleassignment_delete", args=[assignment.pk])
    assert "alice → HR API: hr.read" in admin.get(url).content.decode()
    assert admin.post(url, {"post": "yes"}).status_code == 302
    assert not AppRoleAssignment.objects.exists()
    event = AuditEvent.objects.get(action="app_role.unassign")
    assert event.actor == admin_user and event.details["value"] == "hr.read"


def test_removing_several_at_once_audits_each(admin, user, hr_api):
    for value in ("hr.read", "hr.admin"):
        assignments.app_role_assign(user=user, app_role=role(hr_api, value), actor=ACTOR)
    response = admin.post(LIST, {
        "action": "delete_selected", "post": "yes",
        "_selected_action": list(AppRoleAssignment.objects.values_list("pk", flat=True)),
    })
    assert response.status_code == 302
    assert not AppRoleAssignment.objects.exists()
    assert sorted(e.details["value"] for e in AuditEvent.objects.filter(action="app_role.unassign")) == [
        "hr.admin", "hr.read"]
