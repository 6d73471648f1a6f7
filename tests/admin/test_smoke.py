"""Every page of the web admin renders for a superuser (SPEC §6), with data in every table."""

import pytest
from django.contrib import admin as django_admin
from django.urls import reverse
from django.utils import timezone

from accounts.models import FederatedIdentity
from applications import services as applications
from applications.assignments import app_role_assign
from audit.models import SignInEvent
from identity.keys.services import signing_key_rotate
from identity.tenant import tenant_id
from tests.conftest import ACTOR

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§6")]


@pytest.fixture
def directory(user, policy, native_app, api_app, daemon_app):
    """One row, at least, in every table the admin shows."""
    tenant_id()
    signing_key_rotate(actor=ACTOR)
    signing_key_rotate(actor=ACTOR)
    FederatedIdentity.objects.create(user=user, issuer="https://idp.test", issuer_subject="1")
    applications.client_secret_add(application=daemon_app, actor=ACTOR)
    applications.delegated_scope_add(application=api_app, actor=ACTOR, value="tasks.read")
    applications.permission_add(client=daemon_app, api=api_app, values=["app.read", "tasks.read"], actor=ACTOR)
    applications.admin_consent_grant(client=daemon_app, actor=ACTOR)
    user_role = applications.app_role_add(application=api_app, actor=ACTOR, value="app.user", member_types="User")
    app_role_assign(user=user, app_role=user_role, actor=ACTOR)
    SignInEvent.objects.create(created_at=timezone.now(), succeeded=False, result_code="AADB2C90225")
    return {"user": user, "native_app": native_app, "daemon_app": daemon_app}


def registered():
    return sorted(django_admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def test_every_registered_model_renders_its_pages(admin, admin_user, directory):
    site = django_admin.site
    assert {m._meta.label for m in site._registry} >= {
        "accounts.User", "applications.Application", "policies.Policy", "audit.AuditEvent", "audit.SignInEvent",
        "identity.SigningKey", "identity.Tenant",
    }
    for model, model_admin in registered():
        info = (model._meta.app_label, model._meta.model_name)
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        assert admin.get(changelist).status_code == 200, changelist
        assert admin.get(changelist, {"q": "x y"}).status_code == 200, changelist
        add = admin.get(reverse("admin:{}_{}_add".format(*info)))
        assert add.status_code == (200 if model_admin.has_add_permission(add.wsgi_request) else 403), info
        shown = model_admin.get_queryset(add.wsgi_request)
        assert shown.exists(), f"no {model._meta.label} to show"
        for obj in shown:
            change = reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
            assert admin.get(change).status_code == 200, change


def test_custom_pages_render(admin, directory):
    for name, obj in (("applications_application_new_secret", directory["daemon_app"]),
                      ("applications_application_new_secret", directory["native_app"]),
                      ("applications_application_app_roles_json", directory["daemon_app"]),
                      ("applications_application_permissions", directory["daemon_app"]),
                      ("applications_application_permissions", directory["native_app"]),
                      ("accounts_user_set_password", directory["user"])):
        assert admin.get(reverse(f"admin:{name}", args=[obj.pk])).status_code == 200, name
    assert admin.get(reverse("admin:index")).status_code == 200


def test_admin_pages_need_a_signed_in_admin(client, directory):
    for url in (reverse("admin:applications_application_permissions", args=[directory["daemon_app"].pk]),
                reverse("admin:accounts_user_changelist")):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_without_change_permission_cannot_use_the_custom_pages(client, directory, admin_user):
    from accounts.models import User

    staff = User.objects.create_user(username="viewer", password="Viewer-Pass-123", is_staff=True)
    client.force_login(staff)
    app = directory["daemon_app"]
    assert client.post(reverse("admin:applications_application_new_secret", args=[app.pk]),
                       {"expires_days": "30"}).status_code == 403
    assert client.post(reverse("admin:identity_signingkey_rotate"), {"confirm": "yes"}).status_code == 403
    for name in ("revoke_sessions", "disable"):
        url = reverse(f"admin:accounts_user_{name}", args=[directory["user"].pk])
        assert client.get(url).status_code == 403
        assert client.post(url, {"confirm": "yes"}).status_code == 403


def test_unknown_object_ids_do_not_fail(admin):
    assert admin.get(reverse("admin:applications_application_permissions", args=[999])).status_code == 404
    assert admin.get(reverse("admin:accounts_user_set_password", args=["nope"])).status_code == 404
