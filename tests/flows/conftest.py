"""Fixtures for driving the HTTP surface like a client."""

import pytest

from identity.keys.services import signing_key_rotate
from tests import protocol_wsgi_client
from tests.conftest import ACTOR

TENANT = "contoso.onmicrosoft.com"
BASE_URL = "https://login.contoso.test"


@pytest.fixture
def signing_key(db):
    return signing_key_rotate(actor=ACTOR)


# Django's test client, then the same requests through the WSGI front (identity/protocol_wsgi.py).
client = protocol_wsgi_client.client
