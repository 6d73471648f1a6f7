"""OIDC discovery at both URL shapes (SPEC §2): issuer and endpoints from IDENTITY_BASE_URL, and only
endpoints that are served (SPEC §9; issue 17, items 5 and 6)."""

from urllib.parse import urlsplit

import jwt
import pytest

from applications import services as applications
from identity.tenant import tenant_id
from policies import services as policies
from tests.conftest import ACTOR
from tests.flows.conftest import BASE_URL, TENANT
from tests.flows.token_helpers import post_token, ropc_data

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§2")]

URL_FIELDS = (
    "issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "revocation_endpoint", "introspection_endpoint",
)


def discovery(client, tenant=TENANT, policy="B2C_1_ROPC_Auth", secure=False, **headers):
    return client.get(f"/{tenant}/{policy}/v2.0/.well-known/openid-configuration", headers=headers, secure=secure)


def test_discovery_with_the_policy_in_the_path_has_b2c_fields(client, policy):
    response = discovery(client)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    doc = response.json()
    assert doc["issuer"] == f"{BASE_URL}/{tenant_id()}/v2.0/"
    assert doc["token_endpoint"] == f"{BASE_URL}/{TENANT}/b2c_1_ropc_auth/oauth2/v2.0/token"
    assert doc["jwks_uri"] == f"{BASE_URL}/{TENANT}/b2c_1_ropc_auth/discovery/v2.0/keys"
    assert doc["authorization_endpoint"] == f"{BASE_URL}/{TENANT}/b2c_1_ropc_auth/oauth2/v2.0/authorize"
    assert doc["revocation_endpoint"] == f"{BASE_URL}/{TENANT}/b2c_1_ropc_auth/oauth2/v2.0/revoke"
    assert doc["introspection_endpoint"] == f"{BASE_URL}/{TENANT}/b2c_1_ropc_auth/oauth2/v2.0/introspect"
    assert doc["grant_types_supported"] == ["password", "refresh_token", "client_credentials"]
    assert doc["token_endpoint_auth_methods_supported"] == ["client_secret_post", "client_secret_basic",
                                                           "private_key_jwt"]
    assert doc["token_endpoint_auth_signing_alg_values_supported"] == ["RS256", "PS256"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["subject_types_supported"] == ["public"]
    assert {"openid", "offline_access", "profile"} <= set(doc["scopes_supported"])
    assert doc["response_types_supported"] == ["id_token", "token id_token"]  # ROPC's response_type values


def test_subject_type_is_public_because_two_apps_get_the_same_sub_for_one_user(client, user, policy, signing_key):
    """OIDC Discovery §3 / Core §8: "public" is the same `sub` for every client, which is what we issue."""
    subjects = set()
    for name in ("Native app one", "Native app two"):
        app = applications.application_register(actor=ACTOR, name=name, public=True, ropc=True)
        response = post_token(client, ropc_data(str(app.client_id), scope="openid"))
        assert response.status_code == 200, response.content
        subjects.add(jwt.decode(response.json()["id_token"], options={"verify_signature": False})["sub"])
    assert subjects == {str(user.object_id)}
    assert discovery(client).json()["subject_types_supported"] == ["public"]


def test_discovery_with_the_policy_in_the_query_is_the_same_document(client, policy):
    by_query = client.get(f"/{TENANT}/v2.0/.well-known/openid-configuration", {"p": "B2C_1_ROPC_Auth"})
    assert by_query.status_code == 200
    assert by_query.json() == discovery(client).json()


@pytest.mark.parametrize("tenant", [TENANT.upper(), "Contoso.OnMicrosoft.com"])
def test_tenant_name_matches_case_insensitively(client, policy, tenant):
    response = discovery(client, tenant=tenant)
    assert response.status_code == 200
    assert response.json()["token_endpoint"].startswith(f"{BASE_URL}/{TENANT}/")


def test_tenant_id_matches_case_insensitively(client, policy):
    for tenant in (str(tenant_id()), str(tenant_id()).upper()):
        response = discovery(client, tenant=tenant)
        assert response.status_code == 200
        # Endpoints always name the tenant by its name, as B2C's metadata does.
        assert response.json()["jwks_uri"].startswith(f"{BASE_URL}/{TENANT}/b2c_1_ropc_auth/")


@pytest.mark.parametrize("policy_id", ["b2c_1_ropc_auth", "B2C_1_ROPC_AUTH", "b2C_1_rOpC_aUtH"])
def test_policy_matches_case_insensitively_in_both_shapes(client, policy, policy_id):
    assert discovery(client, policy=policy_id).status_code == 200
    by_query = client.get(f"/{TENANT}/v2.0/.well-known/openid-configuration?p={policy_id}")
    assert by_query.status_code == 200
    assert by_query.json()["token_endpoint"] == f"{BASE_URL}/{TENANT}/b2c_1_ropc_auth/oauth2/v2.0/token"


def test_every_url_starts_with_the_base_url_whatever_the_host_header(client, policy):
    response = discovery(client, host="localhost", x_forwarded_host="evil.example", x_forwarded_proto="http")
    assert response.status_code == 200
    doc = response.json()
    for field in URL_FIELDS:
        assert doc[field].startswith(BASE_URL + "/"), field
    assert "localhost" not in response.content.decode() and "evil.example" not in response.content.decode()


def test_issuer_of_a_tfp_policy_names_the_tenant_id_and_the_policy(client):
    policies.policy_create_or_update(actor=ACTOR, policy_id="B2C_1A_Tfp_Issuer", issuer_pattern="AuthorityWithTfp")
    doc = discovery(client, policy="B2C_1A_TFP_ISSUER").json()
    assert doc["issuer"] == f"{BASE_URL}/tfp/{tenant_id()}/b2c_1a_tfp_issuer/v2.0/"
    assert doc["token_endpoint"] == f"{BASE_URL}/{TENANT}/b2c_1a_tfp_issuer/oauth2/v2.0/token"


def test_claims_supported_follow_the_policy(client):
    policies.policy_create_or_update(
        actor=ACTOR, policy_id="B2C_1_Claims", policy_claim="acr", output_claims=["emails", "displayName"]
    )
    claims = discovery(client, policy="B2C_1_Claims").json()["claims_supported"]
    assert {"sub", "oid", "iss", "iat", "exp", "aud", "nbf", "auth_time", "ver", "idp"} <= set(claims)
    assert {"acr", "emails", "name"} <= set(claims)
    assert "tfp" not in claims and "given_name" not in claims
    assert len(claims) == len(set(claims))


def test_discovery_is_cacheable_and_revalidates_with_its_etag(client, policy):
    response = discovery(client)
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["ETag"]
    again = discovery(client, if_none_match=response["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == response["ETag"]


def test_head_is_answered_like_get(client, policy):
    response = client.head(f"/{TENANT}/B2C_1_ROPC_Auth/v2.0/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_the_query_shape_without_a_policy_is_a_json_400(client, policy):
    response = client.get(f"/{TENANT}/v2.0/.well-known/openid-configuration")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "?p=" in response.json()["error_description"]


@pytest.mark.spec("SPEC.md", "§9 until then discovery advertises only what is served")
def test_discovery_advertises_no_logout_no_authorization_response_and_no_code(client, policy):
    doc = discovery(client).json()
    assert "end_session_endpoint" not in doc  # no logout is served (OIDC RP-Initiated Logout, optional)
    assert "response_modes_supported" not in doc  # no authorization response is ever sent
    assert "code" not in doc["response_types_supported"]
    assert "authorization_code" not in doc["grant_types_supported"]
    assert set(doc) == {
        "issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "revocation_endpoint",
        "introspection_endpoint", "revocation_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported", "response_types_supported", "scopes_supported",
        "subject_types_supported", "id_token_signing_alg_values_supported", "token_endpoint_auth_methods_supported",
        "grant_types_supported", "claims_supported",
        # RFC 8414 §2: with private_key_jwt, the algorithms its assertions may use, per endpoint.
        "token_endpoint_auth_signing_alg_values_supported", "revocation_endpoint_auth_signing_alg_values_supported",
        "introspection_endpoint_auth_signing_alg_values_supported",
    }


@pytest.mark.spec("SPEC.md", "§9 until then discovery advertises only what is served")
@pytest.mark.parametrize("field", ["authorization_endpoint", "token_endpoint", "jwks_uri", "revocation_endpoint",
                                   "introspection_endpoint"])
def test_every_advertised_endpoint_answers_json_and_is_no_404(client, policy, signing_key, field):
    path = urlsplit(discovery(client).json()[field]).path
    for response in (client.get(path), client.post(path)):
        assert response.status_code != 404, (field, response.status_code, response.content[:200])
        assert response["Content-Type"] == "application/json", field


@pytest.mark.spec("OIDC Discovery 1.0", "§3 authorization_endpoint REQUIRED")
@pytest.mark.parametrize("method", ["get", "post"])
def test_the_authorization_endpoint_says_interactive_sign_in_is_not_available(client, policy, method):
    # What MSAL's interactive flow would send: an authorization-code request with PKCE and a redirect URI.
    query = ("response_type=code&client_id=00000000-0000-0000-0000-000000000001&scope=openid"
             "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&state=s&code_challenge=x&code_challenge_method=S256")
    for url in (f"/{TENANT}/B2C_1_ROPC_Auth/oauth2/v2.0/authorize?{query}",
                f"/{TENANT}/oauth2/v2.0/authorize?p=b2c_1_ropc_auth&{query}"):
        response = getattr(client, method)(url)
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        assert response["Cache-Control"] == "no-store"
        assert "Location" not in response  # never a redirect to a redirect_uri nobody validated
        body = response.json()
        assert body["error"] == "unsupported_response_type"
        assert body["error_description"].startswith("Interactive sign-in is not available on this server")
        assert "grant_type=password" in body["error_description"]


def test_the_authorization_endpoint_of_an_unknown_policy_or_tenant_is_a_json_404(client, policy):
    for url in (f"/{TENANT}/B2C_1_Nope/oauth2/v2.0/authorize", f"/{TENANT}/oauth2/v2.0/authorize?p=B2C_1_%00",
                "/fabrikam.example/B2C_1_ROPC_Auth/oauth2/v2.0/authorize"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"] == "not_found"
    missing = client.get(f"/{TENANT}/oauth2/v2.0/authorize")
    assert missing.status_code == 400 and "?p=" in missing.json()["error_description"]


@pytest.mark.spec("issue 17", "item 5: IDENTITY_BASE_URL unset with TLS")
def test_discovery_over_https_with_an_http_public_origin_is_a_421_naming_the_fix(client, policy, settings):
    # What a TLS server started with DEBUG=true and no IDENTITY_BASE_URL has: the development default.
    settings.IDENTITY_BASE_URL = "http://127.0.0.1:8000"
    response = discovery(client, secure=True)
    assert response.status_code == 421
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == "misdirected_request"
    assert "set IDENTITY_BASE_URL=https://testserver" in body["error_description"]
    assert "_endpoint" not in response.content.decode()  # no document, so no http endpoint advertised


def test_an_http_public_origin_is_still_advertised_over_plain_http(client, policy, settings):
    settings.IDENTITY_BASE_URL = "http://127.0.0.1:8000"  # `make run`: http all the way
    response = discovery(client)
    assert response.status_code == 200
    assert response.json()["token_endpoint"].startswith("http://127.0.0.1:8000/")


def test_an_https_public_origin_reached_over_plain_http_is_advertised(client, policy):
    response = discovery(client)  # behind a TLS-terminating proxy: https outside, plain http to us
    assert response.status_code == 200
    assert response.json()["token_endpoint"].startswith(BASE_URL + "/")


@pytest.mark.spec("RFC 8414", "§2 revocation_endpoint_auth_methods_supported")
def test_revocation_advertises_none_for_public_clients_and_introspection_does_not(client, policy):
    """Public clients revoke their own refresh tokens by client_id alone (RFC 7009 §2.1): "none" (RFC 7591
    §2) is a method of the revocation endpoint; introspection stays for confidential clients."""
    doc = discovery(client).json()
    assert doc["revocation_endpoint_auth_methods_supported"] == [
        "client_secret_post", "client_secret_basic", "private_key_jwt", "none"]
    assert "none" not in doc["introspection_endpoint_auth_methods_supported"]
