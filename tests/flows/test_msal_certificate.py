"""MSAL Python's ConfidentialClientApplication with a certificate credential, unchanged, against the token
endpoint (through Django's test client as MSAL's http_client): RS256 with a SHA-1 "thumbprint", PS256 with a
"public_certificate" (x5t#S256), and what MSAL's reuse of one assertion for 9 minutes means for single use."""

from urllib.parse import urlencode, urlsplit

import jwt
import msal
import pytest
from django.test.utils import override_settings

from applications import services as applications
from applications.certificates import client_certificate_add
from identity.keys.services import signing_key_rotate
from tests.applications.certificate_maker import certificate, pem, private_pem, rsa_key, sha1_hex
from tests.conftest import ACTOR, DEMO_PASSWORD
from tests.flows.conftest import BASE_URL, TENANT
from tests.flows.test_msal_discovery import DjangoHttpClient, _Response
from tests.flows.token_helpers import FORM, verify_jwt

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§8"), pytest.mark.spec("RFC 7523", "§2.2")]

AUTHORITY = f"{BASE_URL}/{TENANT}/B2C_1_ROPC_Auth"


class DjangoHttpPostClient(DjangoHttpClient):
    """Discovery and token requests, both answered by the Django test client; the token forms are kept."""

    def __init__(self, client):
        super().__init__(client)
        self.forms: list[dict] = []

    def post(self, url, params=None, data=None, headers=None, **kwargs):
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == BASE_URL
        self.forms.append(dict(data or {}))
        query = "&".join(q for q in (parts.query, urlencode(params or {})) if q)
        path = f"{parts.path}?{query}" if query else parts.path
        return _Response(self.client.post(path, urlencode(data or {}), content_type=FORM))


@pytest.fixture
def world(db, policy, api_app, daemon_app):
    """A daemon holding one certificate, consented app.read/app.write on the API, and a second API."""
    signing_key_rotate(actor=ACTOR)
    cert = certificate()
    client_certificate_add(application=daemon_app, certificate=pem(cert), actor=ACTOR)
    other = applications.application_register(actor=ACTOR, name="Other API", app_id_uri="https://contoso.onmicrosoft.com/other")
    applications.app_role_add(application=other, actor=ACTOR, value="other.read")
    applications.permission_add(client=daemon_app, api=api_app, values=["app.read", "app.write"], actor=ACTOR)
    applications.permission_add(client=daemon_app, api=other, values=["other.read"], actor=ACTOR)
    applications.admin_consent_grant(client=daemon_app, actor=ACTOR)
    return daemon_app, api_app, other, cert


def confidential(client, app, credential: dict):
    http = DjangoHttpPostClient(client)
    return msal.ConfidentialClientApplication(app.client_id, authority=AUTHORITY, client_credential=credential,
                                              http_client=http), http


def test_msal_with_a_sha1_thumbprint_gets_a_client_credentials_token(client, policy, world):
    daemon, api, _, cert = world
    app, http = confidential(client, daemon, {"private_key": private_pem(rsa_key()).decode(),
                                              "thumbprint": sha1_hex(cert)})
    result = app.acquire_token_for_client(scopes=[f"{api.app_id_uri}/.default"])
    assert "access_token" in result, result
    claims = verify_jwt(client, result["access_token"], policy=policy, audience=api.client_id)
    assert claims["azp"] == daemon.client_id and claims["roles"] == ["app.read", "app.write"]
    (form,) = http.forms
    header = jwt.get_unverified_header(form["client_assertion"])
    assert header["alg"] == "RS256" and "x5t" in header  # what MSAL sent: the Entra format we verify


def test_msal_with_a_public_certificate_signs_ps256_with_x5t_s256_and_gets_a_token(client, policy, world):
    daemon, api, _, cert = world
    app, http = confidential(client, daemon, {"private_key": private_pem(rsa_key()).decode(),
                                              "public_certificate": pem(cert).decode()})
    result = app.acquire_token_for_client(scopes=[f"{api.client_id}/.default"])
    assert "access_token" in result, result
    verify_jwt(client, result["access_token"], policy=policy, audience=api.client_id)
    header = jwt.get_unverified_header(http.forms[0]["client_assertion"])
    assert header["alg"] == "PS256" and "x5t#S256" in header


def test_msal_reuses_one_assertion_for_a_second_api_and_it_is_accepted_by_default(client, policy, world):
    daemon, api, other, cert = world
    app, http = confidential(client, daemon, {"private_key": private_pem(rsa_key()).decode(),
                                              "thumbprint": sha1_hex(cert)})
    assert "access_token" in app.acquire_token_for_client(scopes=[f"{api.app_id_uri}/.default"])
    result = app.acquire_token_for_client(scopes=[f"{other.app_id_uri}/.default"])
    assert "access_token" in result, result
    first, second = http.forms
    assert first["client_assertion"] == second["client_assertion"]  # MSAL's AutoRefresher: same jti


@override_settings(CLIENT_ASSERTION_SINGLE_USE=True)
def test_with_single_use_on_msals_reused_assertion_is_refused_for_the_second_api(client, policy, world):
    daemon, api, other, cert = world
    app, _ = confidential(client, daemon, {"private_key": private_pem(rsa_key()).decode(),
                                           "thumbprint": sha1_hex(cert)})
    assert "access_token" in app.acquire_token_for_client(scopes=[f"{api.app_id_uri}/.default"])
    result = app.acquire_token_for_client(scopes=[f"{other.app_id_uri}/.default"])
    assert result["error"] == "invalid_client" and "used already" in result["error_description"]


def test_msal_confidential_ropc_and_a_silent_refresh_with_a_certificate(client, policy, world, user):
    _, _, _, cert = world
    web = applications.application_register(actor=ACTOR, name="Web app", ropc=True)
    client_certificate_add(application=web, certificate=pem(cert), actor=ACTOR)
    app, http = confidential(client, web, {"private_key": private_pem(rsa_key()).decode(),
                                           "thumbprint": sha1_hex(cert)})
    result = app.acquire_token_by_username_password("alice", DEMO_PASSWORD, scopes=[web.client_id])
    assert "access_token" in result, result
    (account,) = app.get_accounts()
    refreshed = app.acquire_token_silent([web.client_id], account=account, force_refresh=True)
    assert refreshed and "access_token" in refreshed, refreshed
    assert [form["grant_type"] for form in http.forms] == ["password", "refresh_token"]
    verify_jwt(client, refreshed["id_token"], policy=policy, audience=web.client_id)


def test_msal_reports_an_unregistered_certificate_as_invalid_client(client, policy, world):
    daemon, api, _, _ = world
    stranger = certificate(rsa_key("stranger"))
    app, _ = confidential(client, daemon, {"private_key": private_pem(rsa_key("stranger")).decode(),
                                           "thumbprint": sha1_hex(stranger)})
    result = app.acquire_token_for_client(scopes=[f"{api.app_id_uri}/.default"])
    assert result["error"] == "invalid_client"
    assert result["error_description"].startswith("AADSTS700027:")
