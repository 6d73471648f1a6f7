"""Admin accounts are not tenant users (issue 17 item 1): no policy issues them a token, by any grant,
and their names are a namespace apart from the directory's."""

import os
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from tests.conftest import DEMO_PASSWORD
from tests.flows.token_helpers import assert_error, post_token, refresh_data, ropc_data, sign_in

pytestmark = [pytest.mark.django_db]

ADMIN_PASSWORD = "Admin-Pass-123!"


@pytest.fixture
def ropc_setup(signing_key, user, policy, native_app) -> dict:
    return {"user": user, "app": native_app}


def createsuperuser(username: str, email: str | None = None) -> User:
    env = {"DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD}
    args = ["--noinput", "--username", username]
    with mock.patch.dict(os.environ, env):
        call_command("createsuperuser", *args, stdout=StringIO(), stderr=StringIO())
    account = User.objects.get(username=username, is_staff=True)
    if email:
        account.email = email
        account.save()
    return account


def test_a_superuser_cannot_sign_in_to_an_app_with_ropc(client, ropc_setup):
    createsuperuser("root", email="root@contoso.test")
    app = ropc_setup["app"]
    for name in ("root", "ROOT", "root@contoso.test"):
        response = post_token(client, ropc_data(str(app.client_id), username=name, password=ADMIN_PASSWORD))
        # The same answer as for a name nobody has: the admin account's existence is not revealed.
        assert_error(response, 400, "invalid_grant", "AADB2C90225")


def test_an_admin_and_a_directory_user_may_share_a_name_and_only_the_user_gets_tokens(client, ropc_setup):
    createsuperuser("alice")  # the directory user `alice` exists already
    app = ropc_setup["app"]
    body = sign_in(client, app)  # alice's directory password
    assert body["access_token"]
    response = post_token(client, ropc_data(str(app.client_id), password=ADMIN_PASSWORD))
    assert_error(response, 400, "invalid_grant", "AADB2C90225")


def test_a_refresh_token_held_by_an_admin_account_is_refused(client, ropc_setup):
    """A database from before the split could hold one (accounts.0004 moves them to the directory user)."""
    app = ropc_setup["app"]
    refresh_token = sign_in(client, app)["refresh_token"]
    User.objects.filter(pk=ropc_setup["user"].pk).update(is_staff=True)
    response = post_token(client, refresh_data(str(app.client_id), refresh_token))
    assert_error(response, 400, "invalid_grant", "AADB2C90128")


def test_a_directory_user_cannot_sign_in_to_the_admin(ropc_setup):
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": "alice", "password": DEMO_PASSWORD})
    assert response.status_code == 200 and "Please enter the correct" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_a_directory_user_with_a_session_is_not_let_in(ropc_setup):
    """Even a session made by other means (a pre-split login, say) does not reach the admin."""
    client = Client()
    client.force_login(ropc_setup["user"], backend="django.contrib.auth.backends.ModelBackend")
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_an_admin_account_signs_in_to_the_admin(db):
    client = Client()
    createsuperuser("root")
    response = client.post("/admin/login/?next=/admin/", {"username": "ROOT", "password": ADMIN_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
