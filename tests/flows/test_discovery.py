"""OIDC discovery at both URL shapes (SPEC §2): issuer and endpoints from IDENTITY_BASE_URL."""

import pytest

from identity.tenant import tenant_id
from policies import services as policies
from tests.conftest import ACTOR
from tests.flows.conftest import BASE_URL, TENANT

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§2")]

URL_FIELDS = (
    "issuer", "authorization_endpoint", "token_endpoint", "end_session_endpoint", "jwks_uri",
    "revocation_endpoint", "introspection_endpoint",
)


def discovery(client, tenant=TENANT, policy="B2C_1_ROPC_Auth", **headers):
    return client.get(f"/{tenant}/{policy}/v2.0/.well-known/openid-configuration", headers=headers)


def test_discovery_with_the_policy_in_the_path_has_b2c_fields(client, policy):
    response = discovery(client)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    doc = response.json()
    assert doc["issuer"] == f"{BASE_URL}/{tenant_id()}/v2.0/"
    assert doc["token_endpoint"] == f"{BASE_URL}/{TENANT}/b2c_1_ropc_auth/oauth2/v2.0/token"
    assert doc["jwks_uri"] == f"{BASE_URL}/{TENANT}/b2c_1_ropc_auth/discovery/v2.0/keys"
    assert doc["authorization_endpoint"] == f"{BASE_URL}/{TENANT}/b2c_1_ropc_auth/oauth2/v2.0/authorize"
    assert doc["end_session_endpoint"] == f"{BASE_URL}/{TENANT}/b2c_1_ropc_auth/oauth2/v2.0/logout"
    assert doc["revocation_endpoint"] == f"{BASE_URL}/{TENANT}/b2c_1_ropc_auth/oauth2/v2.0/revoke"
    assert doc["introspection_endpoint"] == f"{BASE_URL}/{TENANT}/b2c_1_ropc_auth/oauth2/v2.0/introspect"
    assert doc["grant_types_supported"] == ["password", "refresh_token", "client_credentials"]
    assert doc["token_endpoint_auth_methods_supported"] == ["client_secret_post", "client_secret_basic",
                                                           "private_key_jwt"]
    assert doc["token_endpoint_auth_signing_alg_values_supported"] == ["RS256", "PS256"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["subject_types_supported"] == ["pairwise"]
    assert {"openid", "offline_access", "profile"} <= set(doc["scopes_supported"])
    assert doc["response_types_supported"] and doc["response_modes_supported"]


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
