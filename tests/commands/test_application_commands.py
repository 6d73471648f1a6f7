"""registerapp, addsecret, addapprole, addpermission, removepermission, grantconsent (SPEC §7)."""

import uuid
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.utils import timezone

from applications.models import Application, AppRole, ClientSecret, ConsentGrant, RequiredPermission
from applications.services import delegated_scope_add
from audit.models import AuditEvent
from tests.conftest import ACTOR

API_URI = "https://contoso.onmicrosoft.com/tasks-api"


# registerapp

def test_registerapp_prints_client_id_and_object_id(run):
    out = run("registerapp", "Daemon")
    app = Application.objects.get(name="Daemon")
    assert app.client_id in out and str(app.object_id) in out
    assert not app.is_public and not app.ropc_enabled


def test_registerapp_json_has_every_identifier_and_setting(run):
    client_id = str(uuid.uuid4())
    data = run.json(
        "registerapp", "Native", "--client-id", client_id.upper(), "--public", "--ropc",
        "--redirect-uri", "https://app.test/cb", "msal1234://auth", "--redirect-uri", "https://app.test/other",
    )
    app = Application.objects.get(client_id=client_id)
    assert data == {
        "name": "Native", "client_id": client_id, "object_id": str(app.object_id),
        "service_principal_id": str(app.service_principal_id), "client_type": "public", "ropc_enabled": True,
        "app_id_uri": None, "redirect_uris": ["https://app.test/cb", "msal1234://auth", "https://app.test/other"],
    }
    assert AuditEvent.objects.get(action="application.register").actor_label == "manage.py registerapp"


def test_registerapp_with_an_app_id_uri(run):
    data = run.json("registerapp", "API", "--app-id-uri", "https://contoso.onmicrosoft.com/api")
    assert data["app_id_uri"] == "https://contoso.onmicrosoft.com/api"
    assert data["client_type"] == "confidential"


@pytest.mark.parametrize(("args", "message"), [
    (("X", "--client-id", "not-a-uuid"), "must be a UUID"),
    (("X", "--client-id", "DUPLICATE"), "is already used by the app 'Tasks API'"),
    (("X", "--app-id-uri", API_URI.upper()), "is already the App ID URI of 'Tasks API'"),
    (("X", "--app-id-uri", "not a uri"), "App ID URI: no spaces"),
    (("X", "--app-id-uri", "https://contoso.onmicrosoft.com/api/.default"), "must not end with '/.default'"),
    (("   ",), "needs a name"),
    (("X", "--redirect-uri", "https://ok.test/cb", "not a uri"), "Redirect URI 'not a uri' is not valid"),
])
def test_registerapp_rejects_bad_input_and_writes_nothing(run, api_app, args, message):
    args = tuple(api_app.client_id if a == "DUPLICATE" else a for a in args)
    assert message in run.fails("registerapp", *args)


# addsecret

def test_addsecret_prints_a_secret_that_verifies_against_the_stored_hash(run, daemon_app):
    out = run("addsecret", daemon_app.client_id)
    secret = ClientSecret.objects.get(application=daemon_app)
    value = next(line for line in out.splitlines() if line.startswith(secret.hint) and " " not in line)
    assert check_password(value, secret.secret_hash)
    assert value not in secret.secret_hash


def test_addsecret_json_shape_and_the_secret_is_in_no_audit_event(run, daemon_app):
    data = run.json("addsecret", daemon_app.client_id, "--description", "CI", "--expires-days", "30")
    assert set(data) == {"client_id", "secret", "secret_id", "hint", "description", "expires_at"}
    secret = ClientSecret.objects.get(key_id=data["secret_id"])
    assert data["client_id"] == daemon_app.client_id
    assert data["hint"] == data["secret"][:3] == secret.hint
    assert data["description"] == "CI"
    assert check_password(data["secret"], secret.secret_hash)
    expires = datetime.fromisoformat(data["expires_at"])
    assert expires == secret.expires_at
    assert abs(expires - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    events = list(AuditEvent.objects.values_list("details", "target_repr"))
    assert events and all(data["secret"] not in str(event) for event in events)
    assert AuditEvent.objects.get(action="client_secret.add").actor_label == "manage.py addsecret"


def test_addsecret_accepts_an_app_id_uri_and_defaults_the_expiry(run, api_app):
    data = run.json("addsecret", API_URI)
    secret = ClientSecret.objects.get(key_id=data["secret_id"])
    assert secret.application == api_app
    assert secret.expires_at - secret.created_at == timedelta(days=settings.CLIENT_SECRET_DEFAULT_DAYS)


def test_each_addsecret_adds_a_different_secret(run, daemon_app):
    first = run.json("addsecret", daemon_app.client_id)["secret"]
    second = run.json("addsecret", daemon_app.client_id)["secret"]
    assert first != second
    assert daemon_app.secrets.count() == 2


@pytest.mark.parametrize(("args", "message"), [
    ((str(uuid.uuid4()),), "Unknown application"),
    (("https://contoso.onmicrosoft.com/nope",), "Unknown application"),
    (("NATIVE",), "public client"),
    (("DAEMON", "--expires-days", "0"), "1 to 730 days"),
    (("DAEMON", "--expires-days", "731"), "1 to 730 days"),
    (("DAEMON", "--expires-days", "ten"), "invalid int value"),
])
def test_addsecret_rejects_bad_input_and_writes_nothing(run, native_app, daemon_app, args, message):
    args = tuple({"NATIVE": native_app.client_id, "DAEMON": daemon_app.client_id}.get(a, a) for a in args)
    assert message in run.fails("addsecret", *args)


# addapprole

def test_addapprole_defines_a_role_and_prints_it(run, daemon_app):
    out = run("addapprole", daemon_app.client_id, "jobs.run")
    role = AppRole.objects.get(application=daemon_app, value="jobs.run")
    assert "jobs.run" in out and str(role.role_id) in out
    assert role.member_types == ["Application"] and role.display_name == "jobs.run"


def test_addapprole_json_with_every_option(run, api_app):
    role_id = uuid.uuid4()
    data = run.json(
        "addapprole", API_URI, "app.admin", "--display-name", "Administer", "--description", "Full access",
        "--member-types", "Application,User", "--id", str(role_id),
    )
    assert data == {
        "client_id": api_app.client_id, "id": str(role_id), "value": "app.admin", "display_name": "Administer",
        "description": "Full access", "member_types": ["Application", "User"], "enabled": True,
    }
    assert AppRole.objects.get(role_id=role_id).allow_user
    assert AuditEvent.objects.get(action="app_role.add", actor_label="manage.py addapprole")


@pytest.mark.parametrize(("args", "message"), [
    ((str(uuid.uuid4()), "x.read"), "Unknown application"),
    ((API_URI, "app.read"), "already has an app role 'app.read'"),
    ((API_URI, "x.read", "--member-types", "Robot"), "unknown member type 'Robot'"),
    ((API_URI, "x.read", "--member-types", ""), "must list at least one of Application, User"),
    ((API_URI, "x.read", "--id", "not-a-guid"), "must be a GUID"),
    ((API_URI, "x.read", "--id", "EXISTING"), "already has an app role with id"),
    ((API_URI, "has space"), "without spaces"),
])
def test_addapprole_rejects_bad_input_and_writes_nothing(run, api_app, args, message):
    existing = str(api_app.app_roles.get(value="app.read").role_id)
    args = tuple(existing if a == "EXISTING" else a for a in args)
    assert message in run.fails("addapprole", *args)


# addpermission

def test_addpermission_requests_roles_and_scopes(run, daemon_app, api_app):
    delegated_scope_add(application=api_app, actor=ACTOR, value="tasks.read")
    out = run("addpermission", daemon_app.client_id, API_URI, "app.read", "tasks.read")
    assert "app.read" in out and "grantconsent" in out
    requested = {(p.kind, p.target.value) for p in daemon_app.required_permissions.all()}
    assert requested == {("Application", "app.read"), ("Delegated", "tasks.read")}
    assert not ConsentGrant.objects.exists()


def test_addpermission_json_and_rerun_is_harmless(run, daemon_app, api_app):
    first = run.json("addpermission", daemon_app.client_id, api_app.client_id, "app.read")
    assert first == {
        "client_id": daemon_app.client_id, "api": api_app.client_id, "added": ["app.read"], "already_requested": [],
    }
    again = run.json("addpermission", daemon_app.client_id, API_URI, "app.read", "app.write", "app.write")
    assert again["added"] == ["app.write"] and again["already_requested"] == ["app.read"]
    assert daemon_app.required_permissions.count() == 2


@pytest.mark.parametrize(("args", "message"), [
    (("CLIENT", "https://contoso.onmicrosoft.com/nope", "app.read"), "Unknown application"),
    ((str(uuid.uuid4()), API_URI, "app.read"), "Unknown application"),
    # One unknown value among good ones: none of them is requested.
    (("CLIENT", API_URI, "app.read", "app.delete"), "no app role or scope 'app.delete'"),
    (("CLIENT", API_URI, "user.only"), "does not allow member type Application"),
    (("CLIENT", API_URI), "the following arguments are required"),
])
def test_addpermission_rejects_bad_input_and_writes_nothing(run, daemon_app, api_app, args, message):
    run("addapprole", API_URI, "user.only", "--member-types", "User")
    args = tuple(daemon_app.client_id if a == "CLIENT" else a for a in args)
    assert message in run.fails("addpermission", *args)
    assert not RequiredPermission.objects.exists()


# removepermission (issue 18 item 5: removing revokes the admin consent too, as the admin's "Remove")

def test_removepermission_removes_the_request_and_revokes_its_admin_consent(run, daemon_app, api_app):
    delegated_scope_add(application=api_app, actor=ACTOR, value="tasks.read")
    run("addpermission", daemon_app.client_id, API_URI, "app.read", "app.write", "tasks.read")
    run("grantconsent", daemon_app.client_id)
    out = run("removepermission", daemon_app.client_id, API_URI, "app.write", "tasks.read")
    assert "no longer requests app.write, tasks.read" in out and "Revoked admin consent" in out
    assert {p.target.value for p in RequiredPermission.objects.all()} == {"app.read"}
    assert {g.target.value for g in ConsentGrant.objects.all()} == {"app.read"}
    event = AuditEvent.objects.get(action="permission.remove")
    assert event.actor_label == "manage.py removepermission"
    assert [(p["value"], p["consent_revoked"]) for p in event.details["permissions"]] == [
        ("app.write", True), ("tasks.read", True)]


def test_removepermission_json_and_rerun_is_harmless(run, daemon_app, api_app):
    run("addpermission", daemon_app.client_id, API_URI, "app.read", "app.write")
    run("grantconsent", daemon_app.client_id)
    first = run.json("removepermission", daemon_app.client_id, api_app.client_id, "app.write")
    assert first == {"client_id": daemon_app.client_id, "api": api_app.client_id, "removed": ["app.write"],
                     "consent_revoked": ["app.write"], "not_requested": []}
    again = run.json("removepermission", daemon_app.client_id, API_URI, "app.write")
    assert again["removed"] == again["consent_revoked"] == [] and again["not_requested"] == ["app.write"]
    assert AuditEvent.objects.filter(action="permission.remove").count() == 1


def test_removepermission_revokes_consent_left_without_a_request_and_grantconsent_shows_it(run, daemon_app, api_app):
    run("addpermission", daemon_app.client_id, API_URI, "app.read", "app.write")
    run("grantconsent", daemon_app.client_id)
    RequiredPermission.objects.filter(app_role__value="app.write").delete()  # an earlier build's "Remove"
    shown = run.json("grantconsent", daemon_app.client_id)
    assert shown["other_granted"] == [
        {"api": api_app.client_id, "api_name": "Tasks API", "value": "app.write", "type": "Application"}]
    assert "Other permissions granted" in run("grantconsent", daemon_app.client_id)
    data = run.json("removepermission", daemon_app.client_id, API_URI, "app.write")
    assert data["removed"] == [] and data["consent_revoked"] == ["app.write"]
    assert run.json("grantconsent", daemon_app.client_id)["other_granted"] == []


@pytest.mark.parametrize(("args", "message"), [
    (("CLIENT", "https://contoso.onmicrosoft.com/nope", "app.read"), "Unknown application"),
    ((str(uuid.uuid4()), API_URI, "app.read"), "Unknown application"),
    # One unknown value among good ones: nothing is removed.
    (("CLIENT", API_URI, "app.read", "app.delete"), "no app role or scope 'app.delete'"),
    (("CLIENT", API_URI), "the following arguments are required"),
])
def test_removepermission_rejects_bad_input_and_removes_nothing(run, daemon_app, api_app, args, message):
    run("addpermission", daemon_app.client_id, API_URI, "app.read")
    run("grantconsent", daemon_app.client_id)
    args = tuple(daemon_app.client_id if a == "CLIENT" else a for a in args)
    assert message in run.fails("removepermission", *args)
    assert RequiredPermission.objects.count() == ConsentGrant.objects.count() == 1


# grantconsent

def test_grantconsent_grants_everything_requested_and_prints_each_status(run, daemon_app, api_app):
    run("addpermission", daemon_app.client_id, API_URI, "app.read", "app.write")
    out = run("grantconsent", daemon_app.client_id)
    assert "Tasks API: app.read (Application) - Granted" in out
    assert "Tasks API: app.write (Application) - Granted" in out
    assert ConsentGrant.objects.filter(client=daemon_app, user=None).count() == 2
    assert set(ConsentGrant.objects.values_list("granted_by_label", flat=True)) == {"manage.py grantconsent"}


def test_grantconsent_json_and_rerun_is_idempotent(run, daemon_app, api_app):
    run("addpermission", daemon_app.client_id, API_URI, "app.read")
    data = run.json("grantconsent", daemon_app.client_id)
    permission = {"api": api_app.client_id, "api_name": "Tasks API", "value": "app.read", "type": "Application",
                  "status": "Granted"}
    assert data == {"client_id": daemon_app.client_id, "action": "grant", "granted": ["app.read"],
                    "permissions": [permission], "other_granted": []}
    again = run.json("grantconsent", daemon_app.client_id)
    assert again["granted"] == [] and again["permissions"] == [permission]
    assert ConsentGrant.objects.count() == 1


def test_grantconsent_revoke_withdraws_admin_consent(run, daemon_app, api_app):
    run("addpermission", daemon_app.client_id, API_URI, "app.read", "app.write")
    run("grantconsent", daemon_app.client_id)
    data = run.json("grantconsent", daemon_app.client_id, "--revoke")
    assert data["action"] == "revoke" and data["revoked"] == 2
    assert {p["status"] for p in data["permissions"]} == {"Not granted"}
    assert not ConsentGrant.objects.exists()
    assert run.json("grantconsent", daemon_app.client_id, "--revoke")["revoked"] == 0


def test_grantconsent_for_a_client_that_requests_nothing(run, daemon_app):
    out = run("grantconsent", daemon_app.client_id)
    assert "requests no permissions" in out


def test_grantconsent_of_an_unknown_client_fails(run, daemon_app):
    assert "Unknown application" in run.fails("grantconsent", str(uuid.uuid4()))
    assert "Unknown application" in run.fails("grantconsent", "not-a-client", "--revoke")
