"""Fixtures for driving the HTTP surface like a client."""

import pytest

from identity.keys.services import signing_key_rotate
from tests.conftest import ACTOR

TENANT = "contoso.onmicrosoft.com"
BASE_URL = "https://login.contoso.test"


@pytest.fixture
def signing_key(db):
    return signing_key_rotate(actor=ACTOR)
