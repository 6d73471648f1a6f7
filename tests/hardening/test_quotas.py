"""Request quotas at the token endpoint (issue 4): 429 JSON AADB2C90244 + Retry-After; T51 (b, c), T62.

Per client id per second and per client IP per five minutes, counted in the cache (cleared for every
test). The window is fixed, so the clock `identity.ratelimit` reads is pinned: four requests cannot
straddle a second boundary.
"""

import base64
import contextlib
import math
import threading
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
    with contextlib.ExitStack() as outage:
        if backend.__class__.__name__ == "RedisCache":  # and Redis's socket, which the quotas' pipeline uses
            from redis.connection import AbstractConnection

            outage.enter_context(mock.patch.object(AbstractConnection, "send_packed_command", down))
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


# --- the client quota counts authenticated clients by their registered id (issue 18 item 3) ----------------

STRANGER = "203.0.113.66"
DAEMON_HOST = "198.51.100.10"


def from_ip(address: str) -> dict:
    """Request headers that say which client address our one trusted proxy saw."""
    return {"HTTP_X_FORWARDED_FOR": address}


def id_variants(client_id: str) -> list[str]:
    """Spellings of one client id that name the same app registration (case, surrounding whitespace)."""
    return [client_id, client_id.upper(), f" {client_id}", f"{client_id.upper()}\t", f"\n{client_id.title()} ",
            f"  {client_id}  ", client_id.swapcase()]


def test_a_strangers_wrong_secrets_do_not_rate_limit_the_real_daemon(client, demo, settings, pinned_clock):
    """Issue 18 item 3: six requests with the daemon's (public) client id and a wrong secret made the real
    daemon's next request a 429. Failed client authentications no longer count against the client's quota."""
    settings.RATE_LIMIT_CLIENT_PER_SECOND = 5
    settings.RATE_LIMIT_IP_PER_5_MINUTES = 0
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(6):
        response = post_form(client, demo, cc_form(demo, client_secret="not-the-secret"), **from_ip(STRANGER))
        assert response.status_code in (401, 429), response.content
    for _ in range(5):  # the daemon's whole quota is still its own
        assert post_form(client, demo, cc_form(demo), **from_ip(DAEMON_HOST)).status_code == 200
    assert_throttled(post_form(client, demo, cc_form(demo), **from_ip(DAEMON_HOST)))  # and it is enforced


def test_case_and_whitespace_variants_of_a_client_id_share_one_quota(client, demo, settings, pinned_clock):
    """Issue 18 item 3: the daemon got 14 x 200 in one second by varying its id's case and whitespace."""
    settings.RATE_LIMIT_CLIENT_PER_SECOND = 3
    settings.RATE_LIMIT_IP_PER_5_MINUTES = 0
    codes = [post_form(client, demo, cc_form(demo, client_id=variant)).status_code
             for variant in id_variants(demo.daemon_client_id) * 2]
    assert codes == [200] * 3 + [429] * (len(codes) - 3)
    # Through Basic as well (the id form-encoded in the header).
    basic = base64.b64encode(f"{demo.daemon_client_id.upper()}:{demo.daemon_client_secret}".encode()).decode()
    form = cc_form(demo)
    del form["client_id"], form["client_secret"]
    assert_throttled(post_form(client, demo, form, HTTP_AUTHORIZATION=f"Basic {basic}"))


def test_a_public_clients_quota_counts_its_id_variants_together(client, demo, settings, pinned_clock):
    settings.RATE_LIMIT_CLIENT_PER_SECOND = 2
    settings.RATE_LIMIT_IP_PER_5_MINUTES = 0
    variants = id_variants(demo.native_client_id)
    assert ropc(client, demo).status_code == 200
    assert post_form(client, demo, ropc_form(demo, client_id=variants[1])).status_code == 200
    assert_throttled(post_form(client, demo, ropc_form(demo, client_id=variants[2])))
    assert_throttled(post_form(client, demo, ropc_form(demo, client_id=variants[3])))


def test_requests_whose_client_fails_authentication_do_not_count_against_its_quota(client, demo, settings,
                                                                                  pinned_clock):
    """Unknown ids, wrong secrets, a secret sent for a public client: none of them is the client."""
    settings.RATE_LIMIT_CLIENT_PER_SECOND = 1
    settings.RATE_LIMIT_IP_PER_5_MINUTES = 0
    settings.RATE_LIMIT_CLIENT_AUTH_FAILURES_PER_5_MINUTES = 0
    for _ in range(3):
        assert post_form(client, demo, cc_form(demo, client_secret="wrong")).status_code == 401
        assert post_form(client, demo, ropc_form(demo, client_secret="a-secret")).status_code == 400
        assert post_form(client, demo, cc_form(demo, client_id="00000000-0000-4000-8000-000000000000")
                         ).status_code == 401
    assert post_form(client, demo, cc_form(demo)).status_code == 200
    assert ropc(client, demo).status_code == 200
    assert_throttled(post_form(client, demo, cc_form(demo)))


def test_failed_client_authentications_have_their_own_budget_per_client_and_address(client, demo, settings,
                                                                                    pinned_clock):
    settings.RATE_LIMIT_CLIENT_PER_SECOND = 0
    settings.RATE_LIMIT_IP_PER_5_MINUTES = 0
    settings.RATE_LIMIT_CLIENT_AUTH_FAILURES_PER_5_MINUTES = 3
    settings.TRUSTED_PROXY_COUNT = 1
    wrong = cc_form(demo, client_secret="not-the-secret")
    for _ in range(3):
        assert post_form(client, demo, wrong, **from_ip(STRANGER)).status_code == 401
    retry_after = assert_throttled(post_form(client, demo, wrong, **from_ip(STRANGER)))
    assert retry_after == math.ceil((int(PINNED // 300) + 1) * 300 - PINNED)  # the rest of the 5-minute window
    # Spelling the id differently is the same budget.
    assert_throttled(post_form(client, demo, cc_form(demo, client_id=f" {demo.daemon_client_id.upper()}",
                                                     client_secret="x"), **from_ip(STRANGER)))
    # The daemon is served, from its own address and even from the stranger's: only failures are budgeted.
    assert post_form(client, demo, cc_form(demo), **from_ip(DAEMON_HOST)).status_code == 200
    assert post_form(client, demo, cc_form(demo), **from_ip(STRANGER)).status_code == 200
    # Another address with the same wrong secret has a budget of its own; so has another client.
    assert post_form(client, demo, wrong, **from_ip("203.0.113.67")).status_code == 401
    assert post_form(client, demo, ropc_form(demo, client_secret="x"), **from_ip(STRANGER)).status_code == 400


def test_requests_over_the_failure_budget_are_not_recorded_as_sign_in_events(client, demo, settings,
                                                                            pinned_clock):
    settings.RATE_LIMIT_CLIENT_PER_SECOND = 0
    settings.RATE_LIMIT_IP_PER_5_MINUTES = 0
    settings.RATE_LIMIT_CLIENT_AUTH_FAILURES_PER_5_MINUTES = 2
    wrong = cc_form(demo, client_secret="not-the-secret")
    for _ in range(2):
        assert post_form(client, demo, wrong).status_code == 401
    before = SignInEvent.objects.count()
    for _ in range(5):
        assert_throttled(post_form(client, demo, wrong))
    assert SignInEvent.objects.count() == before


def test_failures_at_revocation_and_introspection_count_against_the_same_budget(client, demo, settings,
                                                                              pinned_clock):
    settings.RATE_LIMIT_CLIENT_PER_SECOND = 0
    settings.RATE_LIMIT_IP_PER_5_MINUTES = 0
    settings.RATE_LIMIT_CLIENT_AUTH_FAILURES_PER_5_MINUTES = 2
    wrong = {"client_id": demo.daemon_client_id, "client_secret": "not-the-secret", "token": "x"}
    assert post_form(client, demo, wrong, name="revoke").status_code == 401
    assert post_form(client, demo, wrong, name="introspect").status_code == 401
    assert_throttled(post_form(client, demo, wrong, name="revoke"))
    assert_throttled(post_form(client, demo, cc_form(demo, client_secret="not-the-secret")))


# --- what the quotas cost: cache round trips per token --------------------------------------------------------

CACHE_CALLS = ("get", "get_many", "set", "set_many", "add", "incr", "decr", "delete", "delete_many", "touch",
               "has_key")


@pytest.fixture
def cache_round_trips(monkeypatch):
    """Counts round trips to the cache: writes to Redis's socket (a pipeline is one), or, with the local-memory
    cache, calls of the cache's API (each would be one round trip to a shared cache)."""
    backend = caches["default"]
    trips = {"n": 0}
    if backend.__class__.__name__ == "RedisCache":
        from redis.connection import AbstractConnection

        original = AbstractConnection.send_packed_command

        def counted(self, command, check_health=True):
            trips["n"] += 1
            return original(self, command, check_health)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    else:
        inside = threading.local()  # get_many calls get: one call of the API is one round trip

        for name in CACHE_CALLS:
            original_call = getattr(backend, name)

            def counted_call(*args, _call=original_call, **kwargs):
                if getattr(inside, "call", False):
                    return _call(*args, **kwargs)
                trips["n"] += 1
                inside.call = True
                try:
                    return _call(*args, **kwargs)
                finally:
                    inside.call = False

            monkeypatch.setattr(backend, name, counted_call)
    return trips


def trips_of(trips: dict, send) -> int:
    before = trips["n"]
    response = send()
    assert response.status_code == 200, response.content
    return trips["n"] - before


def test_a_client_credentials_token_costs_two_cache_round_trips(client, demo, settings, pinned_clock,
                                                                cache_round_trips):
    """The IP quota and the client's quota, one round trip each (Redis: INCR and EXPIRE pipelined), in the
    steady state (the window's counters exist). Issue 18's baseline, before the client was counted after its
    authentication: 2 on the local-memory cache and 4 on Redis (Django's incr is EXISTS, then INCR)."""
    settings.RATE_LIMIT_CLIENT_PER_SECOND = 1000
    settings.RATE_LIMIT_IP_PER_5_MINUTES = 1000
    send = lambda: post_form(client, demo, cc_form(demo))  # noqa: E731
    send()
    assert [trips_of(cache_round_trips, send) for _ in range(3)] == [2, 2, 2]


def test_a_password_sign_in_costs_four_cache_round_trips(client, demo, settings, pinned_clock, cache_round_trips):
    """The two quotas, and smart lockout's two looks (before queueing for a hashing slot, and once one is
    held). Baseline: 4 on the local-memory cache, 6 on Redis."""
    settings.RATE_LIMIT_CLIENT_PER_SECOND = 1000
    settings.RATE_LIMIT_IP_PER_5_MINUTES = 1000
    send = lambda: ropc(client, demo)  # noqa: E731
    send()
    assert [trips_of(cache_round_trips, send) for _ in range(3)] == [4, 4, 4]
