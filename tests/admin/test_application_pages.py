"""An app's Overview, Expose an API and the permission picker (issue 17 items 15 and 17)."""

import pytest
from django.urls import reverse

from applications import services
from applications.models import RequiredPermission
from audit.models import AuditEvent
from tests.admin.conftest import errors_of
from tests.conftest import ACTOR

pytestmark = [pytest.mark.django_db]


def url(app, name: str) -> str:
    return reverse(f"admin:applications_application_{name}", args=[app.pk])


def test_the_overview_shows_what_msal_needs_for_each_enabled_policy(admin, policy, native_app):
    body = admin.get(url(native_app, "overview")).content.decode()
    base = "https://login.contoso.test/contoso.onmicrosoft.com"
    # MSAL's authority names the policy as registered; the endpoints, as B2C's metadata does, in lower case.
    policy_url = f"{base}/b2c_1_ropc_auth"
    for text in (native_app.client_id, str(native_app.object_id), f'"{base}/B2C_1_ROPC_Auth"',
                 f"{policy_url}/oauth2/v2.0/token", f"{policy_url}/v2.0/.well-known/openid-configuration",
                 f"{policy_url}/discovery/v2.0/keys",
                 "msal.PublicClientApplication", "acquire_token_by_username_password"):
        assert text in body, text
    assert body.count('class="tf-copy"') >= 6


def test_a_daemon_overview_shows_client_credentials_for_its_consented_api(admin, policy, daemon_app, api_app):
    services.permission_add(client=daemon_app, api=api_app, values=["app.read"], actor=ACTOR)
    services.admin_consent_grant(client=daemon_app, actor=ACTOR)
    body = admin.get(url(daemon_app, "overview")).content.decode()
    assert "msal.ConfidentialClientApplication" in body
    assert "https://contoso.onmicrosoft.com/tasks-api/.default" in body


def test_the_overview_without_policies_says_how_to_make_one(admin, daemon_app):
    assert "No enabled policy yet" in admin.get(url(daemon_app, "overview")).content.decode()


def test_expose_an_api_proposes_api_client_id_and_sets_it(admin, daemon_app):
    body = admin.get(url(daemon_app, "overview")).content.decode()
    proposed = f"api://{daemon_app.client_id}"
    assert f'value="{proposed}"' in body and ">Set<" not in body and 'value="Set"' in body
    assert admin.post(url(daemon_app, "expose_api"), {"app_id_uri": proposed}).status_code == 302
    daemon_app.refresh_from_db()
    assert daemon_app.app_id_uri == proposed
    assert AuditEvent.objects.filter(action="application.update", details__changed=["app_id_uri"]).exists()
    after = admin.get(url(daemon_app, "overview")).content.decode()
    assert f"{proposed}/.default" in after and 'value="Set"' not in after


def test_expose_an_api_refuses_a_bad_uri_and_keeps_the_old(admin, daemon_app):
    response = admin.post(url(daemon_app, "expose_api"), {"app_id_uri": "not a uri"}, follow=True)
    daemon_app.refresh_from_db()
    assert daemon_app.app_id_uri is None
    assert "App ID URI: no spaces or control characters" in response.content.decode()


def test_the_picker_groups_by_api_and_hides_what_is_requested(admin, daemon_app, api_app):
    services.delegated_scope_add(application=api_app, actor=ACTOR, value="tasks.read", description="Read tasks")
    page = admin.get(url(daemon_app, "permissions"))
    body = page.content.decode()
    assert 'id="permission-search"' in body and 'type="checkbox" name="permissions"' in body
    groups = page.context["form"].picker
    assert [g.api.name for g in groups] == ["Tasks API"]
    assert [(o.value, o.kind) for o in groups[0].options] == [
        ("app.read", "Application"), ("app.write", "Application"), ("tasks.read", "Delegated")]
    response = admin.post(url(daemon_app, "permissions"), {"action": "add", "permissions": [
        f"{api_app.pk}|app.read", f"{api_app.pk}|tasks.read"]})
    assert response.status_code == 302, errors_of(response)
    assert RequiredPermission.objects.filter(client=daemon_app).count() == 2
    groups = admin.get(url(daemon_app, "permissions")).context["form"].picker
    assert [o.value for g in groups for o in g.options] == ["app.write"]


def test_the_picker_asks_for_at_least_one_permission(admin, daemon_app, api_app):
    response = admin.post(url(daemon_app, "permissions"), {"action": "add"})
    assert response.status_code == 200 and "Tick at least one permission" in response.content.decode()


# ---- certificates (private_key_jwt) ------------------------------------------------------------------------

def test_a_certificate_is_uploaded_listed_and_deleted_after_a_confirmation(admin, daemon_app):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from applications.models import ClientCertificate
    from tests.applications.certificate_maker import certificate, pem, sha1_hex

    cert = certificate()
    upload = SimpleUploadedFile("daemon.cer", pem(cert), content_type="application/x-x509-ca-cert")
    response = admin.post(url(daemon_app, "new_certificate"), {"certificate": upload, "description": "Nightly"})
    assert response.status_code == 302, errors_of(response)
    row = ClientCertificate.objects.get(application=daemon_app)
    change = admin.get(reverse("admin:applications_application_change", args=[daemon_app.pk])).content.decode()
    assert sha1_hex(cert) in change and "Nightly" in change
    delete = reverse("admin:applications_application_certificate_delete", args=[daemon_app.pk, row.key_id])
    ask = admin.get(delete).content.decode()
    assert "Delete the certificate" in ask and "refused (invalid_client)" in ask
    assert ClientCertificate.objects.exists()
    assert admin.post(delete, {"confirm": "yes"}).status_code == 302
    assert not ClientCertificate.objects.exists()
    assert AuditEvent.objects.filter(actor__isnull=False).values_list("action", flat=True).count() == 2


def test_a_private_key_upload_is_refused_and_not_stored(admin, daemon_app):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from applications.models import ClientCertificate
    from tests.applications.certificate_maker import private_pem, rsa_key

    upload = SimpleUploadedFile("daemon.pem", private_pem(rsa_key()))
    response = admin.post(url(daemon_app, "new_certificate"), {"certificate": upload})
    assert response.status_code == 200 and "private key" in errors_of(response).lower()
    assert not ClientCertificate.objects.exists()


def test_a_public_app_gets_no_certificate_page(admin, native_app):
    body = admin.get(url(native_app, "new_certificate")).content.decode()
    assert "is a public client" in body and 'type="file"' not in body


def test_the_admin_is_branded_with_trustframe_and_the_tenant(admin):
    body = admin.get("/admin/").content.decode()
    assert "Trustframe" in body and "contoso.onmicrosoft.com" in body and "Django administration" not in body
    assert "<title>Tenant administration | Trustframe admin · contoso.onmicrosoft.com</title>" in body
    assert 'href="/"' in body  # "View site": the landing page


def test_user_and_app_pages_link_to_their_sign_in_activity(admin, user, daemon_app):
    from audit.admin import app_sign_ins_url, sign_in_activity_url

    user_page = admin.get(reverse("admin:accounts_user_change", args=[user.pk])).content.decode()
    app_page = admin.get(reverse("admin:applications_application_change", args=[daemon_app.pk])).content.decode()
    assert sign_in_activity_url(user) in user_page and "Sign-in activity" in user_page
    assert app_sign_ins_url(daemon_app) in app_page
    assert admin.get(sign_in_activity_url(user)).status_code == 200


def test_a_bad_redirect_uri_row_is_answered_in_words_not_constraint_text(admin, native_app):
    from tests.admin.conftest import form_data

    change = reverse("admin:applications_application_change", args=[native_app.pk])
    data = form_data(admin.get(change))
    data.update({"redirect_uri_rows-TOTAL_FORMS": "1", "redirect_uri_rows-0-uri": "not a uri"})
    response = admin.post(change, data)
    assert response.status_code == 200
    errors = errors_of(response)
    assert errors and "Constraint" not in errors and "redirect_uri_well_formed" not in errors
    assert not native_app.redirect_uri_rows.exists()


def test_consent_covers_exactly_what_the_confirmation_page_listed(admin, daemon_app, api_app):
    from applications.models import ConsentGrant

    services.permission_add(client=daemon_app, api=api_app, values=["app.read"], actor=ACTOR)
    ask = admin.post(url(daemon_app, "permissions"), {"action": "grant"})
    shown = ask.context["hidden"]
    # Meanwhile someone requests another permission: confirming grants only what the page showed.
    services.permission_add(client=daemon_app, api=api_app, values=["app.write"], actor=ACTOR)
    admin.post(url(daemon_app, "permissions"), {**_pairs(shown), "confirm": "yes"})
    assert [g.app_role.value for g in ConsentGrant.objects.all()] == ["app.read"]
    ask = admin.post(url(daemon_app, "permissions"), {"action": "revoke"})
    assert "app.read" in ask.content.decode() and "app.write" not in ask.content.decode()
    # Meanwhile someone grants the rest: confirming revokes only what the page showed.
    services.admin_consent_grant(client=daemon_app, actor=ACTOR)
    admin.post(url(daemon_app, "permissions"), {**_pairs(ask.context["hidden"]), "confirm": "yes"})
    assert [g.app_role.value for g in ConsentGrant.objects.all()] == ["app.write"]


def _pairs(hidden: list[tuple[str, str]]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, value in hidden:
        data.setdefault(name, []).append(value)
    return data
