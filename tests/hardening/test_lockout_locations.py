"""Smart lockout's familiar and unfamiliar locations (issue 18 item 4; SPEC §4.1).

Ten wrong passwords locked a name for everyone, and after the lock one more wrong password locked it
again: one request a minute kept a known user out. Now a network the name signed in from recently keeps
a counter of its own; attempts from elsewhere lock their own network first, and all unfamiliar networks
together only after LOCKOUT_UNFAMILIAR_THRESHOLD. The client's address comes from X-Forwarded-For behind
one trusted proxy, as in production. Time is moved by patching the clock `accounts.lockout` reads.
"""

import hashlib
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import lockout
from accounts.models import SignInThrottle
from tests.hardening import test_lockout
from tests.hardening.conftest import ropc
from tests.hardening.figures import record_figures
from tests.hardening.test_lockout import (
    BAD_CREDENTIALS,
    LOCKED,
    MAX_ATTEMPTS,
    assert_locked,
    code_of,
    needs_postgres,
)

pytestmark = pytest.mark.spec("SPEC.md", "§4.1")

# The lockout tests' fixtures: the clock accounts.lockout reads, and a cache that fails every call.
clock = test_lockout.clock
broken_cache = test_lockout.broken_cache

HOME = "198.51.100.20"  # where the user signs in
NEIGHBOUR = "198.51.100.99"  # the same /24
ATTACKER = "203.0.113.66"
ATTACKER_NEIGHBOUR = "203.0.113.200"
TRAVEL = "192.0.2.5"  # a network the user has never signed in from


@pytest.fixture
def proxied(settings):
    """One trusted proxy in front (its X-Forwarded-For names the client); quotas out of the way."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATE_LIMIT_CLIENT_PER_SECOND = settings.RATE_LIMIT_IP_PER_5_MINUTES = 0
    return settings


def sign_in(client, demo, ip: str, password: str | None = None, name: str | None = None):
    return ropc(client, demo, name, password, HTTP_X_FORWARDED_FOR=ip)


def fail_until_locked_from(client, demo, ip: str, *, prefix: str = "wrong") -> int:
    """Distinct wrong passwords from `ip` until the lock answers; how many were refused as wrong first."""
    for attempt in range(MAX_ATTEMPTS):
        code = code_of(sign_in(client, demo, ip, f"{prefix}-{ip}-{attempt}"))
        if code == LOCKED:
            return attempt
        assert code == BAD_CREDENTIALS
    raise AssertionError(f"not locked from {ip} after {MAX_ATTEMPTS} distinct wrong passwords")


def networks(start: int, count: int) -> list[str]:
    """Addresses in `count` different /24s."""
    return [f"100.64.{n}.7" for n in range(start, start + count)]


def lock_unfamiliar_networks(client, demo, start: int) -> int:
    """One wrong password from each new network until a new network is refused as locked; how many were
    checked."""
    for checked, ip in enumerate(networks(start, MAX_ATTEMPTS)):
        code = code_of(sign_in(client, demo, ip, f"spread-{ip}"))
        if code == LOCKED:
            return checked
        assert code == BAD_CREDENTIALS
    raise AssertionError("the unfamiliar networks were never locked")


def row(name: str, ip: str | None) -> SignInThrottle | None:
    key = lockout.name_key(name)
    location = lockout.UNFAMILIAR if ip is None else lockout.location_key(key, ip)
    return SignInThrottle.objects.filter(name_key=key, location_key=location).first()


# --- the attack of issue 18: a lock the user does not share -------------------------------------------------


def test_an_attacker_elsewhere_locks_only_their_own_network_and_the_user_still_signs_in_from_home(
        client, demo, proxied):
    assert code_of(sign_in(client, demo, HOME)) == "ok"  # home becomes a familiar network
    assert fail_until_locked_from(client, demo, ATTACKER) == 10
    assert_locked(sign_in(client, demo, ATTACKER))  # the right password too, from there
    assert_locked(sign_in(client, demo, ATTACKER_NEIGHBOUR))  # the same /24 is the same network
    assert code_of(sign_in(client, demo, HOME)) == "ok"
    assert code_of(sign_in(client, demo, TRAVEL)) == "ok"  # another network is not locked either


def test_after_the_lock_ends_one_more_wrong_password_relocks_only_the_attackers_network(
        client, demo, proxied, clock):
    assert code_of(sign_in(client, demo, HOME)) == "ok"
    fail_until_locked_from(client, demo, ATTACKER)
    clock.advance(61)
    assert code_of(sign_in(client, demo, ATTACKER, "one-more-wrong")) == BAD_CREDENTIALS
    assert_locked(sign_in(client, demo, ATTACKER))
    assert code_of(sign_in(client, demo, HOME)) == "ok"
    attacker, home, elsewhere = row(demo.username, ATTACKER), row(demo.username, HOME), row(demo.username, None)
    assert attacker.lockouts == 2 and attacker.locked_until > clock.now()
    assert (home.failures, home.lockouts, home.locked_until) == (0, 0, None)
    assert elsewhere.locked_until is None and elsewhere.failures == 11  # counting, below its threshold of 30
    assert code_of(sign_in(client, demo, TRAVEL)) == "ok"


def test_one_wrong_password_a_minute_for_an_hour_never_keeps_the_user_out_of_a_familiar_network(
        client, demo, proxied, clock):
    """The reproduction of issue 18 item 4, for an hour: the user signs in from home every five minutes."""
    assert code_of(sign_in(client, demo, HOME)) == "ok"
    fail_until_locked_from(client, demo, ATTACKER)
    answers = {"ok": 0, BAD_CREDENTIALS: 0, LOCKED: 0}
    for minute in range(60):
        clock.advance(60)
        answers[code_of(sign_in(client, demo, ATTACKER, f"minute-{minute}"))] += 1
        if minute % 5 == 0:
            assert code_of(sign_in(client, demo, HOME)) == "ok", f"locked out at home after {minute} minutes"
    assert answers["ok"] == 0 and answers[LOCKED] > 0
    record_figures("lockout_familiar_hour", attacker_checked=answers[BAD_CREDENTIALS],
                   attacker_refused_as_locked=answers[LOCKED], user_sign_ins_refused=0)


def test_wrong_passwords_at_a_familiar_network_lock_that_network_only(client, demo, proxied):
    """Someone on the user's own network (the limit of this defence) locks the user out there, not
    everywhere, and does not touch the unfamiliar networks' counter."""
    assert code_of(sign_in(client, demo, HOME)) == "ok"
    assert fail_until_locked_from(client, demo, NEIGHBOUR) == 10  # the same /24 as home: familiar
    assert_locked(sign_in(client, demo, HOME))
    assert code_of(sign_in(client, demo, TRAVEL)) == "ok"
    elsewhere = row(demo.username, None)
    assert elsewhere is None or (elsewhere.failures, elsewhere.locked_until) == (0, None)


# --- many networks: the shared counter bounds a distributed guess -----------------------------------------------


def test_guesses_spread_over_many_networks_lock_every_unfamiliar_network_but_not_a_familiar_one(
        client, demo, proxied):
    assert code_of(sign_in(client, demo, HOME)) == "ok"
    assert lock_unfamiliar_networks(client, demo, start=0) == 30  # LOCKOUT_UNFAMILIAR_THRESHOLD
    assert_locked(sign_in(client, demo, TRAVEL))  # a new network, with the right password
    assert code_of(sign_in(client, demo, HOME)) == "ok"
    assert code_of(sign_in(client, demo, HOME, "a-typo")) == BAD_CREDENTIALS  # counted at home, not locked


def test_at_most_one_hundred_guesses_an_hour_are_checked_however_many_networks_they_come_from(
        client, demo, proxied, clock):
    """ASVS 4.0.3 V2.2.1 against a guesser with a network per attempt (T44(d), now with locations)."""
    checked = locked_answers = 0
    elapsed = 0.0
    for attempt, ip in enumerate(networks(0, 2000)):
        if elapsed >= 3600:
            break
        code = code_of(sign_in(client, demo, ip, f"guess-{attempt}"))
        wait = 1.0
        if code == LOCKED:
            locked_answers += 1
            wait = (row(demo.username, None).locked_until - clock.now()).total_seconds() + 1
        else:
            assert code == BAD_CREDENTIALS
            checked += 1
        clock.advance(wait)
        elapsed += wait
    record_figures("lockout_distributed_hour", failures_processed_per_hour=checked, lock_answers=locked_answers)
    assert checked <= 100, f"{checked} wrong passwords from distinct networks were checked in one simulated hour"


def test_a_correct_password_from_a_new_network_ends_the_unfamiliar_episode_but_one_from_home_does_not(
        client, demo, proxied):
    assert code_of(sign_in(client, demo, HOME)) == "ok"
    for ip in networks(0, 5):
        assert code_of(sign_in(client, demo, ip, f"w-{ip}")) == BAD_CREDENTIALS
    assert code_of(sign_in(client, demo, HOME)) == "ok"
    assert row(demo.username, None).failures == 5  # home says nothing about the attempts elsewhere
    assert code_of(sign_in(client, demo, TRAVEL)) == "ok"
    assert row(demo.username, None).failures == 0  # the user, from elsewhere: the episode ends (as B2C)


# --- the familiarity window -------------------------------------------------------------------------------------


def test_a_network_stays_familiar_for_the_window_after_the_last_successful_sign_in(
        client, demo, proxied, clock, settings):
    settings.LOCKOUT_UNFAMILIAR_THRESHOLD = 3
    assert settings.LOCKOUT_FAMILIAR_DAYS == 30
    assert code_of(sign_in(client, demo, HOME)) == "ok"  # day 0
    clock.advance(29 * 86400)
    lock_unfamiliar_networks(client, demo, start=0)
    # Still familiar (a wrong password does not renew it): counted at home, not refused as locked.
    assert code_of(sign_in(client, demo, HOME, "typo")) == BAD_CREDENTIALS
    clock.advance(2 * 86400)  # day 31: thirty days after the last successful sign-in
    lock_unfamiliar_networks(client, demo, start=100)
    assert_locked(sign_in(client, demo, HOME))  # now home is one unfamiliar network among others


def test_each_successful_sign_in_renews_the_window(client, demo, proxied, clock, settings):
    settings.LOCKOUT_UNFAMILIAR_THRESHOLD = 3
    assert code_of(sign_in(client, demo, HOME)) == "ok"  # day 0
    clock.advance(20 * 86400)
    assert code_of(sign_in(client, demo, HOME)) == "ok"  # day 20: familiar until day 50
    clock.advance(25 * 86400)
    lock_unfamiliar_networks(client, demo, start=0)
    assert code_of(sign_in(client, demo, HOME)) == "ok"  # day 45


def test_the_usual_sign_in_from_a_familiar_network_writes_nothing(client, demo, proxied):
    """A sign-in from a new network records it (one write); the next ones read one row and write none
    (ROPC's statements per sign-in stay as the benchmark counts them)."""
    table = SignInThrottle._meta.db_table
    assert code_of(sign_in(client, demo, HOME)) == "ok"
    with CaptureQueriesContext(connection) as queries:
        assert code_of(sign_in(client, demo, HOME)) == "ok"
    touching = [q["sql"] for q in queries.captured_queries if table in q["sql"]]
    assert len(touching) == 1 and touching[0].lstrip().upper().startswith("SELECT"), touching


# --- networks: granularity and storage ----------------------------------------------------------------------------


def test_a_network_is_an_ipv4_24_or_an_ipv6_64_and_the_prefixes_are_settings(settings):
    assert lockout.network_of(HOME) == lockout.network_of(NEIGHBOUR) == "198.51.100.0/24"
    assert lockout.network_of("198.51.101.20") == "198.51.101.0/24"
    assert lockout.network_of("2001:db8:1:2:aaaa::1") == lockout.network_of("2001:db8:1:2::ffff") == "2001:db8:1:2::/64"
    assert lockout.network_of("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert lockout.network_of("::ffff:198.51.100.20") == "198.51.100.0/24"  # IPv4-mapped IPv6 counts as IPv4
    assert lockout.network_of(None) == lockout.network_of("") == lockout.network_of("not-an-ip") == "unknown"
    settings.LOCKOUT_IPV4_PREFIX = 32
    settings.LOCKOUT_IPV6_PREFIX = 48
    assert lockout.network_of(HOME) == "198.51.100.20/32"
    assert lockout.network_of("2001:db8:1:2:aaaa::1") == "2001:db8:1::/48"


def test_an_ipv6_user_keeps_signing_in_while_another_64_of_the_same_provider_is_locked(client, demo, proxied):
    assert code_of(sign_in(client, demo, "2001:db8:1:2::10")) == "ok"
    assert fail_until_locked_from(client, demo, "2001:db8:1:3::66") == 10
    assert_locked(sign_in(client, demo, "2001:db8:1:3::ffff"))
    assert code_of(sign_in(client, demo, "2001:db8:1:2:ffff::1")) == "ok"  # the user's /64


def test_familiar_networks_are_stored_as_keyed_hashes_per_name_never_as_addresses(client, demo, proxied):
    assert code_of(sign_in(client, demo, HOME)) == "ok"
    fail_until_locked_from(client, demo, ATTACKER)
    stored = repr(list(SignInThrottle.objects.values()))
    for text in (HOME, ATTACKER, "198.51.100", "203.0.113", lockout.network_of(HOME)):
        assert text not in stored
    home_key = row(demo.username, HOME).location_key
    for network in (lockout.network_of(HOME), HOME):
        assert home_key != hashlib.sha256(network.encode()).hexdigest()  # not an unkeyed hash
    # Keyed per name: the same network gives another key for another name, so rows cannot be matched.
    other = lockout.name_key("someone-else")
    assert lockout.location_key(other, HOME) != home_key
    assert lockout.location_key(lockout.name_key(demo.username), NEIGHBOUR) == home_key


def test_without_a_client_address_every_attempt_is_one_location(client, demo, settings):
    """No usable address (no trusted proxy header and no socket address): one counter per name, as before."""
    settings.TRUSTED_PROXY_COUNT = 0
    assert code_of(ropc(client, demo, REMOTE_ADDR="")) == "ok"
    for attempt in range(10):
        assert code_of(ropc(client, demo, demo.username, f"w-{attempt}", REMOTE_ADDR="")) == BAD_CREDENTIALS
    assert_locked(ropc(client, demo, REMOTE_ADDR=""))


# --- cache and database ----------------------------------------------------------------------------------------


def test_a_new_network_refused_by_the_shared_lock_is_then_refused_from_the_cache(client, demo, proxied):
    settings = proxied
    settings.LOCKOUT_UNFAMILIAR_THRESHOLD = 3
    lock_unfamiliar_networks(client, demo, start=0)
    assert_locked(sign_in(client, demo, TRAVEL))  # the database said so, and the cache now remembers
    table = SignInThrottle._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        assert_locked(sign_in(client, demo, TRAVEL))
    assert not [q["sql"] for q in queries.captured_queries if table in q["sql"]]


def test_a_flushed_cache_unlocks_no_network(client, demo, proxied, clean_cache):
    proxied.LOCKOUT_UNFAMILIAR_THRESHOLD = 11
    assert code_of(sign_in(client, demo, HOME)) == "ok"
    fail_until_locked_from(client, demo, ATTACKER)
    lock_unfamiliar_networks(client, demo, start=0)
    clean_cache.clear()
    assert_locked(sign_in(client, demo, ATTACKER))
    assert_locked(sign_in(client, demo, TRAVEL))
    assert code_of(sign_in(client, demo, HOME)) == "ok"


def test_with_the_cache_down_the_attacker_stays_locked_and_the_user_signs_in_from_home(
        client, demo, proxied, broken_cache):
    assert code_of(sign_in(client, demo, HOME)) == "ok"
    assert fail_until_locked_from(client, demo, ATTACKER) == 10
    assert_locked(sign_in(client, demo, ATTACKER))
    assert code_of(sign_in(client, demo, HOME)) == "ok"
    assert broken_cache["n"] > 0


def test_unlock_lifts_the_lock_at_every_network(client, demo, proxied):
    proxied.LOCKOUT_UNFAMILIAR_THRESHOLD = 11
    fail_until_locked_from(client, demo, ATTACKER)
    lock_unfamiliar_networks(client, demo, start=0)
    assert_locked(sign_in(client, demo, TRAVEL))  # cached as locked at TRAVEL too
    lockout.unlock(demo.username)
    assert code_of(sign_in(client, demo, ATTACKER)) == "ok"
    assert code_of(sign_in(client, demo, TRAVEL)) == "ok"


def test_purging_stale_rows_keeps_familiar_networks(client, demo, proxied, clock):
    assert code_of(sign_in(client, demo, HOME)) == "ok"
    assert code_of(sign_in(client, demo, ATTACKER, "wrong")) == BAD_CREDENTIALS
    SignInThrottle.objects.update(updated_at=clock.now() - timedelta(days=2))
    assert lockout.throttles_purge(older_than=timedelta(hours=24)) == 2  # the attacker's and the shared row
    home = row(demo.username, HOME).location_key
    assert list(SignInThrottle.objects.values_list("location_key", flat=True)) == [home]
    clock.advance(31 * 86400)  # its window over, a familiar network goes too
    SignInThrottle.objects.update(updated_at=clock.now() - timedelta(days=2))
    assert lockout.throttles_purge(older_than=timedelta(hours=24)) == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_failures_from_several_networks_are_all_counted_without_deadlocks(demo, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATE_LIMIT_CLIENT_PER_SECOND = settings.RATE_LIMIT_IP_PER_5_MINUTES = 0
    settings.LOCKOUT_THRESHOLD = settings.LOCKOUT_UNFAMILIAR_THRESHOLD = 1000
    settings.PASSWORD_HASH_WAIT_SECONDS = 20  # one hashing slot per process: the attempts queue, none is refused
    addresses = networks(0, 4) * 8
    barrier = threading.Barrier(len(addresses))
    codes: list[str | None] = [None] * len(addresses)
    failures: list[BaseException] = []

    def attempt(index: int, ip: str) -> None:
        try:
            barrier.wait(timeout=30)
            codes[index] = code_of(sign_in(Client(), demo, ip, f"parallel-{index}"))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(i, ip)) for i, ip in enumerate(addresses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert codes == [BAD_CREDENTIALS] * len(addresses)
    assert [row(demo.username, ip).failures for ip in networks(0, 4)] == [8, 8, 8, 8]
    assert row(demo.username, None).failures == len(addresses)
