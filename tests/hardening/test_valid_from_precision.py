"""Found while running the data-at-rest flows: an access token issued *after* a password change (or a
"revoke sessions") but within the same second introspects as inactive for its whole life (T31, T32).

`identity/oauth/introspection.py::_user_still_valid` compares the token's whole-second `iat` with the
microsecond `refresh_tokens_valid_from`, so `iat` (rounded down) is earlier than a cutoff that was in
fact before the token was minted.
"""

import math
import time
from datetime import UTC, datetime
from unittest import mock

import pytest

from accounts import services as accounts
from accounts.selectors import user_get
from applications import services as applications
from tests.hardening.conftest import post_form
from tests.hardening.test_secrets_at_rest import basic

pytestmark = pytest.mark.spec("SPEC.md", "§4.2")


def at(seconds: float):
    return mock.patch("django.utils.timezone.now", return_value=datetime.fromtimestamp(seconds, UTC))


def test_a_token_issued_after_the_cutoff_in_the_same_second_is_active(client, demo, settings):
    settings.RATE_LIMIT_CLIENT_PER_SECOND = settings.RATE_LIMIT_IP_PER_5_MINUTES = 0
    web = applications.application_register(actor="tests", name="Web app", ropc=True)
    _, secret = applications.client_secret_add(application=web, actor="tests")
    second = math.floor(time.time())  # the current whole second: iat = second, never in the future

    with at(second + 0.2):
        accounts.user_set_password(user=user_get(demo.username), password="Brand-New-Pass-9", actor="tests")
    with at(second + 0.6):  # signed in 0.4 s after the change
        tokens = post_form(client, demo, {
            "grant_type": "password", "client_id": web.client_id, "client_secret": secret,
            "username": demo.username, "password": "Brand-New-Pass-9",
            "scope": f"openid {web.client_id} offline_access",
        }).json()

    introspect = {name: post_form(client, demo, {"token": tokens[name]}, name="introspect",
                                  **basic(web.client_id, secret)).json()
                  for name in ("refresh_token", "access_token")}
    assert introspect["refresh_token"]["active"] is True
    assert introspect["access_token"]["active"] is True, (
        "an access token minted 0.4 s after the password change is reported revoked")
