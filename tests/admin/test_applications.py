"""Web admin for app registrations (SPEC §6): register, secrets shown once, app roles, permissions, consent."""

import json
import re
import uuid

import pytest
from django.contrib.auth.hashers import check_password
from django.urls import reverse

from applications import services
from applications.models import Application, AppRole, ClientSecret, ConsentGrant, RedirectUri, RequiredPermission
from audit.models import AuditEvent
from tests.admin.conftest import errors_of, form_data
from tests.conftest import ACTOR

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§6")]


def change_url(app: Application) -> str:
    return reverse("admin:applications_application_change", args=[app.pk])


def page_url(app: Application, name: str) -> str:
    return reverse(f"admin:applications_application_{name}", args=[app.pk])


# ---- register and edit -------------------------------------------------------------------------------

def test_registering_an_app_calls_the_service_and_is_audited(admin, admin_user):
    data = form_data(admin.get(reverse("admin:applications_application_add")))
    data.update(name="Orders API", client_type="confidential", ropc_enabled="on",
                app_id_uri="https://contoso.onmicrosoft.com/orders")
    response = admin.post(reverse("admin:applications_application_add"), data)
    assert response.status_code == 302, errors_of(response)
    app = Application.objects.get(name="Orders API")
    assert app.ropc_enabled and not app.is_public and app.enabled
    event = AuditEvent.objects.get(action="application.register")
    assert event.actor == admin_user and event.details["client_id"] == app.client_id


def test_a_migrated_client_keeps_its_client_id(admin):
    client_id = "6F1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"
    data = form_data(admin.get(reverse("admin:applications_application_add")))
    data.update(name="Legacy", client_type="public", client_id=client_id)
    assert admin.post(reverse("admin:applications_application_add"), data).status_code == 302
    assert Application.objects.get(name="Legacy").client_id == client_id.lower()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "  ", "needs a name"),
    ("client_id", "not-a-uuid", "must be a UUID"),
    ("app_id_uri", "no spaces allowed", "App ID URI: no spaces"),
])
def test_bad_registration_input_is_shown_and_nothing_is_written(admin, field, value, message):
    data = form_data(admin.get(reverse("admin:applications_application_add")))
    data.update(name="Valid name", client_type="confidential")
    data[field] = value
    response = admin.post(reverse("admin:applications_application_add"), data)
    assert response.status_code == 200
    assert message in errors_of(response)
    assert not Application.objects.exists()
    assert not AuditEvent.objects.exists()


def test_change_page_shows_ids_read_only(admin, daemon_app):
    response = admin.get(change_url(daemon_app))
    form = response.context["adminform"].form
    assert {"client_id", "object_id", "service_principal_id"}.isdisjoint(form.fields)
    body = response.content.decode()
    for value in (daemon_app.client_id, daemon_app.object_id, daemon_app.service_principal_id):
        assert str(value) in body


def test_changelist_lists_what_matters(admin, native_app, api_app):
    body = admin.get(reverse("admin:applications_application_changelist")).content.decode()
    for text in (native_app.client_id, "Public", "Confidential", api_app.app_id_uri):
        assert text in body


def test_search_finds_an_app_by_object_id(admin, native_app, api_app):
    response = admin.get(reverse("admin:applications_application_changelist"), {"q": str(api_app.object_id)})
    assert list(response.context["cl"].result_list) == [api_app]


def test_editing_an_app_is_audited_with_the_changed_fields(admin, daemon_app):
    data = form_data(admin.get(change_url(daemon_app)))
    data["ropc_enabled"] = "on"
    assert admin.post(change_url(daemon_app), data).status_code == 302
    daemon_app.refresh_from_db()
    assert daemon_app.ropc_enabled
    assert AuditEvent.objects.get(action="application.update").details == {"changed": ["ropc_enabled"]}


def test_redirect_uris_are_added_inline_and_audited(admin, native_app):
    data = form_data(admin.get(change_url(native_app)))
    data.update({"redirect_uri_rows-TOTAL_FORMS": "1", "redirect_uri_rows-0-uri": "myapp://auth"})
    assert admin.post(change_url(native_app), data).status_code == 302
    assert RedirectUri.objects.get().uri == "myapp://auth"
    assert "redirect URI added: myapp://auth" in AuditEvent.objects.get(action="application.update").details["changed"]


def test_deleting_an_app_goes_through_the_service(admin, daemon_app):
    response = admin.post(reverse("admin:applications_application_delete", args=[daemon_app.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Application.objects.filter(pk=daemon_app.pk).exists()
    assert AuditEvent.objects.filter(action="application.delete").count() == 1


# ---- client secrets ------------------------------------------------------------------------------------

def test_new_secret_is_shown_once_and_never_stored(admin, daemon_app):
    form_page = admin.get(page_url(daemon_app, "new_secret"))
    assert form_page.context["form"]["expires"].value() == "180"
    response = admin.post(page_url(daemon_app, "new_secret"), {"description": "CI", "expires_days": "30"})
    secret = ClientSecret.objects.get()
    # Post/redirect/get: the POST only creates; the page it redirects to shows the value.
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:applications_application_secret", args=[daemon_app.pk,
                                                                                         secret.key_id])
    shown = admin.get(response["Location"])
    assert "no-store" in shown["Cache-Control"]
    body = shown.content.decode()
    value = re.search(r'id="secret-value">([^<]+)<', body).group(1)
    assert body.count(value) == 1
    assert check_password(value, secret.secret_hash)
    assert secret.hint == value[:3] and secret.description == "CI"
    assert (secret.expires_at - secret.created_at).days == 30
    assert all(value not in str(v) for v in ClientSecret.objects.values().get().values())
    assert value not in json.dumps(list(AuditEvent.objects.values("details", "target_repr")))
    # Nor in the session store, where it waited for the redirect, only encrypted and only until shown.
    assert value not in json.dumps(admin.session.load(), default=str)
    # Reloading shows it no more and makes no new secret; it is nowhere else either.
    again = admin.get(response["Location"]).content.decode()
    assert value not in again and "was shown once" in again
    assert ClientSecret.objects.count() == 1
    later = admin.get(change_url(daemon_app)).content.decode()
    assert value not in later and f"{secret.hint}" in later


@pytest.mark.parametrize(("data", "days"), [({"expires": "90"}, 90), ({"expires": "730"}, 730),
                                            ({"expires": "custom", "expires_days": "45"}, 45), ({}, None)])
def test_secret_expiry_presets_as_entra_offers_them(admin, daemon_app, data, days):
    response = admin.post(page_url(daemon_app, "new_secret"), data)
    if days is None:
        assert response.status_code == 200 and "choose a preset" in errors_of(response)
        assert not ClientSecret.objects.exists()
        return
    assert response.status_code == 302
    secret = ClientSecret.objects.get()
    assert (secret.expires_at - secret.created_at).days == days


def test_a_secret_expiring_within_30_days_is_flagged(admin, daemon_app):
    services.client_secret_add(application=daemon_app, actor=ACTOR, expires_days=10)
    body = admin.get(change_url(daemon_app)).content.decode()
    assert "Expires soon (in 9 days)" in body or "Expires soon (in 10 days)" in body
    overview = admin.get(page_url(daemon_app, "overview")).content.decode()
    assert 'id="expires-soon"' in overview


def test_secret_expiry_beyond_two_years_is_refused(admin, daemon_app):
    response = admin.post(page_url(daemon_app, "new_secret"), {"expires_days": "731"})
    assert response.status_code == 200
    assert "less than or equal to 730" in errors_of(response)
    assert not ClientSecret.objects.exists()


def test_public_app_gets_a_clear_error_instead_of_a_secret(admin, native_app):
    for response in (admin.get(page_url(native_app, "new_secret")),
                     admin.post(page_url(native_app, "new_secret"), {"expires_days": "30"})):
        assert response.status_code == 200
        assert "is a public client" in response.content.decode()
    assert not ClientSecret.objects.exists()
    assert not AuditEvent.objects.filter(action="client_secret.add").exists()


def test_removing_a_secret_asks_first_then_goes_through_the_service(admin, daemon_app):
    secret, _ = services.client_secret_add(application=daemon_app, actor=ACTOR, description="CI pipeline")
    page = admin.get(change_url(daemon_app)).content.decode()
    url = reverse("admin:applications_application_secret_delete", args=[daemon_app.pk, secret.key_id])
    assert url in page and "secrets-0-DELETE" not in page  # no silent checkbox any more
    ask = admin.get(url).content.decode()
    assert "CI pipeline" in ask and "invalid_client" in ask and "cannot be undone" in ask
    assert ClientSecret.objects.exists()
    assert admin.post(url, {"confirm": "yes"}).status_code == 302
    assert not ClientSecret.objects.exists()
    assert AuditEvent.objects.get(action="client_secret.remove").details["secret_id"] == str(secret.key_id)


def test_making_a_confidential_app_public_asks_before_deleting_its_secrets(admin, daemon_app):
    services.client_secret_add(application=daemon_app, actor=ACTOR, description="CI pipeline")
    data = form_data(admin.get(change_url(daemon_app)))
    data["client_type"] = "public"
    ask = admin.post(change_url(daemon_app), data)
    body = ask.content.decode()
    assert ask.status_code == 200 and "delete its 1 client secret(s)" in body and "CI pipeline" in body
    daemon_app.refresh_from_db()
    assert not daemon_app.is_public and ClientSecret.objects.count() == 1
    # The confirmation carries the whole form through, then saves it as submitted.
    reposted = dict(ask.context["hidden"])
    assert reposted["client_type"] == "public" and reposted["name"] == daemon_app.name
    done = admin.post(change_url(daemon_app), {**data, "confirm": "yes"}, follow=True)
    daemon_app.refresh_from_db()
    assert daemon_app.is_public and not ClientSecret.objects.exists()
    assert "Deleted 1 client secret(s)" in done.content.decode()


def test_an_app_without_secrets_turns_public_without_a_question(admin, daemon_app):
    data = form_data(admin.get(change_url(daemon_app)))
    data["client_type"] = "public"
    assert admin.post(change_url(daemon_app), data).status_code == 302
    daemon_app.refresh_from_db()
    assert daemon_app.is_public


# ---- app roles -------------------------------------------------------------------------------------------

def test_app_role_added_inline_goes_through_the_service(admin, daemon_app):
    data = form_data(admin.get(change_url(daemon_app)))
    data.update({
        "app_roles-TOTAL_FORMS": "1", "app_roles-0-value": "jobs.run", "app_roles-0-display_name": "Run jobs",
        "app_roles-0-allow_application": "on", "app_roles-0-is_enabled": "on",
    })
    response = admin.post(change_url(daemon_app), data)
    assert response.status_code == 302, errors_of(response)
    assert AppRole.objects.get(application=daemon_app).value == "jobs.run"
    assert AuditEvent.objects.get(action="app_role.add").details["value"] == "jobs.run"


@pytest.mark.parametrize(("value", "member_type", "message"), [
    ("app.read", "allow_application", "same value; a value must be unique"),
    ("has space", "allow_application", "without spaces"),
    ("new.role", None, "at least one allowed member type"),
])
def test_bad_inline_app_role_is_shown_and_nothing_is_written(admin, api_app, value, member_type, message):
    data = form_data(admin.get(change_url(api_app)))
    data.update({"app_roles-TOTAL_FORMS": "3", "app_roles-2-value": value, "app_roles-2-display_name": "X"})
    if member_type:
        data[f"app_roles-2-{member_type}"] = "on"
    response = admin.post(change_url(api_app), data)
    assert response.status_code == 200
    assert message in errors_of(response)
    assert sorted(AppRole.objects.values_list("value", flat=True)) == ["app.read", "app.write"]
    assert not AuditEvent.objects.filter(actor__isnull=False).exists()


MANIFEST = """"appRoles": [
  {"allowedMemberTypes": ["Application"], "description": "Read", "displayName": "Read",
   "id": "5b1f8cf4-6f6b-4a3e-9a57-2c8b4ad4a0a1", "isEnabled": true, "value": "orders.read"},
  {"allowedMemberTypes": ["Application", "User"], "description": "Write", "displayName": "Write",
   "id": "0f9a3c61-2d2e-4b87-8f3c-6b1f4b0f8e22", "isEnabled": true, "value": "orders.write"}
],"""


def test_pasted_manifest_app_roles_are_imported_and_audited(admin, daemon_app):
    response = admin.post(page_url(daemon_app, "app_roles_json"), {"manifest": MANIFEST})
    assert response.status_code == 302, errors_of(response)
    roles = {r.value: r for r in AppRole.objects.filter(application=daemon_app)}
    assert set(roles) == {"orders.read", "orders.write"}
    assert roles["orders.write"].member_types == ["Application", "User"]
    assert str(roles["orders.read"].role_id) == "5b1f8cf4-6f6b-4a3e-9a57-2c8b4ad4a0a1"
    assert AuditEvent.objects.get(action="app_role.import").details["values"] == ["orders.read", "orders.write"]


@pytest.mark.parametrize(("manifest", "message"), [
    ('[{"id": "5b1f8cf4-6f6b-4a3e-9a57-2c8b4ad4a0a1", "value": "a"', "Not valid JSON"),
    ('[{"id": "not-a-guid", "value": "a", "allowedMemberTypes": ["Application"]}]', "id must be a GUID"),
    ('[{"id": "5b1f8cf4-6f6b-4a3e-9a57-2c8b4ad4a0a1", "value": "a b", "allowedMemberTypes": ["User"]}]',
     "without spaces"),
    ('[{"id": "5b1f8cf4-6f6b-4a3e-9a57-2c8b4ad4a0a1", "value": "a", "allowedMemberTypes": ["Robot"]}]',
     "unknown member type"),
    ('[{"id": "5b1f8cf4-6f6b-4a3e-9a57-2c8b4ad4a0a1", "value": "a", "allowedMemberTypes": ["User"]},'
     ' {"id": "0f9a3c61-2d2e-4b87-8f3c-6b1f4b0f8e22", "value": "a", "allowedMemberTypes": ["User"]}]',
     "value 'a' is also the value of appRoles[0]"),
])
def test_bad_manifest_is_shown_and_nothing_is_written(admin, daemon_app, manifest, message):
    response = admin.post(page_url(daemon_app, "app_roles_json"), {"manifest": manifest})
    assert response.status_code == 200
    assert message in errors_of(response)
    assert not AppRole.objects.exists()
    assert not AuditEvent.objects.filter(action="app_role.import").exists()


def test_manifest_value_clashing_with_another_role_is_refused(admin, api_app):
    manifest = json.dumps([{"id": str(uuid.uuid4()), "value": "app.read", "allowedMemberTypes": ["Application"]}])
    response = admin.post(page_url(api_app, "app_roles_json"), {"manifest": manifest})
    assert "already has an app role 'app.read'" in errors_of(response)
    assert AppRole.objects.count() == 2


# ---- permissions and consent -----------------------------------------------------------------------------

def _request(admin, client_app, api_app, *values) -> object:
    return admin.post(page_url(client_app, "permissions"),
                      {"action": "add", "permissions": [f"{api_app.pk}|{v}" for v in values]})


def test_requested_permission_shows_not_granted_until_admin_consent(admin, admin_user, daemon_app, api_app):
    assert _request(admin, daemon_app, api_app, "app.read").status_code == 302
    assert RequiredPermission.objects.get(client=daemon_app).app_role.value == "app.read"
    page = admin.get(page_url(daemon_app, "permissions"))
    body = page.content.decode()
    assert "Grant admin consent for contoso.onmicrosoft.com" in body
    assert [r.status for r in page.context["rows"]] == ["Not granted"]
    assert "Not granted for contoso.onmicrosoft.com" in body

    ask = admin.post(page_url(daemon_app, "permissions"), {"action": "grant"})
    assert ask.status_code == 200 and "Tasks API: app.read (Application)" in ask.content.decode()
    assert not ConsentGrant.objects.exists()
    confirmed = {"confirm": "yes", "action": "grant", "permission": [v for k, v in ask.context["hidden"]
                                                                     if k == "permission"]}
    assert admin.post(page_url(daemon_app, "permissions"), confirmed).status_code == 302
    assert ConsentGrant.objects.get(client=daemon_app).granted_by == admin_user
    page = admin.get(page_url(daemon_app, "permissions"))
    assert [r.status for r in page.context["rows"]] == ["Granted"]
    assert "Granted" in admin.get(change_url(daemon_app)).content.decode()

    ask = admin.post(page_url(daemon_app, "permissions"), {"action": "revoke"})
    assert ask.status_code == 200 and "Tokens already issued stay valid" in ask.content.decode()
    assert ConsentGrant.objects.exists()
    confirmed = {"confirm": "yes", "action": "revoke", "permission": [v for k, v in ask.context["hidden"]
                                                                      if k == "permission"]}
    assert admin.post(page_url(daemon_app, "permissions"), confirmed).status_code == 302
    assert not ConsentGrant.objects.exists()
    assert [e.action for e in AuditEvent.objects.order_by("id") if e.actor == admin_user] == [
        "permission.add", "consent.grant", "consent.revoke",
    ]


def test_permission_that_the_role_does_not_allow_is_refused_and_nothing_is_written(admin, daemon_app, api_app):
    AppRole.objects.filter(value="app.write").update(allow_application=False, allow_user=True)
    response = admin.post(page_url(daemon_app, "permissions"),
                          {"action": "add", "permissions": [f"{api_app.pk}|app.read", f"{api_app.pk}|app.write"]})
    assert response.status_code == 200
    assert "Select a valid choice" in errors_of(response)
    assert not RequiredPermission.objects.exists()


def test_removing_a_permission_goes_through_the_service(admin, daemon_app, api_app):
    services.permission_add(client=daemon_app, api=api_app, values=["app.read"], actor=ACTOR)
    permission = RequiredPermission.objects.get()
    response = admin.post(page_url(daemon_app, "permissions"), {"action": "remove", "permission": permission.pk})
    assert response.status_code == 302
    assert not RequiredPermission.objects.exists()
    assert AuditEvent.objects.filter(action="permission.remove").count() == 1


def test_removing_a_granted_permission_asks_first_then_revokes_its_admin_consent(admin, admin_user, daemon_app,
                                                                                api_app):
    """Issue 18 item 5: a removed permission is never left granted (and so invisible but in force)."""
    services.permission_add(client=daemon_app, api=api_app, values=["app.read", "app.write"], actor=ACTOR)
    services.admin_consent_grant(client=daemon_app, actor=ACTOR)
    write = RequiredPermission.objects.get(app_role__value="app.write")
    assert 'value="Remove…"' in admin.get(page_url(daemon_app, "permissions")).content.decode()
    ask = admin.post(page_url(daemon_app, "permissions"), {"action": "remove", "permission": write.pk})
    assert ask.status_code == 200
    said = ask.content.decode()
    assert "Tasks API: app.write (Application)" in said and "admin consent to it is revoked with it" in said
    assert "lose these app roles" in said
    assert RequiredPermission.objects.count() == ConsentGrant.objects.count() == 2  # nothing yet
    confirmed = admin.post(page_url(daemon_app, "permissions"),
                           {**dict(ask.context["hidden"]), "confirm": "yes"}, follow=True)
    assert "Removed app.write and revoked its admin consent." in confirmed.content.decode()
    assert [g.app_role.value for g in ConsentGrant.objects.all()] == ["app.read"]
    assert [p.app_role.value for p in RequiredPermission.objects.all()] == ["app.read"]
    page = admin.get(page_url(daemon_app, "permissions"))
    assert page.context["other_grants"] == [] and "Other permissions granted" not in page.content.decode()
    event = AuditEvent.objects.get(action="permission.remove")
    assert event.actor == admin_user and event.details["permissions"][0]["consent_revoked"] is True


def test_the_page_lists_other_permissions_granted_and_revokes_one_after_asking(admin, daemon_app, api_app):
    """Consent without a request (left by an earlier build's "Remove") is shown, as Entra shows it."""
    services.permission_add(client=daemon_app, api=api_app, values=["app.read", "app.write"], actor=ACTOR)
    services.admin_consent_grant(client=daemon_app, actor=ACTOR)
    RequiredPermission.objects.filter(app_role__value="app.write").delete()  # the old "Remove"
    page = admin.get(page_url(daemon_app, "permissions"))
    body = page.content.decode()
    assert "Other permissions granted for contoso.onmicrosoft.com" in body
    other = body[body.index('id="other-permissions"'):]
    assert "<code>app.write</code>" in other and "Granted for contoso.onmicrosoft.com by tests" in other
    assert "Revoke admin consent…" in other and "<code>app.read</code>" not in other
    [grant] = page.context["other_grants"]
    ask = admin.post(page_url(daemon_app, "permissions"), {"action": "revoke_other", "grant": grant.pk})
    assert ask.status_code == 200 and "Tasks API: app.write (Application)" in ask.content.decode()
    assert ConsentGrant.objects.count() == 2
    admin.post(page_url(daemon_app, "permissions"), {**dict(ask.context["hidden"]), "confirm": "yes"})
    assert [g.app_role.value for g in ConsentGrant.objects.all()] == ["app.read"]
    assert "Other permissions granted" not in admin.get(page_url(daemon_app, "permissions")).content.decode()
    assert AuditEvent.objects.filter(action="consent.revoke").count() == 1


def test_a_stale_remove_or_revoke_changes_nothing_and_says_so(admin, daemon_app, api_app):
    services.permission_add(client=daemon_app, api=api_app, values=["app.read"], actor=ACTOR)
    services.admin_consent_grant(client=daemon_app, actor=ACTOR)
    grant = ConsentGrant.objects.get()
    for data in ({"action": "remove", "permission": "999999"}, {"action": "remove", "permission": "x"},
                 {"action": "revoke_other", "grant": str(grant.pk), "confirm": "yes"},  # requested: not "other"
                 {"action": "revoke_other", "grant": "nope"}):
        response = admin.post(page_url(daemon_app, "permissions"), data, follow=True)
        assert response.status_code == 200
        assert "no longer" in response.content.decode()
    assert RequiredPermission.objects.count() == ConsentGrant.objects.count() == 1


def test_state_changing_pages_refuse_get_requests_to_change_anything(admin, daemon_app, api_app):
    services.permission_add(client=daemon_app, api=api_app, values=["app.read"], actor=ACTOR)
    admin.get(page_url(daemon_app, "permissions"), {"action": "grant"})
    admin.get(page_url(daemon_app, "new_secret"), {"expires_days": "30"})
    assert not ConsentGrant.objects.exists() and not ClientSecret.objects.exists()


def test_app_roles_can_be_defined_while_registering(admin):
    data = form_data(admin.get(reverse("admin:applications_application_add")))
    data.update({"name": "Reports API", "client_type": "confidential", "app_roles-TOTAL_FORMS": "1",
                 "app_roles-0-value": "reports.read", "app_roles-0-display_name": "Read reports",
                 "app_roles-0-allow_user": "on", "app_roles-0-is_enabled": "on"})
    response = admin.post(reverse("admin:applications_application_add"), data)
    assert response.status_code == 302, errors_of(response)
    role = AppRole.objects.get(application__name="Reports API")
    assert role.member_types == ["User"]
    assert [e.action for e in AuditEvent.objects.order_by("id")] == ["application.register", "app_role.add"]


def test_editing_and_deleting_app_roles_inline_is_audited(admin, api_app):
    data = form_data(admin.get(change_url(api_app)))
    data["app_roles-0-display_name"] = "Read everything"
    data["app_roles-1-DELETE"] = "on"
    assert admin.post(change_url(api_app), data).status_code == 302
    assert list(AppRole.objects.values_list("value", "display_name")) == [("app.read", "Read everything")]
    assert sorted(AuditEvent.objects.get(action="application.update").details["changed"]) == [
        "app role changed: app.read (display_name)", "app role removed: app.write",
    ]


def test_bulk_delete_goes_through_the_service(admin, daemon_app, native_app):
    response = admin.post(reverse("admin:applications_application_changelist"), {
        "action": "delete_selected", "_selected_action": [daemon_app.pk, native_app.pk], "post": "yes",
    })
    assert response.status_code == 302
    assert not Application.objects.exists()
    assert AuditEvent.objects.filter(action="application.delete").count() == 2


def test_a_service_refusal_at_save_time_becomes_a_message_and_writes_nothing(admin, monkeypatch):
    def refuse(**kwargs):
        raise services.ValidationError("Someone registered that client id a moment ago.")

    monkeypatch.setattr(services, "application_register", refuse)
    data = form_data(admin.get(reverse("admin:applications_application_add")))
    data.update(name="Racer", client_type="confidential")
    response = admin.post(reverse("admin:applications_application_add"), data, follow=True)
    assert "Someone registered that client id a moment ago." in response.content.decode()
    assert not Application.objects.exists()
