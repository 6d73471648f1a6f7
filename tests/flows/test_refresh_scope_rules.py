"""A refresh never widens the grant (RFC 6749 §6; SPEC §4.2): not by `scope`, not by `resource`, and
not after consent was withdrawn."""

import pytest

from applications import services as applications
from tests.conftest import ACTOR, DEMO_PASSWORD
from tests.flows.token_helpers import post_token

pytestmark = [pytest.mark.django_db, pytest.mark.spec("RFC 6749", "6")]


@pytest.fixture
def tasks_api(api_app, native_app):
    scope = applications.delegated_scope_add(application=api_app, actor=ACTOR, value="tasks.read")
    applications.permission_add(client=native_app, api=api_app, values=["tasks.read"], actor=ACTOR)
    applications.admin_consent_grant(client=native_app, actor=ACTOR)
    return scope


def _sign_in(client, native_app, scope):
    response = post_token(client, {"grant_type": "password", "client_id": native_app.client_id,
                                   "username": "alice", "password": DEMO_PASSWORD, "scope": scope})
    assert response.status_code == 200, response.content
    return response.json()


def _refresh(client, native_app, token, **extra):
    return post_token(client, {"grant_type": "refresh_token", "client_id": native_app.client_id,
                               "refresh_token": token, **extra})


def test_resource_cannot_name_an_api_the_grant_did_not_cover(client, user, policy, native_app, api_app):
    tokens = _sign_in(client, native_app, "openid offline_access")
    for resource in (api_app.client_id, api_app.app_id_uri):
        response = _refresh(client, native_app, tokens["refresh_token"], resource=resource)
        assert response.status_code == 400 and response.json()["error"] == "invalid_scope", response.content
    assert "access_token" not in _refresh(client, native_app, tokens["refresh_token"]).json()


def test_resource_naming_the_original_resource_is_b2cs_refresh(client, user, policy, native_app):
    tokens = _sign_in(client, native_app, f"openid {native_app.client_id} offline_access")
    response = _refresh(client, native_app, tokens["refresh_token"], resource=native_app.client_id,
                        response_type="id_token")
    assert response.status_code == 200 and response.json()["resource"] == native_app.client_id


def test_withdrawn_consent_stops_refreshes(client, user, policy, native_app, api_app, tasks_api):
    tokens = _sign_in(client, native_app, f"openid {api_app.app_id_uri}/tasks.read offline_access")
    applications.admin_consent_revoke(client=native_app, actor=ACTOR)
    response = _refresh(client, native_app, tokens["refresh_token"])
    assert response.status_code == 400 and "consent_required" in response.json()["error_description"]


def test_the_app_id_uri_matches_in_any_case_for_client_credentials(client, api_app, daemon_app, policy):
    _, secret = applications.client_secret_add(application=daemon_app, actor=ACTOR)
    applications.permission_add(client=daemon_app, api=api_app, values=["app.read"], actor=ACTOR)
    applications.admin_consent_grant(client=daemon_app, actor=ACTOR)
    response = post_token(client, {"grant_type": "client_credentials", "client_id": daemon_app.client_id,
                                   "client_secret": secret, "scope": f"{api_app.app_id_uri.upper()}/.default"})
    assert response.status_code == 200 and response.json()["resource"] == api_app.client_id
