"""The demo tenant `make run` creates (README quick start)."""

import pytest
from django.contrib.auth.hashers import check_password

from applications.models import Application, ClientSecret
from applications.selectors import roles_consented
from identity.demo import curl_commands, demo_tenant_create, directory_is_empty
from identity.keys.models import SigningKey

pytestmark = pytest.mark.django_db


def test_the_demo_tenant_has_what_the_curl_commands_need(db):
    assert directory_is_empty()
    demo = demo_tenant_create(actor="tests")
    assert not directory_is_empty()
    native = Application.objects.get(client_id=demo.native_client_id)
    assert native.is_public and native.ropc_enabled
    api = Application.objects.get(app_id_uri=demo.api_app_id_uri)
    daemon = Application.objects.get(client_id=demo.daemon_client_id)
    assert roles_consented(client=daemon, api=api) == ["app.read", "app.write"]
    assert check_password(demo.daemon_client_secret, ClientSecret.objects.get(application=daemon).secret_hash)
    assert SigningKey.objects.filter(active=True).exists()
    commands = dict(curl_commands(demo, "http://127.0.0.1:8000"))
    assert "grant_type=password" in commands["ROPC sign-in (native app)"]
    assert f"{demo.api_app_id_uri}/.default" in commands["Client credentials (client_secret_post)"]


def test_demotenant_creates_once_and_prints_the_commands_again(settings, tmp_path):
    import json
    from io import StringIO

    from django.core.management import call_command

    settings.DEBUG = True
    credentials = tmp_path / "demo.json"
    out = StringIO()
    call_command("demotenant", "--credentials-file", str(credentials), "--json", stdout=out)
    first = json.loads(out.getvalue())
    assert first["created"] and oct(credentials.stat().st_mode & 0o777) == "0o600"
    out = StringIO()
    call_command("demotenant", "--credentials-file", str(credentials), "--json", stdout=out)
    second = json.loads(out.getvalue())
    assert not second["created"] and second["commands"] == first["commands"]
    assert Application.objects.count() == 3
    out = StringIO()
    call_command("demotenant", stdout=out)
    assert "not empty" in out.getvalue()


def test_demotenant_refuses_outside_debug_and_prints_no_credentials(settings, tmp_path):
    """It prints a working password and client secret: never on a production deployment."""
    from io import StringIO

    from django.core.management import CommandError, call_command

    settings.DEBUG = False
    out = StringIO()
    with pytest.raises(CommandError, match=r"^demotenant is for development only .*DEBUG=true"):
        call_command("demotenant", "--credentials-file", str(tmp_path / "demo.json"), stdout=out)
    assert out.getvalue() == "" and not (tmp_path / "demo.json").exists()
    assert directory_is_empty()  # nothing was created either
