"""Every error outside the admin is JSON (SPEC §2): unknown tenant or policy, wrong method, 500s, MSAL's realm probe."""

import pytest
from django.test import Client

from policies import services as policies
from tests.conftest import ACTOR
from tests.flows.conftest import TENANT

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§2")]

METADATA_URLS = (
    "/{tenant}/{policy}/v2.0/.well-known/openid-configuration",
    "/{tenant}/v2.0/.well-known/openid-configuration?p={policy}",
    "/{tenant}/{policy}/discovery/v2.0/keys",
    "/{tenant}/discovery/v2.0/keys?p={policy}",
)


def assert_json_error(response, status: int, error: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == error
    assert body["error_description"]
    return body


@pytest.mark.parametrize("url", METADATA_URLS)
def test_unknown_tenant_is_a_json_404(client, policy, url):
    response = client.get(url.format(tenant="fabrikam.onmicrosoft.com", policy="B2C_1_ROPC_Auth"))
    body = assert_json_error(response, 404, "not_found")
    assert "fabrikam.onmicrosoft.com" in body["error_description"]


@pytest.mark.parametrize("url", METADATA_URLS)
def test_unknown_policy_is_a_json_404(client, policy, url):
    response = client.get(url.format(tenant=TENANT, policy="B2C_1_Nope"))
    body = assert_json_error(response, 404, "not_found")
    assert body["error_description"].startswith("AADB2C90022: ")
    assert "B2C_1_Nope" in body["error_description"]


@pytest.mark.parametrize("url", METADATA_URLS)
def test_disabled_policy_is_a_json_404(client, url):
    policies.policy_create_or_update(actor=ACTOR, policy_id="B2C_1_Off", enabled=False)
    assert_json_error(client.get(url.format(tenant=TENANT, policy="B2C_1_Off")), 404, "not_found")


@pytest.mark.parametrize("policy_id", ["B2C_1_%00x", "not-a-policy", "B2C_1_" + "x" * 5000, "%E2%98%83"])
def test_malformed_policy_ids_are_a_json_404_never_a_500(client, policy, policy_id):
    assert_json_error(client.get(f"/{TENANT}/{policy_id}/discovery/v2.0/keys"), 404, "not_found")
    assert_json_error(client.get(f"/{TENANT}/discovery/v2.0/keys?p={policy_id}"), 404, "not_found")


@pytest.mark.parametrize("path", ["/nothing-here", "/a/b/c/d/e/f", f"/{TENANT}/B2C_1_ROPC_Auth/v2.0/"])
def test_an_unknown_address_is_a_json_404(client, path):
    assert_json_error(client.get(path), 404, "not_found")


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
@pytest.mark.parametrize("url", [
    f"/{TENANT}/B2C_1_ROPC_Auth/v2.0/.well-known/openid-configuration",
    f"/{TENANT}/B2C_1_ROPC_Auth/discovery/v2.0/keys",
    "/healthz", "/readyz", "/common/userrealm/alice@contoso.test",
])
def test_a_wrong_method_is_a_json_405(policy, method, url):
    # enforce_csrf_checks: a browser-less client has no CSRF token; it must still get a 405, not a 403 page.
    response = getattr(Client(enforce_csrf_checks=True), method)(url)
    assert_json_error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_a_server_error_is_json_without_detail(policy, monkeypatch):
    def boom(policy):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("identity.views.discovery.discovery_document", boom)
    response = Client(raise_request_exception=False).get(
        f"/{TENANT}/B2C_1_ROPC_Auth/v2.0/.well-known/openid-configuration"
    )
    body = assert_json_error(response, 500, "server_error")
    assert "secret internals" not in response.content.decode()
    assert "RuntimeError" not in body["error_description"]


def test_a_host_not_allowed_is_a_json_400(client):
    assert_json_error(client.get("/healthz", headers={"host": "evil.example"}), 400, "invalid_request")


def test_the_admin_keeps_its_own_pages(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.spec("notes/msal-python.md", "user realm lookup before ROPC")
@pytest.mark.parametrize("username", ["alice@contoso.test", "alice", "ALICE%40contoso.test", "a/b"])
def test_msal_user_realm_probe_is_a_json_404(client, username):
    # A 404 (and only a 404) makes MSAL skip realm discovery and go on to plain ROPC.
    response = client.get(f"/common/userrealm/{username}", {"api-version": "1.0"})
    assert_json_error(response, 404, "not_found")
