"""Client credentials over HTTP (SPEC §4.3, §3; seeds/b2c-client-credentials.md).

A daemon app asks for `{App ID URI}/.default` (or `{API client id}/.default`) and gets an app-only
access token carrying the app roles admin consent granted it on that API — in `scp` and `roles`.
Every issued token is verified against the published JWKS (signature, iss, aud, exp, kid).
"""

import base64
import re
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import quote, quote_plus

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applications import services as applications
from applications.models import AppRole, ClientSecret
from audit.models import SignInEvent
from identity.keys.services import signing_key_rotate
from tests.conftest import ACTOR
from tests.flows.token_helpers import ROPC_POLICY, assert_error, basic_auth, post_token, verify_jwt

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§4.3")]

RESPONSE_FIELDS = {"access_token", "token_type", "not_before", "expires_in", "expires_on", "resource"}


@pytest.fixture
def cc(db, policy, api_app, daemon_app):
    """A signing key, the ROPC policy, an API with app.read/app.write, a daemon granted both."""
    signing_key_rotate(actor=ACTOR)
    _, secret = applications.client_secret_add(application=daemon_app, actor=ACTOR, description="first")
    applications.permission_add(client=daemon_app, api=api_app, values=["app.read", "app.write"], actor=ACTOR)
    applications.admin_consent_grant(client=daemon_app, actor=ACTOR)
    return SimpleNamespace(policy=policy, api=api_app, daemon=daemon_app, secret=secret,
                           scope=f"{api_app.app_id_uri}/.default")


def cc_data(cc, **overrides) -> dict:
    data = {"grant_type": "client_credentials", "client_id": cc.daemon.client_id, "client_secret": cc.secret,
            "scope": cc.scope}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def basic_data(cc, **overrides) -> dict:
    return cc_data(cc, client_id=None, client_secret=None, **overrides)


def raw_basic(raw: bytes) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(raw).decode()}


def issued_claims(client, cc, response) -> dict:
    assert response.status_code == 200, response.content
    return verify_jwt(client, response.json()["access_token"], policy=cc.policy, audience=cc.api.client_id)


def last_event() -> SignInEvent:
    return SignInEvent.objects.order_by("-id").first()


# --- success -----------------------------------------------------------------------------------------


def test_client_secret_post_with_the_app_id_uri_scope_returns_exactly_the_b2c_fields(client, cc):
    response = post_token(client, cc_data(cc))
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == RESPONSE_FIELDS  # no refresh_token, no id_token, nothing else
    assert body["token_type"] == "Bearer"
    assert body["resource"] == cc.api.client_id
    assert body["expires_in"] == cc.policy.access_token_lifetime_minutes * 60
    assert body["expires_on"] == body["not_before"] + body["expires_in"]
    claims = verify_jwt(client, body["access_token"], policy=cc.policy, audience=cc.api.client_id)
    assert claims["nbf"] == body["not_before"] and claims["exp"] == body["expires_on"]


def test_the_api_client_id_form_of_the_default_scope_works_too(client, cc):
    response = post_token(client, cc_data(cc, scope=f"{cc.api.client_id}/.default"))
    assert response.json()["resource"] == cc.api.client_id
    assert issued_claims(client, cc, response)["roles"] == ["app.read", "app.write"]


def test_the_policy_may_travel_in_the_query_string(client, cc):
    response = post_token(client, cc_data(cc), shape="query")
    assert issued_claims(client, cc, response)["tfp"] == ROPC_POLICY.lower()


def test_client_secret_basic_authenticates_the_client(client, cc):
    response = post_token(client, basic_data(cc), headers=basic_auth(cc.daemon.client_id, cc.secret))
    assert set(response.json()) == RESPONSE_FIELDS
    assert issued_claims(client, cc, response)["azp"] == cc.daemon.client_id


def test_the_app_only_token_carries_the_b2c_claims(client, cc):
    claims = issued_claims(client, cc, post_token(client, cc_data(cc)))
    principal = str(cc.daemon.service_principal_id)
    assert claims["aud"] == cc.api.client_id
    assert claims["azp"] == cc.daemon.client_id
    assert claims["sub"] == principal and claims["oid"] == principal
    assert principal != cc.daemon.client_id and principal != str(cc.daemon.object_id)
    assert claims["scp"] == "app.read app.write"
    assert claims["roles"] == ["app.read", "app.write"]
    assert claims["tfp"] == "b2c_1_ropc_auth"
    assert claims["ver"] == "1.0"
    # App-only: nothing about a user.
    assert not {"name", "emails", "idp", "auth_time", "given_name", "family_name"} & set(claims)


@pytest.mark.spec("RFC 6749", "§2.3.1")
def test_basic_credentials_are_form_decoded_after_base64(client, cc):
    # Server-generated secrets are URL-safe; a secret with characters form-encoding changes shows
    # that id and secret are form-decoded (an imported or legacy secret could look like this).
    odd = "a+b/c:d%e f&g=h~é"
    ClientSecret.objects.create(
        application=cc.daemon, hint=odd[:3], secret_hash=make_password(odd, hasher=applications.CLIENT_SECRET_HASHER),
        expires_at=timezone.now() + timedelta(days=1),
    )
    encoded_id = "".join(f"%{byte:02X}" for byte in cc.daemon.client_id.encode())  # every character escaped
    raw = f"{encoded_id}:{quote_plus(odd)}".encode()
    response = post_token(client, basic_data(cc), headers=raw_basic(raw))
    assert response.status_code == 200, response.content
    assert issued_claims(client, cc, response)["azp"] == cc.daemon.client_id
    # quote() leaves '/' alone and writes ' ' as %20: the same value once form-decoded.
    raw = f"{cc.daemon.client_id}:{quote(odd, safe='/')}".encode()
    response = post_token(client, basic_data(cc), headers=raw_basic(raw))
    assert response.status_code == 200, response.content
    # Not form-encoded: '+' decodes to a space and '%e ' is no escape, so it is another secret.
    raw = f"{cc.daemon.client_id}:{odd}".encode()
    response = post_token(client, basic_data(cc), headers=raw_basic(raw))
    assert_error(response, 401, "invalid_client")


def test_the_basic_header_scheme_is_case_insensitive(client, cc):
    header = basic_auth(cc.daemon.client_id, cc.secret)["HTTP_AUTHORIZATION"].replace("Basic", "bAsIc")
    assert post_token(client, basic_data(cc), headers={"HTTP_AUTHORIZATION": header}).status_code == 200


def test_an_upper_case_client_id_names_the_same_client(client, cc):
    response = post_token(client, cc_data(cc, client_id=cc.daemon.client_id.upper()))
    assert issued_claims(client, cc, response)["azp"] == cc.daemon.client_id


# --- which roles -------------------------------------------------------------------------------------


def test_a_requested_role_without_consent_is_not_in_the_token(client, cc):
    applications.app_role_add(application=cc.api, actor=ACTOR, value="app.admin", display_name="Admin")
    applications.permission_add(client=cc.daemon, api=cc.api, values=["app.admin"], actor=ACTOR)
    claims = issued_claims(client, cc, post_token(client, cc_data(cc)))
    assert claims["scp"] == "app.read app.write"
    assert claims["roles"] == ["app.read", "app.write"]
    # Once consented, it is.
    applications.admin_consent_grant(client=cc.daemon, actor=ACTOR)
    claims = issued_claims(client, cc, post_token(client, cc_data(cc)))
    assert claims["scp"] == "app.admin app.read app.write"
    assert claims["roles"] == ["app.admin", "app.read", "app.write"]


def test_a_role_defined_but_not_requested_is_not_in_the_token(client, cc):
    applications.app_role_add(application=cc.api, actor=ACTOR, value="app.delete", display_name="Delete")
    applications.admin_consent_grant(client=cc.daemon, actor=ACTOR)
    assert issued_claims(client, cc, post_token(client, cc_data(cc)))["roles"] == ["app.read", "app.write"]


def test_a_disabled_role_is_not_in_the_token(client, cc):
    AppRole.objects.filter(application=cc.api, value="app.write").update(is_enabled=False)
    claims = issued_claims(client, cc, post_token(client, cc_data(cc)))
    assert claims["scp"] == "app.read"
    assert claims["roles"] == ["app.read"]


def test_roles_consented_on_another_api_do_not_leak_into_this_one(client, cc):
    other = applications.application_register(actor=ACTOR, name="Other API", app_id_uri="https://contoso.onmicrosoft.com/other")
    applications.app_role_add(application=other, actor=ACTOR, value="other.read")
    applications.permission_add(client=cc.daemon, api=other, values=["other.read"], actor=ACTOR)
    applications.admin_consent_grant(client=cc.daemon, actor=ACTOR)
    assert issued_claims(client, cc, post_token(client, cc_data(cc)))["roles"] == ["app.read", "app.write"]
    response = post_token(client, cc_data(cc, scope="https://contoso.onmicrosoft.com/other/.default"))
    assert response.status_code == 200, response.content
    claims = verify_jwt(client, response.json()["access_token"], policy=cc.policy, audience=other.client_id)
    assert claims["roles"] == ["other.read"] and claims["scp"] == "other.read"


def test_a_requested_but_ungranted_permission_is_invalid_scope_saying_consent_is_missing(client, cc):
    applications.admin_consent_revoke(client=cc.daemon, actor=ACTOR)
    body = assert_error(post_token(client, cc_data(cc)), 400, "invalid_scope")
    assert "consent" in body["error_description"].lower()


def test_a_client_that_never_requested_the_api_is_invalid_scope_saying_consent_is_missing(client, cc):
    fresh = applications.application_register(actor=ACTOR, name="Unconsented daemon")
    _, secret = applications.client_secret_add(application=fresh, actor=ACTOR)
    response = post_token(client, cc_data(cc, client_id=fresh.client_id, client_secret=secret))
    body = assert_error(response, 400, "invalid_scope")
    assert "consent" in body["error_description"].lower()


def test_revoking_consent_stops_new_tokens(client, cc):
    assert post_token(client, cc_data(cc)).status_code == 200
    applications.admin_consent_revoke(client=cc.daemon, actor=ACTOR)
    body = assert_error(post_token(client, cc_data(cc)), 400, "invalid_scope")
    assert "consent" in body["error_description"].lower()


def test_every_consented_role_disabled_is_invalid_scope(client, cc):
    AppRole.objects.filter(application=cc.api).update(is_enabled=False)
    assert_error(post_token(client, cc_data(cc)), 400, "invalid_scope")


# --- secrets -----------------------------------------------------------------------------------------


def test_several_secrets_are_valid_at_once_and_removing_one_leaves_the_other(client, cc):
    second_row, second = applications.client_secret_add(application=cc.daemon, actor=ACTOR, description="second")
    assert post_token(client, cc_data(cc)).status_code == 200
    assert post_token(client, cc_data(cc, client_secret=second)).status_code == 200
    assert post_token(client, basic_data(cc), headers=basic_auth(cc.daemon.client_id, second)).status_code == 200

    first_row = cc.daemon.secrets.exclude(pk=second_row.pk).get()
    applications.client_secret_remove(secret=first_row, actor=ACTOR)
    assert_error(post_token(client, cc_data(cc)), 401, "invalid_client", "AADB2C90081")
    assert post_token(client, cc_data(cc, client_secret=second)).status_code == 200


def test_an_expired_secret_is_invalid_client(client, cc):
    past = timezone.now() - timedelta(days=1)
    cc.daemon.secrets.update(created_at=past - timedelta(days=180), expires_at=past)
    assert_error(post_token(client, cc_data(cc)), 401, "invalid_client", "AADB2C90081")
    response = post_token(client, basic_data(cc), headers=basic_auth(cc.daemon.client_id, cc.secret))
    assert_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].lower().startswith("basic")


def test_a_wrong_secret_is_invalid_client(client, cc):
    response = post_token(client, cc_data(cc, client_secret=cc.secret + "x"))
    assert_error(response, 401, "invalid_client", "AADB2C90081")
    assert not response.get("WWW-Authenticate", "").lower().startswith("basic")


def test_a_wrong_secret_over_basic_is_invalid_client_with_a_basic_challenge(client, cc):
    response = post_token(client, basic_data(cc), headers=basic_auth(cc.daemon.client_id, cc.secret[:-1]))
    assert_error(response, 401, "invalid_client", "AADB2C90081")
    assert response["WWW-Authenticate"].lower().startswith("basic")


def test_a_confidential_client_without_a_secret_is_invalid_client(client, cc):
    assert_error(post_token(client, cc_data(cc, client_secret=None)), 401, "invalid_client")


def test_an_empty_secret_is_invalid_client(client, cc):
    assert_error(post_token(client, cc_data(cc, client_secret="")), 401, "invalid_client")


def test_basic_and_a_body_secret_together_are_refused(client, cc):
    response = post_token(client, cc_data(cc, client_id=None), headers=basic_auth(cc.daemon.client_id, cc.secret))
    assert_error(response, 400, "invalid_request")


def test_basic_with_the_same_client_id_in_the_body_works_and_with_another_is_refused(client, cc):
    headers = basic_auth(cc.daemon.client_id, cc.secret)
    assert post_token(client, cc_data(cc, client_secret=None), headers=headers).status_code == 200
    other = applications.application_register(actor=ACTOR, name="Other daemon")
    response = post_token(client, cc_data(cc, client_id=other.client_id, client_secret=None), headers=headers)
    assert_error(response, 400, "invalid_request")


def test_an_unknown_client_is_invalid_client(client, cc):
    response = post_token(client, cc_data(cc, client_id="00000000-0000-4000-8000-000000000000"))
    assert_error(response, 401, "invalid_client")
    response = post_token(client, basic_data(cc), headers=basic_auth("00000000-0000-4000-8000-000000000000", "x"))
    assert_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].lower().startswith("basic")


def test_a_client_id_that_is_not_a_uuid_is_invalid_client(client, cc):
    assert_error(post_token(client, cc_data(cc, client_id="daemon")), 401, "invalid_client")


def test_a_disabled_app_is_invalid_client(client, cc):
    cc.daemon.enabled = False
    cc.daemon.save()
    assert_error(post_token(client, cc_data(cc)), 401, "invalid_client")


@pytest.mark.parametrize("with_secret", [False, True], ids=["without a secret", "with a secret"])
def test_a_public_client_is_unauthorized_client(client, cc, native_app, with_secret):
    data = cc_data(cc, client_id=native_app.client_id, client_secret="anything" if with_secret else None)
    assert_error(post_token(client, data), 400, "unauthorized_client")


# --- scope -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", [
    pytest.param("https://contoso.onmicrosoft.com/tasks-api/app.read", id="an API scope, not .default"),
    pytest.param("https://contoso.onmicrosoft.com/tasks-api", id="the App ID URI alone"),
    pytest.param("https://contoso.onmicrosoft.com/tasks-api/.default openid", id="default plus openid"),
    pytest.param("https://contoso.onmicrosoft.com/tasks-api/.default "
                 "https://contoso.onmicrosoft.com/other/.default", id="two default scopes"),
    pytest.param("https://contoso.onmicrosoft.com/unknown-api/.default", id="an unknown API"),
    pytest.param("00000000-0000-4000-8000-000000000000/.default", id="an unknown API client id"),
    pytest.param("/.default", id="no resource"),
    pytest.param(".default", id="bare .default"),
    pytest.param("openid", id="openid"),
    pytest.param("", id="empty"),
])
def test_a_scope_other_than_one_api_default_is_invalid_scope(client, cc, scope):
    assert_error(post_token(client, cc_data(cc, scope=scope)), 400, "invalid_scope")


def test_a_missing_scope_is_invalid_scope(client, cc):
    assert_error(post_token(client, cc_data(cc, scope=None)), 400, "invalid_scope")


def test_a_disabled_api_is_invalid_scope(client, cc):
    cc.api.enabled = False
    cc.api.save()
    assert_error(post_token(client, cc_data(cc)), 400, "invalid_scope")


def test_the_client_itself_as_resource_is_invalid_scope_without_roles(client, cc):
    assert_error(post_token(client, cc_data(cc, scope=f"{cc.daemon.client_id}/.default")), 400, "invalid_scope")


# --- side effects ------------------------------------------------------------------------------------

_WRITE = re.compile(r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?", re.I)


def written_tables(queries) -> list[str]:
    return [m[2].lower() for q in queries if (m := _WRITE.match(q["sql"]))]


@pytest.mark.spec("SPEC.md", "§8")
def test_a_successful_request_writes_nothing_but_its_sign_in_event(client, cc):
    post_token(client, cc_data(cc))  # warm any per-process cache
    with CaptureQueriesContext(connection) as ctx:
        response = post_token(client, cc_data(cc))
    assert response.status_code == 200, response.content
    assert written_tables(ctx.captured_queries) == ["audit_signinevent"], [q["sql"] for q in ctx.captured_queries]


@pytest.mark.spec("SPEC.md", "§8")
def test_a_refused_request_writes_nothing_but_its_sign_in_event(client, cc):
    with CaptureQueriesContext(connection) as ctx:
        response = post_token(client, cc_data(cc, client_secret="wrong"))
    assert response.status_code == 401
    assert written_tables(ctx.captured_queries) == ["audit_signinevent"]


@pytest.mark.spec("SPEC.md", "§5")
def test_a_success_is_recorded_as_a_sign_in_event(client, cc):
    before = SignInEvent.objects.count()
    post_token(client, cc_data(cc), headers={"REMOTE_ADDR": "203.0.113.7"})
    assert SignInEvent.objects.count() == before + 1
    event = last_event()
    assert event.succeeded is True
    assert event.grant_type == "client_credentials"
    assert event.client_id == cc.daemon.client_id
    assert event.policy_id == cc.policy.policy_id
    assert event.ip_address == "203.0.113.7"
    assert event.user_id is None and event.error == ""


@pytest.mark.spec("SPEC.md", "§5")
@pytest.mark.parametrize(("overrides", "error", "code"), [
    pytest.param({"client_secret": "wrong"}, "invalid_client", "AADB2C90081", id="wrong secret"),
    pytest.param({"scope": "https://nowhere.test/api/.default"}, "invalid_scope", "AADB2C90012", id="unknown API"),
    pytest.param({"client_id": "00000000-0000-4000-8000-000000000000"}, "invalid_client", "AADB2C90018",
                 id="unknown client"),
])
def test_a_refusal_is_recorded_as_a_failed_sign_in_event(client, cc, overrides, error, code):
    before = SignInEvent.objects.count()
    response = post_token(client, cc_data(cc, **overrides))
    assert response.status_code in (400, 401)
    assert SignInEvent.objects.count() == before + 1
    event = last_event()
    assert event.succeeded is False
    assert event.grant_type == "client_credentials"
    assert event.error == error
    assert event.result_code == code
    assert event.policy_id == cc.policy.policy_id


def test_a_missing_consent_is_recorded_with_its_own_code(client, cc):
    applications.admin_consent_revoke(client=cc.daemon, actor=ACTOR)
    body = assert_error(post_token(client, cc_data(cc)), 400, "invalid_scope")
    event = last_event()
    assert event.succeeded is False and event.error == "invalid_scope"
    assert event.client_id == cc.daemon.client_id
    assert body["error_description"].startswith(event.result_code + ":")


def test_the_tenant_id_also_names_the_tenant(client, cc):
    from identity.tenant import tenant_id

    response = client.post(f"/{tenant_id()}/{ROPC_POLICY}/oauth2/v2.0/token",
                           "&".join(f"{k}={quote_plus(v)}" for k, v in cc_data(cc).items()),
                           content_type="application/x-www-form-urlencoded")
    assert issued_claims(client, cc, response)["aud"] == cc.api.client_id
