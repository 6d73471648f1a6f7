"""Resource owner password credentials over HTTP (SPEC §4.1, §3; seed b2c-ropc-custom-policy.md).

Every issued JWT is verified against the JWKS published at /{tenant}/{policy}/discovery/v2.0/keys.
"""

import logging
import time
import uuid
import warnings
from unittest import mock

import pytest

from accounts import services as accounts
from accounts.models import FederatedIdentity
from applications import services as applications
from applications.models import Application, ConsentGrant
from audit.models import SignInEvent
from identity.tenant import tenant_id
from policies import services as policies
from policies.models import Policy
from tests.conftest import ACTOR, DEMO_PASSWORD
from tests.flows.token_helpers import (
    ROPC_POLICY,
    assert_error,
    b64url_json,
    basic_auth,
    post_token,
    ropc_data,
    verify_jwt,
)

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§4.1")]

BASE_URL = "https://login.contoso.test"
GENERIC = "AADB2C90225: The username or password provided in the request are invalid."
B2C_FIELDS = {
    "access_token", "id_token", "refresh_token", "token_type", "expires_in", "not_before", "expires_on",
    "resource", "id_token_expires_in", "refresh_token_expires_in", "profile_info", "scope",
}


@pytest.fixture(autouse=True)
def _signing_key(signing_key):
    return signing_key


@pytest.fixture
def cid(native_app) -> str:
    return str(native_app.client_id)


@pytest.fixture
def tasks_scope(api_app):
    """A delegated scope exposed by the Tasks API."""
    return applications.delegated_scope_add(application=api_app, actor=ACTOR, value="tasks.read")


@pytest.fixture
def tasks_scope_uri(api_app, tasks_scope) -> str:
    return f"{api_app.app_id_uri}/{tasks_scope.value}"


@pytest.fixture
def confidential_ropc_app(db):
    app = applications.application_register(actor=ACTOR, name="Confidential ROPC", ropc=True)
    _, secret = applications.client_secret_add(application=app, actor=ACTOR, description="test")
    return app, secret


def ropc(client, cid, *, shape="path", policy=ROPC_POLICY, headers=None, **kwargs):
    return post_token(client, ropc_data(cid, **kwargs), policy=policy, shape=shape, headers=headers)


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    return response.json()


# --- Success -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["path", "query", "bare"])
def test_a_password_sign_in_returns_exactly_the_b2c_fields_in_every_url_shape(client, user, policy, cid, shape):
    before = int(time.time())
    body = ok(ropc(client, cid, shape=shape))
    after = int(time.time())

    assert set(body) == B2C_FIELDS
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert before <= body["not_before"] <= after
    assert body["expires_on"] == body["not_before"] + body["expires_in"]
    assert body["resource"] == cid
    assert body["id_token_expires_in"] == 3600
    assert body["refresh_token_expires_in"] == 1209600
    assert body["scope"] == f"openid {cid} offline_access"
    assert body["profile_info"] == body["profile_info"].rstrip("=")  # base64url, unpadded as B2C sends it
    assert b64url_json(body["profile_info"]) == {
        "ver": "1.0", "tid": str(tenant_id()), "sub": str(user.object_id), "name": "Alice Example",
        "preferred_username": "alice", "idp": "LocalAccount",
    }
    access = verify_jwt(client, body["access_token"], policy=policy, audience=cid)
    id_claims = verify_jwt(client, body["id_token"], policy=policy, audience=cid)
    assert access["exp"] == body["expires_on"] and access["nbf"] == body["not_before"]
    assert id_claims["exp"] == body["not_before"] + body["id_token_expires_in"]
    assert isinstance(body["refresh_token"], str) and len(body["refresh_token"]) >= 32


def test_the_seeds_example_request_with_the_bare_policy_query_succeeds(client, user, policy, cid):
    """POST /{tenant}/oauth2/v2.0/token?B2C_1_ROPC_Auth with the seed's exact body."""
    response = client.post(
        f"/contoso.onmicrosoft.com/oauth2/v2.0/token?{ROPC_POLICY}",
        f"username=alice&password={DEMO_PASSWORD}&grant_type=password&scope=openid+{cid}+offline_access"
        f"&client_id={cid}&response_type=token+id_token",
        content_type="application/x-www-form-urlencoded",
    )
    body = ok(response)
    assert {"access_token", "token_type", "expires_in", "refresh_token", "id_token"} <= set(body)
    verify_jwt(client, body["access_token"], policy=policy, audience=cid)
    verify_jwt(client, body["id_token"], policy=policy, audience=cid)


def test_the_email_sign_in_name_works_like_the_user_name(client, user, policy, cid):
    body = ok(ropc(client, cid, username="Alice@Contoso.test"))
    claims = verify_jwt(client, body["id_token"], policy=policy, audience=cid)
    assert claims["oid"] == str(user.object_id)


def test_openid_alone_returns_an_id_token_and_no_access_or_refresh_token(client, user, policy, cid):
    body = ok(ropc(client, cid, scope="openid", response_type="id_token"))
    assert "id_token" in body and "id_token_expires_in" in body
    assert not {"access_token", "refresh_token", "refresh_token_expires_in", "resource"} & set(body)
    assert body["scope"] == "openid"
    verify_jwt(client, body["id_token"], policy=policy, audience=cid)


def test_the_client_id_alone_returns_an_access_token_and_no_id_or_refresh_token(client, user, policy, cid):
    body = ok(ropc(client, cid, scope=cid, response_type="token"))
    assert {"access_token", "resource"} <= set(body)
    assert not {"id_token", "id_token_expires_in", "refresh_token", "refresh_token_expires_in"} & set(body)
    verify_jwt(client, body["access_token"], policy=policy, audience=cid)


def test_offline_access_is_what_asks_for_a_refresh_token(client, user, policy, cid):
    without = ok(ropc(client, cid, scope=f"openid {cid}"))
    assert "refresh_token" not in without and "refresh_token_expires_in" not in without
    with_offline = ok(ropc(client, cid, scope=f"{cid} offline_access"))
    assert with_offline["refresh_token"] and with_offline["refresh_token_expires_in"] == 1209600


def test_an_msal_style_request_gets_client_info_and_verified_tokens(client, user, policy, cid):
    """MSAL adds `openid profile offline_access`, sends client_info=1 and telemetry headers."""
    headers = {"HTTP_X_CLIENT_SKU": "MSAL.Python", "HTTP_X_CLIENT_VER": "1.39.0", "HTTP_X_MS_LIB_CAPABILITY": "retry"}
    response = ropc(client, cid, scope=f"{cid} openid profile offline_access", client_info="1",
                    response_type=None, headers=headers)
    body = ok(response)
    assert set(body) == B2C_FIELDS | {"client_info"}
    assert b64url_json(body["client_info"]) == {
        "uid": f"{user.object_id}-b2c_1_ropc_auth", "utid": str(tenant_id()),
    }
    assert body["scope"].split() == [cid, "openid", "profile", "offline_access"]
    verify_jwt(client, body["access_token"], policy=policy, audience=cid)
    id_claims = verify_jwt(client, body["id_token"], policy=policy, audience=cid)
    assert id_claims["oid"] == str(user.object_id)


def test_client_info_is_absent_unless_asked(client, user, policy, cid):
    assert "client_info" not in ok(ropc(client, cid))


# --- ID token and access token claims (SPEC §3) --------------------------------------------------------


@pytest.mark.spec("SPEC.md", "§3")
def test_the_id_token_carries_the_spec_claims_and_the_policys_output_claims(client, user, policy, cid):
    before = int(time.time())
    body = ok(ropc(client, cid))
    claims = verify_jwt(client, body["id_token"], policy=policy, audience=cid)
    assert claims["iss"] == f"{BASE_URL}/{tenant_id()}/v2.0/"
    assert claims["aud"] == cid
    assert claims["sub"] == str(user.object_id)
    assert claims["oid"] == str(user.object_id)
    assert before <= claims["auth_time"] <= int(time.time())
    assert claims["tfp"] == "b2c_1_ropc_auth"
    assert "acr" not in claims
    assert claims["ver"] == "1.0"
    # The default ROPC policy lists objectId, displayName, givenName, surname (the seed's RelyingParty).
    assert claims["name"] == "Alice Example"
    assert claims["given_name"] == "Alice"
    assert claims["family_name"] == "Example"
    assert "emails" not in claims and "email" not in claims


@pytest.mark.spec("SPEC.md", "§3")
def test_the_id_token_lists_exactly_the_claims_the_policy_asks_for(client, user, policy, cid):
    policies.policy_create_or_update(
        actor=ACTOR, policy_id=ROPC_POLICY, output_claims=["objectId", "emails", "identityProvider"]
    )
    body = ok(ropc(client, cid))
    claims = verify_jwt(client, body["id_token"], policy=policy, audience=cid)
    assert claims["emails"] == ["alice@contoso.test"]
    assert claims["idp"] == "LocalAccount"
    assert claims["oid"] == str(user.object_id)
    assert not {"name", "given_name", "family_name"} & set(claims)


@pytest.mark.spec("SPEC.md", "§3")
def test_a_policy_with_sub_not_supported_says_so_in_sub_and_keeps_oid(client, user, policy, cid):
    policy, _ = policies.policy_create_or_update(
        actor=ACTOR, policy_id=ROPC_POLICY, subject_claim=Policy.SubjectClaim.NOT_SUPPORTED
    )
    body = ok(ropc(client, cid))
    claims = verify_jwt(client, body["id_token"], policy=policy, audience=cid)
    assert claims["sub"] == "Not supported currently. Use oid claim."
    assert claims["oid"] == str(user.object_id)
    assert b64url_json(body["profile_info"])["sub"] is None
    verify_jwt(client, body["access_token"], policy=policy, audience=cid)


@pytest.mark.spec("SPEC.md", "§3")
def test_a_policy_choosing_acr_gets_acr_instead_of_tfp(client, user, policy, cid):
    policy, _ = policies.policy_create_or_update(actor=ACTOR, policy_id=ROPC_POLICY, policy_claim="acr")
    body = ok(ropc(client, cid))
    for token in (body["id_token"], body["access_token"]):
        claims = verify_jwt(client, token, policy=policy, audience=cid)
        assert claims["acr"] == "b2c_1_ropc_auth"
        assert "tfp" not in claims


@pytest.mark.spec("SPEC.md", "§3")
def test_a_policy_with_the_authority_with_tfp_issuer_pattern_issues_that_iss(client, user, policy, cid):
    policy, _ = policies.policy_create_or_update(
        actor=ACTOR, policy_id=ROPC_POLICY, issuer_pattern=Policy.IssuerPattern.AUTHORITY_WITH_TFP
    )
    body = ok(ropc(client, cid))
    expected = f"{BASE_URL}/tfp/{tenant_id()}/b2c_1_ropc_auth/v2.0/"
    for token in (body["id_token"], body["access_token"]):
        assert verify_jwt(client, token, policy=policy, audience=cid)["iss"] == expected


@pytest.mark.spec("SPEC.md", "§3")
def test_an_access_token_for_the_client_itself_has_the_client_as_audience_and_party(client, user, policy, cid):
    body = ok(ropc(client, cid))
    claims = verify_jwt(client, body["access_token"], policy=policy, audience=cid)
    assert claims["aud"] == cid
    assert claims["azp"] == cid
    assert claims["sub"] == str(user.object_id)
    assert claims["oid"] == str(user.object_id)
    assert claims["tfp"] == "b2c_1_ropc_auth" and claims["ver"] == "1.0"


@pytest.mark.spec("SPEC.md", "§3")
def test_an_access_token_for_a_consented_api_scope_carries_scp_and_the_api_as_audience(
    client, user, policy, native_app, cid, api_app, tasks_scope_uri
):
    applications.permission_add(client=native_app, api=api_app, values=["tasks.read"], actor=ACTOR)
    applications.admin_consent_grant(client=native_app, actor=ACTOR)
    body = ok(ropc(client, cid, scope=f"openid {tasks_scope_uri} offline_access"))
    assert body["resource"] == api_app.client_id
    claims = verify_jwt(client, body["access_token"], policy=policy, audience=api_app.client_id)
    assert claims["aud"] == api_app.client_id
    assert claims["azp"] == cid
    assert claims["scp"] == "tasks.read"
    assert claims["sub"] == str(user.object_id) and claims["oid"] == str(user.object_id)
    verify_jwt(client, body["id_token"], policy=policy, audience=cid)


# --- Refusals: credentials -------------------------------------------------------------------------------


def test_an_unknown_user_and_a_wrong_password_get_the_same_response(client, user, policy, cid):
    unknown = ropc(client, cid, username="nobody")
    wrong = ropc(client, cid, password="Wrong-Horse-9")
    assert unknown.status_code == wrong.status_code == 400
    assert unknown.content == wrong.content
    assert wrong.json() == {"error": "invalid_grant", "error_description": GENERIC}
    assert_error(wrong, 400, "invalid_grant", "AADB2C90225")


def test_a_policy_may_opt_in_to_b2cs_distinct_credential_messages(client, user, policy, cid):
    policies.policy_create_or_update(actor=ACTOR, policy_id=ROPC_POLICY, distinct_credential_messages=True)
    unknown = assert_error(ropc(client, cid, username="nobody"), 400, "invalid_grant", "AADB2C90225")
    wrong = assert_error(ropc(client, cid, password="Wrong-Horse-9"), 400, "invalid_grant", "AADB2C90225")
    assert unknown["error_description"] == "AADB2C90225: We can't seem to find your account"
    assert wrong["error_description"] == "AADB2C90225: Your password is incorrect"


def test_with_distinct_messages_the_previous_password_is_refused_as_an_old_password(client, user, policy, cid):
    policies.policy_create_or_update(actor=ACTOR, policy_id=ROPC_POLICY, distinct_credential_messages=True)
    accounts.user_set_password(user=user, password="Second-Horse-9", actor=ACTOR)
    body = assert_error(ropc(client, cid), 400, "invalid_grant", "AADB2C90225")
    assert body["error_description"] == "AADB2C90225: Looks like you used an old password"
    ok(ropc(client, cid, password="Second-Horse-9"))


def test_without_distinct_messages_the_previous_password_gets_exactly_the_wrong_password_answer(
    client, user, policy, cid
):
    """Issue 18 item 7: "old password" would confirm a credential the user once had; only a policy that
    opted in to distinct messages says it. The sign-in event keeps the real reason."""
    assert policy.distinct_credential_messages is False
    accounts.user_set_password(user=user, password="Second-Horse-9", actor=ACTOR)
    old = ropc(client, cid)  # the previous password
    wrong = ropc(client, cid, password="Wrong-Horse-9")
    assert old.status_code == wrong.status_code == 400
    assert old.content == wrong.content
    assert old.json() == {"error": "invalid_grant", "error_description": GENERIC}
    reasons = list(SignInEvent.objects.order_by("id").values_list("failure_reason", flat=True))
    assert reasons == ["Old password used.", "Wrong password."]
    ok(ropc(client, cid, password="Second-Horse-9"))


def test_only_the_last_password_counts_as_old_an_earlier_one_is_just_wrong(client, user, policy, cid):
    policies.policy_create_or_update(actor=ACTOR, policy_id=ROPC_POLICY, distinct_credential_messages=True)
    accounts.user_set_password(user=user, password="Second-Horse-9", actor=ACTOR)
    accounts.user_set_password(user=user, password="Third-Horse-9", actor=ACTOR)
    first = ropc(client, cid)  # the password before the previous one
    assert first.json() == {"error": "invalid_grant", "error_description": "AADB2C90225: Your password is incorrect"}
    second = assert_error(ropc(client, cid, password="Second-Horse-9"), 400, "invalid_grant")
    assert "Looks like you used an old password" in second["error_description"]
    ok(ropc(client, cid, password="Third-Horse-9"))


def test_a_disabled_user_is_refused_with_its_own_message(client, user, policy, cid):
    accounts.user_set_enabled(user=user, enabled=False, actor=ACTOR)
    body = assert_error(ropc(client, cid), 400, "invalid_grant")
    assert "disabled" in body["error_description"]
    assert body["error_description"] != GENERIC


def test_a_user_whose_password_expired_is_refused_with_its_own_message(client, user, policy, cid):
    user.password_expired = True
    user.save(update_fields=["password_expired"])
    body = assert_error(ropc(client, cid), 400, "invalid_grant")
    assert "expired" in body["error_description"].lower()
    assert body["error_description"] != GENERIC


def test_a_user_who_must_use_mfa_gets_interaction_required(client, user, policy, cid):
    user.mfa_required = True
    user.save(update_fields=["mfa_required"])
    body = assert_error(ropc(client, cid), 400, "interaction_required")
    assert "multi-factor" in body["error_description"]


def test_a_wrong_password_for_a_disabled_user_says_only_that_the_credentials_are_wrong(client, user, policy, cid):
    accounts.user_set_enabled(user=user, enabled=False, actor=ACTOR)
    assert ropc(client, cid, password="Wrong-Horse-9").json()["error_description"] == GENERIC


def test_a_federated_user_without_a_local_password_gets_its_own_message(client, policy, cid):
    """Its own message where the policy opted in to distinct messages; otherwise the generic one, since
    a distinct answer would reveal that the name exists (the reason is kept in the sign-in event)."""
    federated = accounts.user_create(actor=ACTOR, username="fred", email="fred@contoso.test")
    FederatedIdentity.objects.create(user=federated, issuer="https://idp.example.test", issuer_subject="fred-1")
    body = assert_error(ropc(client, cid, username="fred", password="Any-Password-9"), 400, "invalid_grant")
    assert body["error_description"] == GENERIC
    policy.distinct_credential_messages = True
    policy.save()
    body = assert_error(ropc(client, cid, username="fred", password="Any-Password-9"), 400, "invalid_grant")
    assert "external identity provider" in body["error_description"]
    assert body["error_description"] != GENERIC


# --- Refusals: consent -------------------------------------------------------------------------------


def test_a_delegated_scope_without_consent_is_consent_required(
    client, user, policy, native_app, cid, api_app, tasks_scope_uri
):
    applications.permission_add(client=native_app, api=api_app, values=["tasks.read"], actor=ACTOR)
    body = assert_error(ropc(client, cid, scope=f"openid {tasks_scope_uri}"), 400, "invalid_grant")
    assert "consent_required" in body["error_description"]
    assert "tasks.read" in body["error_description"]


def test_admin_consent_to_the_delegated_scope_lets_the_sign_in_succeed(
    client, user, policy, native_app, cid, api_app, tasks_scope_uri
):
    applications.permission_add(client=native_app, api=api_app, values=["tasks.read"], actor=ACTOR)
    assert ropc(client, cid, scope=f"openid {tasks_scope_uri}").status_code == 400
    applications.admin_consent_grant(client=native_app, actor=ACTOR)
    body = ok(ropc(client, cid, scope=f"openid {tasks_scope_uri}"))
    assert verify_jwt(client, body["access_token"], policy=policy, audience=api_app.client_id)["scp"] == "tasks.read"


def test_a_users_own_consent_to_the_delegated_scope_lets_that_user_sign_in(
    client, user, policy, native_app, cid, api_app, tasks_scope, tasks_scope_uri
):
    ConsentGrant.objects.create(client=native_app, scope=tasks_scope, user=user, granted_by_label="alice")
    body = ok(ropc(client, cid, scope=f"openid {tasks_scope_uri}"))
    assert verify_jwt(client, body["access_token"], policy=policy, audience=api_app.client_id)["scp"] == "tasks.read"
    other = accounts.user_create(actor=ACTOR, username="bob", password=DEMO_PASSWORD)
    assert other  # another user has not consented
    refused = assert_error(ropc(client, cid, username="bob", scope=f"openid {tasks_scope_uri}"), 400, "invalid_grant")
    assert "consent_required" in refused["error_description"]


# --- Refusals: the client -------------------------------------------------------------------------------


def test_an_app_without_ropc_is_unauthorized_and_the_password_is_never_checked(client, user, policy):
    app = applications.application_register(actor=ACTOR, name="No ROPC", public=True, ropc=False)
    from accounts import authentication
    from policies.profiles import local_password

    with (
        mock.patch.object(local_password, "check_credentials", wraps=local_password.check_credentials) as checked,
        mock.patch.object(authentication, "check_password", wraps=authentication.check_password) as hashed,
    ):
        right = ropc(client, app.client_id)
        wrong = ropc(client, app.client_id, password="Wrong-Horse-9")
    for response in (right, wrong):
        body = assert_error(response, 400, "unauthorized_client", "AADB2C90224")
    assert right.content == wrong.content
    assert "Resource owner flow has not been enabled" in body["error_description"]
    assert checked.call_count == 0
    assert hashed.call_count == 0


def test_a_confidential_ropc_client_that_authenticates_gets_tokens(client, user, policy, confidential_ropc_app):
    app, secret = confidential_ropc_app
    body = ok(ropc(client, app.client_id, client_secret=secret))
    verify_jwt(client, body["access_token"], policy=policy, audience=app.client_id)
    verify_jwt(client, body["id_token"], policy=policy, audience=app.client_id)
    data = ropc_data(app.client_id)
    del data["client_id"]
    body = ok(post_token(client, data, headers=basic_auth(app.client_id, secret)))
    verify_jwt(client, body["id_token"], policy=policy, audience=app.client_id)


def test_a_confidential_ropc_client_with_a_wrong_secret_is_invalid_client(client, user, policy, confidential_ropc_app):
    app, _ = confidential_ropc_app
    response = ropc(client, app.client_id, client_secret="not-the-secret")
    assert_error(response, 401, "invalid_client", "AADB2C90081")
    assert not response.get("WWW-Authenticate", "").lower().startswith("basic")


def test_a_confidential_ropc_client_failing_basic_auth_is_told_www_authenticate_basic(
    client, user, policy, confidential_ropc_app
):
    app, _ = confidential_ropc_app
    data = ropc_data(app.client_id)
    del data["client_id"]
    response = post_token(client, data, headers=basic_auth(app.client_id, "not-the-secret"))
    assert_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic")


def test_a_confidential_ropc_client_without_a_secret_is_invalid_client(client, user, policy, confidential_ropc_app):
    app, _ = confidential_ropc_app
    assert_error(ropc(client, app.client_id), 401, "invalid_client", "AADB2C90079")


def test_a_confidential_client_failing_authentication_never_gets_its_password_checked(
    client, user, policy, confidential_ropc_app
):
    app, _ = confidential_ropc_app
    from policies.profiles import local_password

    with mock.patch.object(local_password, "check_credentials", wraps=local_password.check_credentials) as checked:
        assert ropc(client, app.client_id, client_secret="not-the-secret").status_code == 401
    assert checked.call_count == 0


def test_a_public_client_sending_a_secret_is_refused(client, user, policy, cid):
    assert_error(ropc(client, cid, client_secret="anything"), 400, "invalid_request", "AADB2C90084")


def test_an_unknown_client_is_invalid_client(client, user, policy):
    assert_error(ropc(client, str(uuid.uuid4())), 401, "invalid_client")


def test_a_disabled_app_is_invalid_client(client, user, policy, native_app, cid):
    Application.objects.filter(pk=native_app.pk).update(enabled=False)
    assert_error(ropc(client, cid), 401, "invalid_client")


# --- Refusals: the policy and the request --------------------------------------------------------------


def test_a_sign_up_sign_in_policy_does_not_serve_the_password_grant(client, user, policy, cid):
    policies.policy_create_or_update(actor=ACTOR, policy_id="B2C_1_SignUpSignIn", kind=Policy.Kind.SIGN_UP_SIGN_IN)
    assert_error(ropc(client, cid, policy="B2C_1_SignUpSignIn"), 400, "unsupported_grant_type")


@pytest.mark.spec("SPEC.md", "§2")
def test_an_unknown_policy_is_a_json_404(client, user, policy, cid):
    for shape in ("path", "query"):
        body = assert_error(ropc(client, cid, policy="B2C_1_Nope", shape=shape), 404, "not_found")
        assert "B2C_1_Nope" in body["error_description"]


@pytest.mark.spec("SPEC.md", "§2")
def test_a_disabled_policy_is_a_json_404(client, user, policy, cid):
    policies.policy_create_or_update(actor=ACTOR, policy_id=ROPC_POLICY, enabled=False)
    assert_error(ropc(client, cid), 404, "not_found")


@pytest.mark.parametrize("missing", ["username", "password"])
def test_a_missing_username_or_password_is_invalid_request(client, user, policy, cid, missing):
    data = ropc_data(cid)
    del data[missing]
    body = assert_error(post_token(client, data), 400, "invalid_request", "AADB2C90083")
    assert missing in body["error_description"]


@pytest.mark.parametrize("response_type", ["code", "token id_token code", "bogus"])
def test_an_unsupported_response_type_is_invalid_request(client, user, policy, cid, response_type):
    assert_error(ropc(client, cid, response_type=response_type), 400, "invalid_request")


@pytest.mark.parametrize("response_type", ["token id_token", "id_token", "token", "id_token token"])
def test_the_seeds_response_types_are_accepted(client, user, policy, cid, response_type):
    ok(ropc(client, cid, response_type=response_type))


def test_more_than_one_resource_is_refused(client, user, policy, cid, api_app, tasks_scope_uri):
    assert_error(ropc(client, cid, scope=f"openid {cid} {tasks_scope_uri}"), 400, "invalid_scope", "AADB2C90146")


def test_an_unknown_scope_is_refused(client, user, policy, cid):
    body = assert_error(
        ropc(client, cid, scope="openid https://contoso.onmicrosoft.com/nope/read"), 400, "invalid_scope", "AADB2C90012"
    )
    assert "https://contoso.onmicrosoft.com/nope/read" in body["error_description"]


# --- Sign-in events (SPEC §5) ---------------------------------------------------------------------------


def last_event() -> SignInEvent:
    return SignInEvent.objects.order_by("-id").first()


def assert_no_password_in_events(password: str) -> None:
    for event in SignInEvent.objects.all():
        for field in SignInEvent._meta.concrete_fields:
            assert password not in str(getattr(event, field.attname)), (field.name, event)


@pytest.mark.spec("SPEC.md", "§5")
def test_a_successful_sign_in_writes_a_sign_in_event(client, user, policy, cid):
    ok(ropc(client, cid, headers={"REMOTE_ADDR": "203.0.113.9"}))
    event = last_event()
    assert SignInEvent.objects.count() == 1
    assert (event.grant_type, event.client_id, event.policy_id) == ("password", cid, "B2C_1_ROPC_Auth")
    assert event.succeeded is True and event.error == "" and event.result_code == ""
    assert event.user_id == user.pk
    assert event.sign_in_name == "alice"
    assert event.ip_address == "203.0.113.9"
    assert_no_password_in_events(DEMO_PASSWORD)


REFUSALS = {
    "wrong password": ({"password": "Wrong-Horse-9xyz"}, "invalid_grant", "AADB2C90225"),
    "unknown user": ({"username": "nobody", "password": "Wrong-Horse-9xyz"}, "invalid_grant", "AADB2C90225"),
    "missing password": ({"password": ""}, "invalid_request", "AADB2C90083"),
    "unknown scope": ({"scope": "openid https://x.test/nope/read", "password": "Wrong-Horse-9xyz"},
                      "invalid_scope", "AADB2C90012"),
    "public client secret": ({"client_secret": "s3cret-value", "password": "Wrong-Horse-9xyz"},
                             "invalid_request", "AADB2C90084"),
}


@pytest.mark.spec("SPEC.md", "§5")
@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_each_refusal_writes_a_failed_sign_in_event_without_the_password(client, user, policy, cid, case):
    extra, error, code = REFUSALS[case]
    data = ropc_data(cid)
    data.update(extra)
    response = post_token(client, data)
    assert_error(response, response.status_code, error, code)
    event = last_event()
    assert SignInEvent.objects.count() == 1
    assert (event.grant_type, event.client_id, event.policy_id) == ("password", cid, "B2C_1_ROPC_Auth")
    assert event.succeeded is False
    assert (event.error, event.result_code) == (error, code)
    assert_no_password_in_events("Wrong-Horse-9xyz")
    assert_no_password_in_events(DEMO_PASSWORD)


@pytest.mark.spec("SPEC.md", "§5")
def test_an_app_without_ropc_writes_an_unauthorized_client_event(client, user, policy):
    app = applications.application_register(actor=ACTOR, name="No ROPC", public=True, ropc=False)
    ropc(client, app.client_id)
    event = last_event()
    assert (event.grant_type, event.client_id, event.succeeded) == ("password", app.client_id, False)
    assert (event.error, event.result_code) == ("unauthorized_client", "AADB2C90224")
    # Refused before any account was read; the event still names the account whose name was sent
    # (the writer looks it up), so that it shows in alice's sign-in activity.
    assert event.user_id == user.pk


@pytest.mark.spec("SPEC.md", "§5")
def test_an_unknown_client_writes_an_invalid_client_event(client, user, policy):
    unknown = str(uuid.uuid4())
    ropc(client, unknown)
    event = last_event()
    assert (event.grant_type, event.client_id, event.succeeded, event.error) == (
        "password", unknown, False, "invalid_client"
    )


@pytest.mark.spec("SPEC.md", "§5")
def test_a_disabled_user_and_interaction_required_write_their_events(client, user, policy, cid):
    user.mfa_required = True
    user.save(update_fields=["mfa_required"])
    ropc(client, cid)
    event = last_event()
    assert (event.succeeded, event.error, event.sign_in_name) == (False, "interaction_required", "alice")
    accounts.user_set_enabled(user=user, enabled=False, actor=ACTOR)
    ropc(client, cid)
    assert (last_event().succeeded, last_event().error) == (False, "invalid_grant")
    assert SignInEvent.objects.count() == 2


# --- DOT's RFC 9700 password-grant gate -----------------------------------------------------------------


def test_ropc_never_trips_dots_password_grant_deprecation_warning(client, user, policy, cid, caplog):
    caplog.set_level(logging.DEBUG, logger="oauth2_provider")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        body = ok(ropc(client, cid))
        assert_error(ropc(client, cid, password="Wrong-Horse-9"), 400, "invalid_grant")
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert deprecations == [], [str(w.message) for w in deprecations]
    dot_warnings = [r for r in caplog.records if r.name.startswith("oauth2_provider") and r.levelno >= logging.WARNING]
    assert dot_warnings == [], [r.getMessage() for r in dot_warnings]
    verify_jwt(client, body["access_token"], policy=policy, audience=cid)
