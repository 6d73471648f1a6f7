"""`/`: the page the admin's "View site" opens (issue 17, item 12): tenant, per-policy URLs, admin link."""

import html

import pytest
from django.test import Client

from identity.tenant import tenant_id
from policies import services as policies
from tests.conftest import ACTOR
from tests.flows.conftest import BASE_URL, TENANT

pytestmark = [pytest.mark.django_db, pytest.mark.spec("issue 17", "item 12")]


def page(client, **kwargs) -> str:
    response = client.get("/", **kwargs)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    return response.content.decode()


def test_the_landing_page_names_the_tenant_and_each_enabled_policy_with_its_urls(client, policy):
    policies.policy_create_or_update(actor=ACTOR, policy_id="B2C_1A_Second")
    policies.policy_create_or_update(actor=ACTOR, policy_id="B2C_1_Disabled", enabled=False)
    text = page(client)
    assert TENANT in text and str(tenant_id()) in text
    for policy_id in ("B2C_1_ROPC_Auth", "B2C_1A_Second"):
        lower = policy_id.lower()
        assert f"<h3>{policy_id}</h3>" in text
        assert f'<a href="{BASE_URL}/{TENANT}/{lower}/v2.0/.well-known/openid-configuration">' in text
        assert f'<a href="{BASE_URL}/{TENANT}/{lower}/discovery/v2.0/keys">' in text
        assert f"{BASE_URL}/{TENANT}/{lower}/oauth2/v2.0/token" in text
        assert f"{BASE_URL}/{TENANT}/{policy_id}</code>" in text  # the MSAL authority
    assert "B2C_1_Disabled" not in text
    assert text.index("B2C_1A_Second") < text.index("B2C_1_ROPC_Auth")  # by id
    assert '<a href="/admin/">' in text


def test_the_landing_page_links_work(client, policy, signing_key):
    text = page(client)
    for path in (f"/{TENANT}/b2c_1_ropc_auth/v2.0/.well-known/openid-configuration",
                 f"/{TENANT}/b2c_1_ropc_auth/discovery/v2.0/keys"):
        assert f'href="{BASE_URL}{path}"' in text
        assert client.get(path).status_code == 200
    assert client.get("/admin/").status_code == 302  # to the admin's login page


def test_an_empty_directory_gets_a_page_that_says_how_to_add_a_policy(client):
    text = page(client)
    assert "No policy is enabled yet" in text and "createpolicy" in text
    assert TENANT in text


def test_the_page_escapes_what_it_shows_and_loads_nothing_from_elsewhere(client, settings, policy):
    settings.IDENTITY_TENANT_NAME = '<script>alert("x")</script>.onmicrosoft.com'
    response = client.get("/")
    text = response.content.decode()
    assert "<script>" not in text
    assert html.escape(settings.IDENTITY_TENANT_NAME) in text
    assert "src=" not in text and "<link" not in text and "@import" not in text
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    assert response["X-Frame-Options"] == "DENY"


def test_over_https_with_an_http_public_origin_the_page_warns_instead_of_misleading(client, settings, policy):
    settings.IDENTITY_BASE_URL = "http://127.0.0.1:8000"
    text = page(client, secure=True)
    assert 'role="alert"' in text and "IDENTITY_BASE_URL=https://testserver" in text
    assert 'role="alert"' not in page(client)


def test_head_is_answered_and_other_methods_get_a_json_405(client):
    assert client.head("/").status_code == 200
    response = Client(enforce_csrf_checks=True).post("/")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/index.html", "/favicon.ico", "/x", "/contoso.onmicrosoft.com"])
def test_other_unknown_paths_stay_json_404s(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
