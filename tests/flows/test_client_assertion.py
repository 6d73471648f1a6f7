"""Certificate credentials over HTTP: `private_key_jwt` client authentication (RFC 7523 §2.2, OIDC Core §9) as
Microsoft Entra accepts it, on every endpoint where a confidential client authenticates."""

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta
from types import SimpleNamespace
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from applications import services as applications
from applications.certificates import client_certificate_add, client_certificate_remove
from audit.models import SignInEvent
from identity.discovery import token_endpoint_url
from identity.keys.services import signing_key_rotate
from identity.oauth.client_assertion import JWT_BEARER
from identity.tenant import tenant_id
from policies import services as policies
from tests.applications.certificate_maker import assertion, b64url, certificate, der, pem, rsa_key, sha1_hex
from tests.conftest import ACTOR
from tests.flows.conftest import BASE_URL, TENANT
from tests.flows.token_helpers import FORM, ROPC_POLICY, assert_error, basic_auth, post_token, ropc_data, verify_jwt

pytestmark = [pytest.mark.django_db, pytest.mark.spec("RFC 7523", "§2.2, §3"), pytest.mark.spec("OIDC Core", "§9")]

AUD = f"{BASE_URL}/{TENANT}/b2c_1_ropc_auth/oauth2/v2.0/token"


@pytest.fixture
def cc(db, policy, api_app, daemon_app):
    """A daemon with one registered certificate, granted app.read and app.write on the API."""
    signing_key_rotate(actor=ACTOR)
    cert = certificate()
    row = client_certificate_add(application=daemon_app, certificate=pem(cert), actor=ACTOR)
    applications.permission_add(client=daemon_app, api=api_app, values=["app.read", "app.write"], actor=ACTOR)
    applications.admin_consent_grant(client=daemon_app, actor=ACTOR)
    return SimpleNamespace(policy=policy, api=api_app, daemon=daemon_app, cert=cert, row=row,
                           scope=f"{api_app.app_id_uri}/.default")


def signed(cc, **kwargs) -> str:
    kwargs.setdefault("aud", AUD)
    return assertion(cc.cert, client_id=cc.daemon.client_id, **kwargs)


def cc_data(cc, client_assertion: str | None = None, **overrides) -> dict:
    data = {"grant_type": "client_credentials", "client_id": cc.daemon.client_id, "scope": cc.scope,
            "client_assertion_type": JWT_BEARER, "client_assertion": client_assertion or signed(cc)}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def refused(response, code: str | None, contains: str) -> dict:
    return assert_error(response, 401, "invalid_client", code, contains=contains)


def hand_signed(header: dict, claims: dict, sign) -> str:
    """A JWT made without PyJWT's guards (PyJWT will not sign `none`, nor HMAC with a public key)."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64url(sign(signing_input.encode()))}"


def fresh_claims(cc) -> dict:
    now = int(time.time())
    return {"aud": AUD, "iss": cc.daemon.client_id, "sub": cc.daemon.client_id, "jti": "j-1", "nbf": now,
            "exp": now + 300}


# --- accepted ----------------------------------------------------------------------------------------


def test_an_rs256_assertion_with_an_x5t_thumbprint_gets_a_client_credentials_token(client, cc):
    response = post_token(client, cc_data(cc))
    assert response.status_code == 200, response.content
    claims = verify_jwt(client, response.json()["access_token"], policy=cc.policy, audience=cc.api.client_id)
    assert claims["azp"] == cc.daemon.client_id and claims["roles"] == ["app.read", "app.write"]


def test_a_ps256_assertion_with_an_x5t_s256_thumbprint_is_accepted(client, cc):
    response = post_token(client, cc_data(cc, signed(cc, alg="PS256", thumbprint="x5t#S256")))
    assert response.status_code == 200, response.content


def test_both_thumbprints_together_are_accepted_when_both_name_the_certificate(client, cc):
    s256 = b64url(hashlib.sha256(der(cc.cert)).digest())
    response = post_token(client, cc_data(cc, signed(cc, headers={"x5t#S256": s256})))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("shape", ["path", "query"])
@pytest.mark.parametrize("aud", [
    AUD,
    f"{BASE_URL}/{TENANT}/oauth2/v2.0/token?p=b2c_1_ropc_auth",
    f"{BASE_URL}/{TENANT}/B2C_1_ROPC_Auth/oauth2/v2.0/token",
    f"{BASE_URL}/{TENANT}/oauth2/v2.0/token?p=B2C_1_ROPC_Auth",
    "TENANT_ID",
])
def test_either_url_shape_of_this_policys_token_endpoint_is_accepted_as_aud(client, cc, shape, aud):
    aud = aud.replace("TENANT_ID", f"{BASE_URL}/{tenant_id()}/b2c_1_ropc_auth/oauth2/v2.0/token")
    response = post_token(client, cc_data(cc, signed(cc, aud=aud)), shape=shape)
    assert response.status_code == 200, response.content


def test_the_client_id_may_be_left_out_when_the_assertion_names_the_client(client, cc):
    response = post_token(client, cc_data(cc, client_id=None))
    assert response.status_code == 200, response.content
    assert SignInEvent.objects.order_by("-id").first().client_id == cc.daemon.client_id


def test_an_upper_case_client_id_in_body_and_claims_names_the_same_client(client, cc):
    upper = cc.daemon.client_id.upper()
    response = post_token(client, cc_data(cc, assertion(cc.cert, client_id=upper, aud=AUD), client_id=upper))
    assert response.status_code == 200, response.content


def test_reusing_an_assertion_within_its_lifetime_is_accepted_by_default_as_entra_does(client, cc):
    one = signed(cc)
    assert post_token(client, cc_data(cc, one)).status_code == 200
    assert post_token(client, cc_data(cc, one)).status_code == 200


def test_a_steady_state_token_request_reads_no_certificate_from_the_database(client, cc):
    assert post_token(client, cc_data(cc)).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert post_token(client, cc_data(cc)).status_code == 200
    assert not [q["sql"] for q in queries if "clientcertificate" in q["sql"].lower()]


def test_a_confidential_ropc_client_signs_in_and_refreshes_with_assertions(client, cc, user):
    web = applications.application_register(actor=ACTOR, name="Web app", ropc=True)
    client_certificate_add(application=web, certificate=pem(cc.cert), actor=ACTOR)
    auth = {"client_assertion_type": JWT_BEARER}
    data = ropc_data(web.client_id, client_assertion=assertion(cc.cert, client_id=web.client_id, aud=AUD), **auth)
    response = post_token(client, data)
    assert response.status_code == 200, response.content
    refresh = {"grant_type": "refresh_token", "client_id": web.client_id, "refresh_token": response.json()[
        "refresh_token"], "client_assertion": assertion(cc.cert, client_id=web.client_id, aud=AUD), **auth}
    response = post_token(client, refresh)
    assert response.status_code == 200, response.content
    verify_jwt(client, response.json()["id_token"], policy=cc.policy, audience=web.client_id)
    # Without either credential, the confidential client is refused as before.
    refused(post_token(client, ropc_data(web.client_id)), "AADB2C90079", "client_secret")


def test_revocation_and_introspection_accept_an_assertion(client, cc, user):
    web = applications.application_register(actor=ACTOR, name="Web app", ropc=True)
    client_certificate_add(application=web, certificate=pem(cc.cert), actor=ACTOR)

    def auth() -> dict:
        return {"client_id": web.client_id, "client_assertion_type": JWT_BEARER,
                "client_assertion": assertion(cc.cert, client_id=web.client_id, aud=AUD)}

    tokens = post_token(client, {**ropc_data(web.client_id), **auth()}).json()
    base = f"/{TENANT}/{ROPC_POLICY}/oauth2/v2.0"
    response = client.post(f"{base}/introspect", urlencode({"token": tokens["refresh_token"], **auth()}),
                           content_type=FORM)
    assert response.status_code == 200 and response.json()["active"] is True, response.content
    response = client.post(f"{base}/revoke", urlencode({"token": tokens["refresh_token"], **auth()}),
                           content_type=FORM)
    assert response.status_code == 200, response.content
    bad = {**auth(), "client_assertion": assertion(cc.cert, client_id=web.client_id, aud=AUD, key=rsa_key("x"))}
    response = client.post(f"/{TENANT}/oauth2/v2.0/introspect?p={ROPC_POLICY}",
                           urlencode({"token": tokens["refresh_token"], **bad}), content_type=FORM)
    refused(response, "AADSTS700027", "signature")


# --- refused -----------------------------------------------------------------------------------------


def test_a_signature_by_another_key_is_refused(client, cc):
    forged = signed(cc, key=rsa_key("attacker"))  # the registered certificate's thumbprint, another key
    body = refused(post_token(client, cc_data(cc, forged)), "AADSTS700027", "did not match the expected signature")
    assert SignInEvent.objects.order_by("-id").first().error == "invalid_client"
    assert "AADSTS700027" in body["error_description"]


@pytest.mark.parametrize("aud", [
    f"{BASE_URL}/{TENANT}/b2c_1_other/oauth2/v2.0/token",  # another policy's endpoint
    f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token",
    AUD + "/", AUD.upper(), f"{BASE_URL}/{TENANT}/b2c_1_ropc_auth/v2.0/", "",
])
def test_an_assertion_for_another_audience_is_refused(client, cc, aud):
    policies.policy_create_or_update(actor=ACTOR, policy_id="B2C_1_Other")
    refused(post_token(client, cc_data(cc, signed(cc, aud=aud))), "AADSTS700023", AUD)


def test_an_audience_list_is_refused_even_when_it_holds_the_token_endpoint(client, cc):
    refused(post_token(client, cc_data(cc, signed(cc, aud=[AUD, "https://evil.test"]))), "AADSTS700023", "aud")


def test_an_assertion_signed_for_one_policy_is_refused_at_another(client, cc):
    policies.policy_create_or_update(actor=ACTOR, policy_id="B2C_1_Other")
    response = post_token(client, cc_data(cc), policy="B2C_1_Other")
    refused(response, "AADSTS700023", token_endpoint_url(policies.policy_find("B2C_1_Other")))


def test_an_expired_assertion_is_refused(client, cc):
    now = int(time.time())
    expired = signed(cc, iat=now - 900, nbf=now - 900, exp=now - 120)
    refused(post_token(client, cc_data(cc, expired)), "AADSTS700024", "expired")


def test_an_assertion_not_valid_yet_is_refused(client, cc):
    future = int(time.time()) + 600
    refused(post_token(client, cc_data(cc, signed(cc, nbf=future))), "AADSTS700024", "not valid yet")


def test_an_assertion_valid_for_too_long_is_refused(client, cc):
    refused(post_token(client, cc_data(cc, signed(cc, lifetime=3600))), "AADSTS700024", "10 minutes")


def test_a_little_clock_skew_is_tolerated(client, cc):
    now = int(time.time())
    response = post_token(client, cc_data(cc, signed(cc, iat=now + 30, nbf=now + 30, exp=now + 630)))
    assert response.status_code == 200, response.content
    response = post_token(client, cc_data(cc, signed(cc, iat=now - 640, nbf=now - 640, exp=now - 30)))
    assert response.status_code == 200, response.content


@override_settings(CLIENT_ASSERTION_SINGLE_USE=True)
def test_with_single_use_on_a_replayed_jti_is_refused(client, cc):
    one = signed(cc)
    assert post_token(client, cc_data(cc, one)).status_code == 200
    refused(post_token(client, cc_data(cc, one)), None, "used already")
    # Another assertion with the same jti is a replay too; a new jti is not.
    refused(post_token(client, cc_data(cc, signed(cc, jti=json.loads(base64.urlsafe_b64decode(
        one.split(".")[1] + "==="))["jti"]))), None, "used already")
    assert post_token(client, cc_data(cc)).status_code == 200


@override_settings(CLIENT_ASSERTION_SINGLE_USE=True)
def test_with_single_use_on_and_the_cache_down_an_assertion_gets_503_not_a_pass(client, cc):
    with mock.patch("django.core.cache.cache.add", side_effect=ConnectionError("redis down")):
        response = post_token(client, cc_data(cc))
    assert_error(response, 503, "temporarily_unavailable")
    assert response["Retry-After"]


def test_alg_none_is_refused(client, cc):
    header = {"alg": "none", "typ": "JWT", "x5t": b64url(bytes.fromhex(sha1_hex(cc.cert)))}
    token = hand_signed(header, fresh_claims(cc), lambda _: b"")
    refused(post_token(client, cc_data(cc, token)), "AADSTS50027", "RS256 or PS256")


def test_hs256_keyed_with_the_public_certificate_is_refused(client, cc):
    header = {"alg": "HS256", "typ": "JWT", "x5t": b64url(bytes.fromhex(sha1_hex(cc.cert)))}
    for secret in (pem(cc.cert), cc.row.certificate.encode()):
        token = hand_signed(header, fresh_claims(cc), lambda data, s=secret: hmac.digest(s, data, "sha256"))
        refused(post_token(client, cc_data(cc, token)), "AADSTS50027", "RS256 or PS256")


def test_an_unregistered_certificate_is_refused_naming_its_thumbprint(client, cc):
    stranger = certificate(rsa_key("stranger"))
    token = assertion(stranger, client_id=cc.daemon.client_id, aud=AUD, key=rsa_key("stranger"))
    refused(post_token(client, cc_data(cc, token)), "AADSTS700027", f"key was not found., Thumbprint of key used "
            f"by client: '{sha1_hex(stranger)}'")


def test_a_removed_certificate_stops_working_at_once(client, cc):
    assert post_token(client, cc_data(cc)).status_code == 200
    client_certificate_remove(certificate=cc.row, actor=ACTOR)
    refused(post_token(client, cc_data(cc)), "AADSTS700027", "key was not found")


def test_an_expired_certificate_is_refused(client, cc):
    assert post_token(client, cc_data(cc)).status_code == 200
    cc.row.not_before -= timedelta(days=400)
    cc.row.not_after = cc.row.not_before + timedelta(days=300)
    cc.row.save()  # as if a year had passed
    refused(post_token(client, cc_data(cc)), "AADSTS700027", "The key used is expired")


def test_a_secret_and_an_assertion_together_are_refused(client, cc):
    _, secret = applications.client_secret_add(application=cc.daemon, actor=ACTOR)
    refused(post_token(client, cc_data(cc, client_secret=secret)), None, "not both")
    response = post_token(client, cc_data(cc, client_id=None), headers=basic_auth(cc.daemon.client_id, secret))
    refused(response, None, "not both")
    assert response["WWW-Authenticate"].startswith("Basic")


def test_an_assertion_for_another_client_is_refused(client, cc):
    other = applications.application_register(actor=ACTOR, name="Other daemon")
    client_certificate_add(application=other, certificate=pem(cc.cert), actor=ACTOR)  # the same certificate
    token = assertion(cc.cert, client_id=other.client_id, aud=AUD)
    refused(post_token(client, cc_data(cc, token)), "AADSTS700021", "client_id")
    mixed = assertion(cc.cert, client_id=cc.daemon.client_id, aud=AUD, iss=other.client_id)
    refused(post_token(client, cc_data(cc, mixed)), "AADSTS700021", "iss and sub")


@pytest.mark.parametrize(("claim", "value"), [("jti", None), ("exp", None), ("jti", ""), ("aud", None)])
def test_an_assertion_missing_a_required_claim_is_refused(client, cc, claim, value):
    response = post_token(client, cc_data(cc, signed(cc, **{claim: value})))
    refused(response, "AADSTS50027", claim)


def test_an_assertion_without_a_thumbprint_is_refused(client, cc):
    token = hand_signed({"alg": "RS256", "typ": "JWT"}, fresh_claims(cc), lambda _: b"sig")
    refused(post_token(client, cc_data(cc, token)), "AADSTS50027", "x5t")


@pytest.mark.parametrize("value", ["", "!!!", b64url(b"short"), 42])
def test_a_malformed_thumbprint_is_refused(client, cc, value):
    token = hand_signed({"alg": "RS256", "x5t": value}, fresh_claims(cc), lambda _: b"sig")
    refused(post_token(client, cc_data(cc, token)), "AADSTS50027", "thumbprint")


@pytest.mark.parametrize("value", ["not-a-jwt", "a.b.c", "e30.e30.", "." * 2, "x" * 4000])
def test_garbage_assertions_are_invalid_client_never_a_500(client, cc, value):
    refused(post_token(client, cc_data(cc, value)), "AADSTS50027", "Invalid JWT token.")
    refused(post_token(client, cc_data(cc, value, client_id=None)), "AADSTS50027", "Invalid JWT token.")


def test_an_unsupported_assertion_type_is_refused(client, cc):
    saml = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"
    response = post_token(client, cc_data(cc, client_assertion_type=saml))
    refused(response, None, "client_assertion_type")


def test_an_assertion_type_without_an_assertion_is_a_missing_parameter(client, cc):
    data = cc_data(cc)
    data["client_assertion"] = ""
    response = post_token(client, data)
    assert_error(response, 400, "invalid_request", "AADB2C90083", contains="client_assertion")


def test_a_public_client_sending_an_assertion_is_refused(client, cc, native_app, user):
    token = assertion(cc.cert, client_id=native_app.client_id, aud=AUD)
    data = ropc_data(native_app.client_id, client_assertion_type=JWT_BEARER, client_assertion=token)
    refused(post_token(client, data), "AADSTS700025", "public")
