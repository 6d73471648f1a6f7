"""Reuse detection revokes the whole family even while a refresh is minting a successor (SPEC §4.2, T29/T55).

Under PostgreSQL's READ COMMITTED, one UPDATE of the family cannot see a successor a concurrent refresh
inserts while the UPDATE waits for that refresh's row lock; the revocation must go on until no live
token is left. SQLite serialises writers (IMMEDIATE transactions), so the race needs PostgreSQL.

A refresh's one-statement rotation holds the lock for that statement only; the locked path (taken when a
redemption is contended) holds it to the end of its transaction, so the test drives that one to widen
the window. The family revocation is the same loop for both.
"""

import threading
import time
from unittest import mock

import pytest
from django.db import connection, connections
from django.test import Client

from applications.refresh_tokens import RotationContended
from identity.keys.services import signing_key_rotate
from identity.oauth import responses
from identity.oauth.grants.refresh_token import RefreshTokenGrant
from tests.conftest import ACTOR
from tests.flows.token_helpers import post_token, refresh_data, ropc_data

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.spec("SPEC.md", "§4.2")]


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="needs PostgreSQL: the race is about READ COMMITTED snapshots; SQLite serialises writers")
def test_reuse_revokes_a_successor_minted_during_the_revocation(native_app, user, policy, settings):
    settings.REFRESH_TOKEN_REUSE_GRACE_SECONDS = 0
    signing_key_rotate(actor=ACTOR)
    client_id = str(native_app.client_id)
    first = post_token(Client(), ropc_data(client_id)).json()["refresh_token"]
    second = post_token(Client(), refresh_data(client_id, first)).json()["refresh_token"]
    live = post_token(Client(), refresh_data(client_id, second)).json()["refresh_token"]
    rotate, redeem = responses.refresh_token_rotate, RefreshTokenGrant._redeem

    def is_in_flight() -> bool:
        return threading.current_thread().name == "in-flight refresh"

    def locked_redeem(self, request, *, lock):  # the legitimate refresh takes the locked path ...
        if is_in_flight() and not lock:
            raise RotationContended
        return redeem(self, request, lock=lock)

    def slow_rotate(**kwargs):  # ... and holds its row lock a while after minting the successor
        rotated = rotate(**kwargs)
        if is_in_flight():
            time.sleep(1.0)
        return rotated

    results = {}

    def refresh_in_flight():
        try:
            results["refresh"] = post_token(Client(), refresh_data(client_id, live))
        finally:
            connections.close_all()  # the thread's own connection, or the test database cannot be dropped

    with mock.patch.object(responses, "refresh_token_rotate", slow_rotate), \
            mock.patch.object(RefreshTokenGrant, "_redeem", locked_redeem):
        in_flight = threading.Thread(name="in-flight refresh", target=refresh_in_flight)
        in_flight.start()
        time.sleep(0.3)
        reuse = post_token(Client(), refresh_data(client_id, first))  # two generations old: theft
        in_flight.join(timeout=30)
    assert reuse.status_code == 400 and "AADB2C90129" in reuse.json()["error_description"]
    assert results["refresh"].status_code == 200
    minted_meanwhile = results["refresh"].json()["refresh_token"]
    after = post_token(Client(), refresh_data(client_id, minted_meanwhile))
    assert after.status_code == 400, "a successor minted during the family revocation survived it"
