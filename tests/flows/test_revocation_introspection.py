"""Revocation (RFC 7009) and introspection (RFC 7662) for confidential clients (SPEC §2)."""

import base64
from urllib.parse import urlencode

import pytest

from accounts import services as accounts
from applications import services as applications
from identity.demo import demo_tenant_create

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC", "2")]
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def demo(db):
    return demo_tenant_create(actor="tests")


@pytest.fixture
def web_app(demo):
    """A confidential app with ROPC, so it holds user refresh tokens it may revoke and introspect."""
    app = applications.application_register(actor="tests", name="Web app", ropc=True)
    _, secret = applications.client_secret_add(application=app, actor="tests")
    return app, secret


def _post(client, demo, endpoint, data, *, basic=None):
    headers = {}
    if basic:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
    return client.post(f"/{demo.tenant}/{demo.policy_id}/oauth2/v2.0/{endpoint}", urlencode(data),
                       content_type=FORM, **headers)


def _sign_in(client, demo, app, secret):
    response = _post(client, demo, "token", {
        "grant_type": "password", "client_id": app.client_id, "client_secret": secret, "username": demo.username,
        "password": demo.password, "scope": f"openid {app.client_id} offline_access",
    })
    assert response.status_code == 200, response.content
    return response.json()


def test_revoking_a_refresh_token_revokes_its_family(client, demo, web_app):
    app, secret = web_app
    tokens = _sign_in(client, demo, app, secret)
    response = _post(client, demo, "revoke", {"token": tokens["refresh_token"]}, basic=(app.client_id, secret))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    refresh = _post(client, demo, "token", {"grant_type": "refresh_token", "client_id": app.client_id,
                                            "client_secret": secret, "refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"


def test_revoking_an_unknown_or_foreign_token_answers_200_and_changes_nothing(client, demo, web_app):
    app, secret = web_app
    tokens = _sign_in(client, demo, app, secret)
    response = _post(client, demo, "revoke", {"token": "not-a-token", "client_id": app.client_id,
                                              "client_secret": secret})
    assert response.status_code == 200
    other = applications.application_register(actor="tests", name="Other")
    _, other_secret = applications.client_secret_add(application=other, actor="tests")
    response = _post(client, demo, "revoke", {"token": tokens["refresh_token"], "client_id": other.client_id,
                                              "client_secret": other_secret})
    assert response.status_code == 200
    assert _post(client, demo, "introspect", {"token": tokens["refresh_token"]},
                 basic=(app.client_id, secret)).json()["active"] is True


def test_access_tokens_cannot_be_revoked(client, demo, web_app):
    app, secret = web_app
    tokens = _sign_in(client, demo, app, secret)
    for data in ({"token": tokens["access_token"]}, {"token": "x", "token_type_hint": "access_token"}):
        response = _post(client, demo, "revoke", data, basic=(app.client_id, secret))
        assert response.status_code == 400 and response.json()["error"] == "unsupported_token_type"


def test_public_clients_and_bad_secrets_are_refused(client, demo, web_app):
    response = _post(client, demo, "revoke", {"token": "x", "client_id": demo.native_client_id})
    assert response.status_code == 400 and response.json()["error"] == "unauthorized_client"
    app, _ = web_app
    response = _post(client, demo, "introspect", {"token": "x"}, basic=(app.client_id, "wrong"))
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Basic")
    assert response.json()["error"] == "invalid_client"


def test_introspection_of_refresh_and_access_tokens(client, demo, web_app):
    app, secret = web_app
    tokens = _sign_in(client, demo, app, secret)
    refresh = _post(client, demo, "introspect", {"token": tokens["refresh_token"]}, basic=(app.client_id, secret))
    assert refresh.status_code == 200
    assert refresh.json() | {"exp": 0, "iat": 0} == {
        "active": True, "scope": f"openid {app.client_id} offline_access", "client_id": app.client_id,
        "token_type": "refresh_token", "exp": 0, "iat": 0, "sub": refresh.json()["sub"],
    }
    access = _post(client, demo, "introspect", {"token": tokens["access_token"]}, basic=(app.client_id, secret))
    body = access.json()
    assert body["active"] is True and body["aud"] == app.client_id and body["client_id"] == app.client_id


def test_revoked_sessions_make_the_users_tokens_inactive(client, demo, web_app):
    app, secret = web_app
    tokens = _sign_in(client, demo, app, secret)
    from accounts.selectors import user_get

    accounts.user_revoke_sessions(user=user_get(demo.username), actor="tests")
    for token in (tokens["access_token"], tokens["refresh_token"]):
        response = _post(client, demo, "introspect", {"token": token}, basic=(app.client_id, secret))
        assert response.json() == {"active": False}


def test_only_the_audience_or_the_issued_to_client_learns_about_a_token(client, demo, web_app):
    cc = _post(client, demo, "token", {"grant_type": "client_credentials", "client_id": demo.daemon_client_id,
                                       "client_secret": demo.daemon_client_secret,
                                       "scope": f"{demo.api_app_id_uri}/.default"}).json()
    app, secret = web_app
    assert _post(client, demo, "introspect", {"token": cc["access_token"]},
                 basic=(app.client_id, secret)).json() == {"active": False}
    own = _post(client, demo, "introspect", {"token": cc["access_token"]},
                basic=(demo.daemon_client_id, demo.daemon_client_secret)).json()
    assert own["active"] is True and own["scope"] == "app.read app.write"


def test_a_tampered_or_foreign_jwt_is_inactive(client, demo, web_app):
    app, secret = web_app
    tokens = _sign_in(client, demo, app, secret)
    header, payload, signature = tokens["access_token"].split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    assert _post(client, demo, "introspect", {"token": tampered},
                 basic=(app.client_id, secret)).json() == {"active": False}


def test_the_first_token_of_a_fresh_deployment_creates_the_signing_key(client, demo):
    from identity.keys.models import SigningKey

    SigningKey.objects.all().delete()
    response = _post(client, demo, "token", {
        "grant_type": "client_credentials", "client_id": demo.daemon_client_id,
        "client_secret": demo.daemon_client_secret, "scope": f"{demo.api_app_id_uri}/.default"})
    assert response.status_code == 200 and SigningKey.objects.filter(active=True).count() == 1
