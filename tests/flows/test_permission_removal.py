"""A removed permission leaves client-credentials tokens (issue 18 item 5; SPEC §4.3).

Removing a granted app role revokes its admin consent (applications.services.permission_remove), and the
consent's deletion marks the directory changed: this process drops its cached consented roles at once,
every other process within DIRECTORY_CACHE_SECONDS (identity/directory_cache.py). Time is the fake
clock of tests/identity/test_directory_cache.py (window 5 s), so nothing here waits.
"""

import pytest

from applications import services as applications
from identity import directory_cache
from identity.directory_cache import DirectoryCache
from tests.conftest import ACTOR
from tests.flows import test_client_credentials as cc_flows
from tests.flows.token_helpers import assert_error, post_token
from tests.identity import test_directory_cache as cache_tests

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§4.3")]

cc = cc_flows.cc  # a signing key, the ROPC policy, the Tasks API, a daemon granted app.read and app.write
clock = cache_tests.clock
WINDOW = cache_tests.WINDOW


def roles(client, cc) -> list[str]:
    return cc_flows.issued_claims(client, cc, post_token(client, cc_flows.cc_data(cc)))["roles"]


def remove(cc, *values: str) -> None:
    applications.permission_remove(
        client=cc.daemon, targets=applications.permission_targets(api=cc.api, values=values), actor=ACTOR)


def test_a_removed_role_is_gone_from_the_next_token(client, cc, clock):
    assert roles(client, cc) == ["app.read", "app.write"]
    assert roles(client, cc) == ["app.read", "app.write"]  # now served from the cache
    remove(cc, "app.write")
    claims = cc_flows.issued_claims(client, cc, post_token(client, cc_flows.cc_data(cc)))
    assert claims["roles"] == ["app.read"] and claims["scp"] == "app.read"


def test_another_process_drops_a_removed_role_once_the_cache_window_ends(client, cc, clock, monkeypatch):
    assert roles(client, cc) == ["app.read", "app.write"]
    # The removal runs in "another process": its receivers clear that process's cache, not this one's.
    monkeypatch.setattr(directory_cache, "directory", DirectoryCache())
    remove(cc, "app.write")
    assert roles(client, cc) == ["app.read", "app.write"]  # the bounded staleness
    clock.advance(WINDOW)
    assert roles(client, cc) == ["app.read"]


def test_removing_every_granted_role_leaves_no_consent_invalid_scope(client, cc, clock):
    assert roles(client, cc) == ["app.read", "app.write"]
    remove(cc, "app.read", "app.write")
    body = assert_error(post_token(client, cc_flows.cc_data(cc)), 400, "invalid_scope")
    assert "consent" in body["error_description"].lower()
