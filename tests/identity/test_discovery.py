"""identity.discovery: the issuer and endpoint builders the token endpoint reuses (SPEC §2, §3)."""

import json

import msal
import pytest
from django.test import RequestFactory

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
    assert all(doc[field] for field in required)


class DocumentHttp:
    """MSAL's http_client, answering every GET with one discovery document."""

    def __init__(self, document: dict) -> None:
        self.text, self.status_code = json.dumps(document), 200

    def get(self, url, **kwargs):
        return self


def test_the_document_keeps_the_authorization_endpoint_msal_reads_unconditionally(policy):
    # msal/authority.py: `self.authorization_endpoint = openid_config['authorization_endpoint']`.
    doc = discovery.discovery_document(policy)
    assert doc["authorization_endpoint"] == f"{discovery.policy_url(policy)}/oauth2/v2.0/authorize"
    authority = msal.authority.Authority(discovery.authority_url(policy), DocumentHttp(doc))
    assert authority.token_endpoint == doc["token_endpoint"]
    without = {k: v for k, v in doc.items() if k != "authorization_endpoint"}
    with pytest.raises(KeyError, match="authorization_endpoint"):
        msal.authority.Authority(discovery.authority_url(policy), DocumentHttp(without))


def test_the_authority_names_the_policy_as_registered_and_discovery_sits_under_it(policy):
    assert discovery.authority_url(policy) == "https://login.contoso.test/contoso.onmicrosoft.com/B2C_1_ROPC_Auth"
    assert discovery.discovery_url(policy) == (
        "https://login.contoso.test/contoso.onmicrosoft.com/b2c_1_ropc_auth/v2.0/.well-known/openid-configuration"
    )


@pytest.mark.parametrize(("base_url", "secure", "mismatch"), [
    ("http://127.0.0.1:8000", True, True),  # TLS server, IDENTITY_BASE_URL unset in DEBUG
    ("http://127.0.0.1:8000", False, False),  # make run
    ("https://login.contoso.test", False, False),  # behind a TLS-terminating proxy
    ("https://login.contoso.test", True, False),
])
def test_origin_mismatch_only_for_an_https_request_and_an_http_origin(settings, base_url, secure, mismatch):
    settings.IDENTITY_BASE_URL = base_url
    request = RequestFactory().get("/", secure=secure, headers={"host": "localhost:8443"})
    text = discovery.origin_mismatch(request)
    assert (text is not None) is mismatch
    if mismatch:
        assert "IDENTITY_BASE_URL=https://localhost:8443" in text and base_url in text
