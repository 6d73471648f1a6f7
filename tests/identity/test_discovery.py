"""identity.discovery: the issuer and endpoint builders the token endpoint reuses (SPEC §2, §3)."""

import pytest

from identity import discovery
from identity.tenant import tenant_id
from policies import services as policies
from tests.conftest import ACTOR

pytestmark = pytest.mark.django_db


def test_issuer_is_the_base_url_and_tenant_id_by_default(policy):
    assert discovery.issuer_for(policy) == f"https://login.contoso.test/{tenant_id()}/v2.0/"


def test_issuer_with_tfp_names_the_policy_in_lower_case():
    policy, _ = policies.policy_create_or_update(
        actor=ACTOR, policy_id="B2C_1A_ROPC_Auth", issuer_pattern="AuthorityWithTfp"
    )
    assert discovery.issuer_for(policy) == f"https://login.contoso.test/tfp/{tenant_id()}/b2c_1a_ropc_auth/v2.0/"


def test_endpoints_follow_the_base_url_setting(policy, settings):
    settings.IDENTITY_BASE_URL = "https://id.example.org/prefix/"
    assert discovery.token_endpoint_url(policy) == (
        "https://id.example.org/prefix/contoso.onmicrosoft.com/b2c_1_ropc_auth/oauth2/v2.0/token"
    )
    assert discovery.jwks_uri(policy).endswith("/contoso.onmicrosoft.com/b2c_1_ropc_auth/discovery/v2.0/keys")
    assert discovery.issuer_for(policy).startswith("https://id.example.org/prefix/")


def test_claims_supported_add_the_policy_claim_and_output_claims_once():
    policy, _ = policies.policy_create_or_update(
        actor=ACTOR, policy_id="B2C_1_Claims", output_claims=["objectId", "identityProvider", "givenName"]
    )
    claims = discovery.claims_supported(policy)
    assert claims.count("oid") == 1 and claims.count("idp") == 1
    assert "tfp" in claims and "given_name" in claims and "acr" not in claims


def test_the_document_lists_every_required_oidc_field(policy):
    doc = discovery.discovery_document(policy)
    required = {"issuer", "authorization_endpoint", "jwks_uri", "response_types_supported",
                "subject_types_supported", "id_token_signing_alg_values_supported", "token_endpoint"}
    assert required <= set(doc)
