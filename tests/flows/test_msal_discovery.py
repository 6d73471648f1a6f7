"""MSAL Python reads our discovery document as it reads B2C's (SPEC §2; notes/msal-python.md)."""

from urllib.parse import urlencode, urlsplit

import msal
import pytest

from tests.flows.conftest import BASE_URL, TENANT

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§2")]


class _Response:
    def __init__(self, response):
        self.status_code = response.status_code
        self.text = response.content.decode()
        self.headers = dict(response.headers)

    def raise_for_status(self):
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}")


class DjangoHttpClient:
    """MSAL's http_client interface, answered by Django's test client instead of the network."""

    def __init__(self, client):
        self.client, self.requested = client, []

    def get(self, url, params=None, headers=None, **kwargs):
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == BASE_URL
        self.requested.append(parts.path)
        query = "&".join(q for q in (parts.query, urlencode(params or {})) if q)
        return _Response(self.client.get(f"{parts.path}?{query}" if query else parts.path))

    def post(self, url, **kwargs):
        raise AssertionError("discovery only")

    def close(self):
        pass


def test_msal_takes_its_token_endpoint_from_our_discovery(client, policy):
    http = DjangoHttpClient(client)
    app = msal.PublicClientApplication(
        "00000000-0000-0000-0000-000000000001", authority=f"{BASE_URL}/{TENANT}/B2C_1_ROPC_Auth", http_client=http,
    )
    assert app.authority.token_endpoint == f"{BASE_URL}/{TENANT}/b2c_1_ropc_auth/oauth2/v2.0/token"
    assert http.requested == [f"/{TENANT}/B2C_1_ROPC_Auth/v2.0/.well-known/openid-configuration"]


def test_msal_reports_an_unknown_policy_as_a_bad_authority(client, policy):
    with pytest.raises(ValueError, match="authority"):
        msal.PublicClientApplication(
            "00000000-0000-0000-0000-000000000001", authority=f"{BASE_URL}/{TENANT}/B2C_1_Nope",
            http_client=DjangoHttpClient(client),
        )
