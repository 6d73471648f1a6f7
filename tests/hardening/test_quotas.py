"""Request quotas at the token endpoint (issue 4): 429 JSON AADB2C90244 + Retry-After; T51 (b, c), T62.

Per client id per second and per client IP per five minutes, counted in the cache (cleared for every
test). The window is fixed, so the clock `identity.ratelimit` reads is pinned: four requests cannot
straddle a second boundary.
"""

import base64
import math
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core.cache import caches

from audit.models import SignInEvent
from identity import ratelimit
from tests.hardening.conftest import post_form, ropc, ropc_form

pytestmark = pytest.mark.spec("SPEC.md", "§2")

PINNED = 1_900_000_000.25  # a quarter past a whole second: the 1 s window has 0.75 s left


@pytest.fixture
def pinned_clock():
    with mock.patch.object(ratelimit, "time", SimpleNamespace(time=lambda: PINNED)):
        yield PINNED


def assert_throttled(response, *, at_least: int = 1) -> int:
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == "slow_down"
    assert body["error_description"].startswith("AADB2C90244")
    retry_after = int(response["Retry-After"])
    assert retry_after >= at_least
    return retry_after


def assert_served(response) -> None:
    """Not throttled (the answer itself may be a refusal)."""
    assert response.status_code in (200, 400, 401), (response.status_code, response.content)
    assert response.status_code != 429


def cc_form(demo, **extra) -> dict:
    return {"grant_type": "client_credentials", "client_id": demo.daemon_client_id,
            "client_secret": demo.daemon_client_secret, "scope": f"{demo.api_app_id_uri}/.default", **extra}


def test_the_fourth_request_of_a_client_within_a_second_is_429(client, demo, settings, pinned_clock):
    settings.RATE_LIMIT_CLIENT_PER_SECOND = 3
    settings.RATE_LIMIT_IP_PER_5_MINUTES = 0
    for _ in range(3):
        assert post_form(client, demo, cc_form(demo)).status_code == 200
    retry_after = assert_throttled(post_form(client, demo, cc_form(demo)))
    assert retry_after == 1
    # Another client is not affected, whether it names itself in the body or with Basic.
    assert ropc(client, demo).status_code == 200
    # The same client through Basic counts against the same quota.
    basic = base64.b64encode(f"{demo.daemon_client_id}:{demo.daemon_client_secret}".encode()).decode()
    form = cc_form(demo)
    del form["client_id"], form["client_secret"]
    assert_throttled(post_form(client, demo, form, HTTP_AUTHORIZATION=f"Basic {basic}"))
    # The next second is a new window.
    with mock.patch.object(ratelimit, "time", SimpleNamespace(time=lambda: PINNED + 1)):
        assert post_form(client, demo, cc_form(demo)).status_code == 200


def test_throttled_requests_are_not_recorded_as_sign_in_events(client, demo, settings, pinned_clock):
    settings.RATE_LIMIT_CLIENT_PER_SECOND = 1
    settings.RATE_LIMIT_IP_PER_5_MINUTES = 0
    post_form(client, demo, cc_form(demo))
    before = SignInEvent.objects.count()
    for _ in range(5):
        assert_throttled(post_form(client, demo, cc_form(demo)))
    assert SignInEvent.objects.count() == before


def test_the_ip_quota_counts_every_client_from_one_address(client, demo, settings, pinned_clock):
    settings.RATE_LIMIT_CLIENT_PER_SECOND = 0
    settings.RATE_LIMIT_IP_PER_5_MINUTES = 3
    assert_served(ropc(client, demo))
    assert_served(post_form(client, demo, cc_form(demo)))
    assert_served(ropc(client, demo, "nobody", "wrong"))
    retry_after = assert_throttled(ropc(client, demo))
    window_end = (int(PINNED // 300) + 1) * 300
    assert retry_after == math.ceil(window_end - PINNED)  # the rest of the five-minute window
    assert 1 <= retry_after <= 300
    # Another address is not affected.
    assert_served(ropc(client, demo, REMOTE_ADDR="198.51.100.7"))


def test_zero_disables_both_quotas(client, demo, settings, pinned_clock):
    settings.RATE_LIMIT_CLIENT_PER_SECOND = 0
    settings.RATE_LIMIT_IP_PER_5_MINUTES = 0
    for _ in range(25):
        assert post_form(client, demo, cc_form(demo)).status_code == 200


def test_x_forwarded_for_is_ignored_without_trusted_proxies(client, demo, settings, pinned_clock):
    """T51(c): a client cannot dodge the IP quota by writing its own X-Forwarded-For."""
    settings.RATE_LIMIT_CLIENT_PER_SECOND = 0
    settings.RATE_LIMIT_IP_PER_5_MINUTES = 3
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(3):
        assert_served(ropc(client, demo, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"))
    assert_throttled(ropc(client, demo, HTTP_X_FORWARDED_FOR="203.0.113.99"))
    assert_throttled(ropc(client, demo, HTTP_X_FORWARDED_FOR="203.0.113.98, 203.0.113.97"))
    event = SignInEvent.objects.order_by("-id").first()
    assert event.ip_address == "127.0.0.1"  # the socket's address, not the header


def test_x_forwarded_for_is_honoured_behind_one_trusted_proxy(client, demo, settings, pinned_clock):
    settings.RATE_LIMIT_CLIENT_PER_SECOND = 0
    settings.RATE_LIMIT_IP_PER_5_MINUTES = 2
    settings.TRUSTED_PROXY_COUNT = 1
    # The right-most address is the one our proxy saw; what the client wrote to its left is not believed.
    assert_served(ropc(client, demo, HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.1"))
    assert SignInEvent.objects.order_by("-id").first().ip_address == "198.51.100.1"
    assert_served(ropc(client, demo, HTTP_X_FORWARDED_FOR="10.8.8.8, 198.51.100.1"))
    assert_throttled(ropc(client, demo, HTTP_X_FORWARDED_FOR="10.7.7.7, 198.51.100.1"))
    # Behind the proxy every client shares the socket address; each real client has its own budget.
    for n in range(2):
        assert_served(ropc(client, demo, HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 2}"))
        assert SignInEvent.objects.order_by("-id").first().ip_address == f"198.51.100.{n + 2}"
    # No header (a request that bypassed the proxy): the socket address is used.
    assert_served(ropc(client, demo))
    assert SignInEvent.objects.order_by("-id").first().ip_address == "127.0.0.1"


def test_with_the_cache_failing_requests_are_still_served(client, demo, settings, monkeypatch):
    settings.RATE_LIMIT_CLIENT_PER_SECOND = 1
    settings.RATE_LIMIT_IP_PER_5_MINUTES = 1
    backend = caches["default"]
    failures = {"n": 0}

    def down(*args, **kwargs):
        failures["n"] += 1
        raise ConnectionError("cache is down (test)")

    for name in ("get", "set", "add", "incr", "delete"):
        monkeypatch.setattr(backend, name, down)
    for _ in range(5):
        assert post_form(client, demo, cc_form(demo)).status_code == 200
        assert ropc(client, demo).status_code == 200
    assert failures["n"] >= 1  # the cache was asked and failed (then skipped for a while: identity.cache_guard)


def test_refused_requests_count_against_the_ip_quota(client, demo, settings, pinned_clock):
    """Wrong passwords and unsupported grants are requests too: a spray is throttled per address (T51 b)."""
    settings.RATE_LIMIT_CLIENT_PER_SECOND = 0
    settings.RATE_LIMIT_IP_PER_5_MINUTES = 2
    assert_served(ropc(client, demo, "x", "y"))
    assert_served(post_form(client, demo, ropc_form(demo, grant_type="nonsense")))
    assert_throttled(ropc(client, demo))
