"""Fixtures for the hardening tests (issue 4): a demo tenant, a clean cache, sign-in helpers.

Nothing here is autouse: the real-server tests of this package live by their own fixtures.
"""

from urllib.parse import urlencode

import pytest
from django.core.cache import cache

from identity.demo import demo_tenant_create
from tests import protocol_wsgi_client

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def clean_cache():
    """Quotas and cached locks live in the cache: every test starts (and leaves) it empty."""
    cache.clear()
    yield cache
    cache.clear()


@pytest.fixture
def demo(db, clean_cache):
    """The demo tenant: ROPC policy, public native app, API, consented daemon with a secret, user `demo`."""
    return demo_tenant_create(actor="tests-hardening")


def endpoint(demo, name: str = "token") -> str:
    return f"/{demo.tenant}/{demo.policy_id}/oauth2/v2.0/{name}"


def post_form(client, demo, data, *, name: str = "token", **headers):
    """POST `data` (dict or list of pairs) form-encoded to one of the OAuth endpoints."""
    return client.post(endpoint(demo, name), urlencode(data), content_type=FORM, **headers)


def ropc_form(demo, username: str | None = None, password: str | None = None, **extra) -> dict:
    cid = demo.native_client_id
    data = {
        "grant_type": "password", "client_id": cid, "scope": f"openid {cid} offline_access",
        "username": demo.username if username is None else username,
        "password": demo.password if password is None else password,
        "response_type": "token id_token",
    }
    data.update(extra)
    return data


def ropc(client, demo, username: str | None = None, password: str | None = None, **headers):
    return post_form(client, demo, ropc_form(demo, username, password), **headers)


# Django's test client, then the same requests through the WSGI front (identity/protocol_wsgi.py).
client = protocol_wsgi_client.client
