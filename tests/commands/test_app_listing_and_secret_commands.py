"""listapps, listsecrets and removesecret (issue 17, item 18): secrets by id and hint, never a value."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from applications.models import ClientSecret
from applications.services import application_register, client_secret_add
from audit.models import AuditEvent
from tests.conftest import ACTOR

API_URI = "https://contoso.onmicrosoft.com/tasks-api"


def z(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# listapps

def test_listapps_lists_every_app_by_name_with_what_it_is(run, api_app, daemon_app, native_app):
    application_register(actor=ACTOR, name="orders API", app_id_uri="https://orders.contoso.onmicrosoft.com",
                         redirect_uris=["https://app.test/b", "https://app.test/a"])
    data = run.json("listapps")
    assert data["count"] == 4
    assert [a["name"] for a in data["applications"]] == ["Daemon", "Native app", "orders API", "Tasks API"]
    native = data["applications"][1]
    assert native == {
        "name": "Native app", "client_id": native_app.client_id, "object_id": str(native_app.object_id),
        "service_principal_id": str(native_app.service_principal_id), "client_type": "public",
        "ropc_enabled": True, "app_id_uri": None, "enabled": True, "redirect_uris": [],
    }
    assert data["applications"][2]["redirect_uris"] == ["https://app.test/b", "https://app.test/a"]
    assert data["applications"][3]["app_id_uri"] == API_URI


def test_listapps_prints_a_table_for_a_person(run, api_app, native_app):
    lines = run("listapps").splitlines()
    assert lines[0].split() == ["NAME", "CLIENT", "ID", "TYPE", "STATE", "APP", "ID", "URI"]
    assert lines[1].split() == ["Native", "app", native_app.client_id, "public,", "ROPC", "enabled", "-"]
    assert lines[2].split() == ["Tasks", "API", api_app.client_id, "confidential", "enabled", API_URI]
    assert lines[-1] == "2 app(s)."


def test_listapps_of_an_empty_directory(run):
    assert run.json("listapps") == {"applications": [], "count": 0}


# listsecrets

@pytest.fixture
def secrets(daemon_app):
    old, old_value = client_secret_add(application=daemon_app, actor=ACTOR, description="old", expires_days=1)
    ClientSecret.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=3), expires_at=timezone.now() - timedelta(days=2))
    new, new_value = client_secret_add(application=daemon_app, actor=ACTOR, description="CI pipeline")
    old.refresh_from_db()
    return old, new, (old_value, new_value)


def test_listsecrets_shows_id_hint_description_dates_and_expiry_never_a_value(run, daemon_app, secrets):
    old, new, values = secrets
    data = run.json("listsecrets", daemon_app.client_id)
    assert data == {"client_id": daemon_app.client_id, "name": "Daemon", "secrets": [
        {"secret_id": str(new.key_id), "hint": new.hint, "description": "CI pipeline", "created_at": z(new.created_at),
         "expires_at": z(new.expires_at), "expired": False},
        {"secret_id": str(old.key_id), "hint": old.hint, "description": "old", "created_at": z(old.created_at),
         "expires_at": z(old.expires_at), "expired": True},
    ]}
    human = run("listsecrets", daemon_app.client_id)
    assert f"{old.hint}…" in human and "(expired)" in human and "2 secret(s)." in human
    for value in values:
        assert value not in str(data) and value not in human
        assert value[3:12] not in str(data) + human  # not even past the hint


def test_listsecrets_by_app_id_uri_and_of_a_public_client(run, api_app, native_app):
    assert run.json("listsecrets", API_URI.upper())["secrets"] == []
    assert "A public client has none." in run("listsecrets", native_app.client_id)


def test_listsecrets_of_an_unknown_app_fails(run):
    assert "Unknown application" in run.fails("listsecrets", str(uuid.uuid4()))


# removesecret

def test_removesecret_removes_one_secret_through_the_service(run, daemon_app, secrets):
    old, new, _ = secrets
    data = run.json("removesecret", daemon_app.client_id, str(new.key_id).upper())
    assert data == {"client_id": daemon_app.client_id, "secret_id": str(new.key_id), "hint": new.hint,
                    "description": "CI pipeline", "created_at": z(new.created_at), "expires_at": z(new.expires_at),
                    "expired": False, "removed": True}
    assert list(daemon_app.secrets.values_list("key_id", flat=True)) == [old.key_id]
    event = AuditEvent.objects.get(action="client_secret.remove")
    assert event.actor_label == "manage.py removesecret" and event.details["secret_id"] == str(new.key_id)


def test_removesecret_says_when_clients_stop_using_it(run, daemon_app, secrets):
    _, new, _ = secrets
    out = run("removesecret", daemon_app.client_id, str(new.key_id))
    assert out.startswith(f"Removed the secret {new.hint}… ({new.key_id}) of Daemon") and "refused within 1 s" in out


@pytest.mark.parametrize(("args", "message"), [
    (("DAEMON", "not-a-uuid"), "Secret id must be a UUID, the secret id addsecret and listsecrets print"),
    (("DAEMON", "00000000-0000-0000-0000-000000000000"), "'Daemon' has no client secret with id 00000000-"),
    (("API", "NEW"), "'Tasks API' has no client secret with id"),  # another app's secret
    ((str(uuid.uuid4()), "NEW"), "Unknown application"),
    (("DAEMON",), "the following arguments are required: SECRET_ID"),
])
def test_removesecret_rejects_bad_input_and_removes_nothing(run, daemon_app, api_app, secrets, args, message):
    names = {"DAEMON": daemon_app.client_id, "API": api_app.client_id, "NEW": str(secrets[1].key_id)}
    assert message in run.fails("removesecret", *(names.get(a, a) for a in args))
    assert daemon_app.secrets.count() == 2
