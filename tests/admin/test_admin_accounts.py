"""Administrators and their built-in roles (issue 17 items 1 and 4)."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from accounts import admin_accounts
from accounts.models import AdminAccount, User
from accounts.roles import ROLES
from audit.models import AuditEvent
from tests.admin.conftest import errors_of

pytestmark = [pytest.mark.django_db]

PASSWORD = "Admin-Pass-123!"


def staff_with(*roles: str, username: str = "operator") -> Client:
    account = admin_accounts.admin_account_create(actor="tests", username=username, password=PASSWORD, roles=roles)
    client = Client()
    client.force_login(account)
    return client


def test_every_built_in_role_exists_after_migrate_with_permissions():
    groups = {g.name: {f"{p.content_type.app_label}.{p.codename}" for p in g.permissions.select_related(
        "content_type")} for g in Group.objects.prefetch_related("permissions")}
    assert set(groups) >= {r.name for r in ROLES}
    assert {"accounts.add_user", "accounts.change_user", "accounts.view_user"} <= groups["User administrator"]
    assert not {p for p in groups["User administrator"] if p.startswith("applications.")}
    assert {"applications.add_application", "applications.change_application",
            "applications.add_clientsecret"} <= groups["Application administrator"]
    assert groups["Reports reader"] == {"audit.view_auditevent", "audit.view_signinevent"}
    assert all(p.split(".")[1].startswith("view_") for p in groups["Security reader"])
    assert "accounts.change_adminaccount" in groups["Global administrator"]
    assert "accounts.change_adminaccount" not in groups["User administrator"]


def test_staff_without_a_role_is_told_so_and_a_role_gives_its_pages():
    nobody = staff_with(username="nobody")
    assert "permission to view or edit anything" in nobody.get("/admin/").content.decode()

    users_admin = staff_with("User administrator")
    index = users_admin.get("/admin/").content.decode()
    assert "/admin/accounts/user/" in index and "/admin/applications/application/" not in index
    assert users_admin.get("/admin/accounts/user/add/").status_code == 200
    assert users_admin.get("/admin/applications/application/").status_code == 403
    assert users_admin.get("/admin/accounts/adminaccount/").status_code == 403

    reader = staff_with("Reports reader", username="auditor")
    assert reader.get("/admin/audit/signinevent/").status_code == 200
    assert reader.get("/admin/accounts/user/").status_code == 403


def test_the_application_administrator_registers_apps_and_adds_secrets(daemon_app):
    client = staff_with("Application administrator")
    assert client.get("/admin/applications/application/add/").status_code == 200
    url = reverse("admin:applications_application_new_secret", args=[daemon_app.pk])
    assert client.post(url, {"description": "ci", "expires_days": "30"}).status_code in (200, 302)
    assert daemon_app.secrets.count() == 1


def test_administrators_and_users_are_two_lists(admin, admin_user, user):
    admins = admin.get(reverse("admin:accounts_adminaccount_changelist")).content.decode()
    users = admin.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert admin_user.username in admins and "alice" not in admins
    assert "alice" in users and f"/admin/accounts/user/{admin_user.pk}/change/" not in users


def test_adding_an_administrator_with_roles_is_audited_and_it_can_sign_in(admin):
    response = admin.post(reverse("admin:accounts_adminaccount_add"), {
        "username": "Helen", "password1": PASSWORD, "password2": PASSWORD, "display_name": "Helen",
        "roles": ["User administrator", "Reports reader"],
    })
    assert response.status_code == 302, errors_of(response)
    helen = AdminAccount.objects.get(username="helen")
    assert helen.is_staff and not helen.is_superuser
    assert sorted(helen.groups.values_list("name", flat=True)) == ["Reports reader", "User administrator"]
    event = AuditEvent.objects.get(action="admin.create")
    assert event.details == {"roles": ["User administrator", "Reports reader"], "superuser": False}
    client = Client()
    assert client.post("/admin/login/", {"username": "helen", "password": PASSWORD}).status_code == 302


def test_an_administrator_name_may_equal_a_directory_user_name(admin, user):
    response = admin.post(reverse("admin:accounts_adminaccount_add"), {
        "username": "alice", "password1": PASSWORD, "password2": PASSWORD,
    })
    assert response.status_code == 302, errors_of(response)
    assert User.objects.filter(username="alice").count() == 2
    response = admin.post(reverse("admin:accounts_adminaccount_add"), {
        "username": "ALICE", "password1": PASSWORD, "password2": PASSWORD,
    })
    assert "already in use" in errors_of(response)


def test_changing_roles_goes_through_the_service(admin):
    account = admin_accounts.admin_account_create(actor="tests", username="op", password=PASSWORD,
                                                  roles=["Reports reader"])
    url = reverse("admin:accounts_adminaccount_change", args=[account.pk])
    response = admin.post(url, {"display_name": "Op", "is_active": "on", "roles": ["Security reader"]})
    assert response.status_code == 302, errors_of(response)
    assert list(account.groups.values_list("name", flat=True)) == ["Security reader"]
    assert AuditEvent.objects.get(action="admin.roles").details == {
        "before": ["Reports reader"], "after": ["Security reader"]}


def test_only_a_superuser_makes_or_changes_a_superuser(admin_user):
    global_admin = staff_with("Global administrator")
    response = global_admin.post(reverse("admin:accounts_adminaccount_add"), {
        "username": "sneaky", "password1": PASSWORD, "password2": PASSWORD, "is_superuser": "on",
    })
    assert response.status_code == 302
    assert not AdminAccount.objects.get(username="sneaky").is_superuser
    change = reverse("admin:accounts_adminaccount_change", args=[admin_user.pk])
    assert global_admin.post(change, {"display_name": "x", "is_active": "on"}).status_code == 403
    set_password = reverse("admin:accounts_adminaccount_set_password", args=[admin_user.pk])
    assert global_admin.post(set_password, {"password1": PASSWORD, "password2": PASSWORD}).status_code == 403


def test_an_administrator_cannot_delete_or_disable_itself(admin, admin_user):
    assert admin.post(reverse("admin:accounts_adminaccount_delete", args=[admin_user.pk]),
                      {"post": "yes"}).status_code == 403
    with pytest.raises(Exception, match="own admin account"):
        admin_accounts.admin_account_set_enabled(account=admin_user, enabled=False, actor=admin_user)


def test_roles_are_shown_read_only(admin):
    listing = admin.get(reverse("admin:accounts_adminrole_changelist")).content.decode()
    assert all(role.name in listing for role in ROLES)
    assert admin.get(reverse("admin:accounts_adminrole_add")).status_code == 403


def test_a_security_reader_sees_an_apps_permissions_and_overview_but_changes_nothing(daemon_app, api_app):
    from applications import services
    from applications.models import ConsentGrant

    services.permission_add(client=daemon_app, api=api_app, values=["app.read"], actor="tests")
    reader = staff_with("Security reader", username="reader")
    page = reverse("admin:applications_application_permissions", args=[daemon_app.pk])
    body = reader.get(page).content.decode()
    assert "Not granted for contoso.onmicrosoft.com" in body and "grant-consent" not in body
    assert reader.post(page, {"action": "grant", "confirm": "yes"}).status_code == 403
    assert not ConsentGrant.objects.exists()
    # Consent without a request is shown to readers too, without its button.
    services.admin_consent_grant(client=daemon_app, actor="tests")
    daemon_app.required_permissions.all().delete()
    body = reader.get(page).content.decode()
    assert "Other permissions granted" in body and "Revoke admin consent" not in body
    grant = ConsentGrant.objects.get()
    assert reader.post(page, {"action": "revoke_other", "grant": grant.pk, "confirm": "yes"}).status_code == 403
    assert ConsentGrant.objects.exists()
    assert reader.get(reverse("admin:applications_application_overview", args=[daemon_app.pk])).status_code == 200
    assert reader.get(reverse("admin:applications_application_new_secret", args=[daemon_app.pk])).status_code == 403


def test_making_a_superuser_is_audited_and_refused_to_anyone_but_a_superuser(admin, admin_user):
    account = admin_accounts.admin_account_create(actor="tests", username="op", password=PASSWORD)
    url = reverse("admin:accounts_adminaccount_change", args=[account.pk])
    response = admin.post(url, {"display_name": "Op", "is_active": "on", "is_superuser": "on"})
    assert response.status_code == 302, errors_of(response)
    account.refresh_from_db()
    assert account.is_superuser
    event = AuditEvent.objects.get(action="admin.update")
    assert event.actor == admin_user and event.details == {
        "display_name": {"before": "", "after": "Op"}, "superuser": {"before": False, "after": True}}
    global_admin = admin_accounts.admin_account_create(actor="tests", username="global", password=PASSWORD,
                                                       roles=["Global administrator"])
    with pytest.raises(Exception, match="Only a superuser"):
        admin_accounts.admin_account_update(account=account, actor=global_admin, display_name="Op", superuser=False)
    with pytest.raises(Exception, match="Only a superuser"):
        admin_accounts.admin_account_create(actor=global_admin, username="x", password=PASSWORD, superuser=True)


def test_a_group_from_before_the_roles_is_shown_and_kept_when_roles_change(admin):
    legacy = Group.objects.create(name="Helpdesk (old)")
    account = admin_accounts.admin_account_create(actor="tests", username="op", password=PASSWORD)
    account.groups.add(legacy)
    admin_accounts.admin_account_set_roles(account=account, roles=["Reports reader"], actor="tests")
    assert sorted(account.groups.values_list("name", flat=True)) == ["Helpdesk (old)", "Reports reader"]
    listing = admin.get(reverse("admin:accounts_adminrole_changelist")).content.decode()
    assert "Helpdesk (old)" in listing and "Not a built-in role" in listing
