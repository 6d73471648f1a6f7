"""Smart lockout (SPEC §4.1; issue 4): T44-T48, T56 (one instance, threads), T62/T63 (cache down or flushed).

Counted per normalised sign-in name whether or not a user has it; the same wrong password counts
once; the database row is the authority and the cache only a fast path. Time is moved by patching
the clock `accounts.lockout` reads, never by sleeping.
"""

import threading
from datetime import timedelta
from types import SimpleNamespace
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import authentication, lockout
from accounts import services as accounts
from accounts.models import SignInThrottle
from tests.hardening.conftest import ropc
from tests.hardening.figures import record_figures

pytestmark = pytest.mark.spec("SPEC.md", "§4.1")

IS_SQLITE = django_settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
LOCKED = "AADB2C90114"
BAD_CREDENTIALS = "AADB2C90225"
MAX_ATTEMPTS = 60  # every loop below is bounded


class Clock:
    """The clock `accounts.lockout` reads, offset from the real one."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self):
        return timezone.now() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def clock():
    moved = Clock()
    with mock.patch.object(lockout, "timezone", SimpleNamespace(now=moved.now)):
        yield moved


def code_of(response) -> str:
    assert response.status_code < 500, (response.status_code, response.content)
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    if response.status_code == 200:
        return "ok"
    body = response.json()
    assert set(body) == {"error", "error_description"}, body
    return body["error_description"].split(":", 1)[0]


def assert_locked(response) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "invalid_grant", body
    assert body["error_description"].startswith(LOCKED + ":"), body


def fail_until_locked(client, demo, name: str, *, prefix: str = "wrong") -> int:
    """Distinct wrong passwords until the lock answers; returns how many were refused as wrong first."""
    for attempt in range(MAX_ATTEMPTS):
        code = code_of(ropc(client, demo, name, f"{prefix}-{attempt}"))
        if code == LOCKED:
            return attempt
        assert code == BAD_CREDENTIALS
    raise AssertionError(f"{name!r} was not locked after {MAX_ATTEMPTS} distinct wrong passwords")


def throttle_row(name: str, ip: str = "127.0.0.1") -> SignInThrottle | None:
    """The name's counter at the network of `ip` (the test client's address by default)."""
    key = lockout.name_key(name)
    return SignInThrottle.objects.filter(name_key=key, location_key=lockout.location_key(key, ip)).first()


# --- threshold, repeats, reset (T44, T46) ---------------------------------------------------------------


def test_ten_distinct_wrong_passwords_lock_the_name_even_for_the_right_password(client, demo):
    for attempt in range(10):
        assert code_of(ropc(client, demo, demo.username, f"wrong-{attempt}")) == BAD_CREDENTIALS
    assert_locked(ropc(client, demo))  # the 11th attempt, with the right password
    row = throttle_row(demo.username)
    # The wrong passwords stay remembered across the lock: repeating one of them after it expires
    # does not count as the one new failure that locks again.
    assert (row.failures, row.lockouts, len(row.recent_failures)) == (0, 1, 10)
    assert row.locked_until > timezone.now()

    refused_as_wrong = fail_until_locked(client, demo, "nobody-at-all")
    record_figures("lockout_threshold", wrong_passwords_before_lock=10,
                   wrong_passwords_before_lock_unknown_name=refused_as_wrong)
    assert refused_as_wrong == 10


def test_nine_wrong_passwords_then_the_right_one_signs_in_and_resets_the_count(client, demo):
    for attempt in range(9):
        assert code_of(ropc(client, demo, demo.username, f"wrong-{attempt}")) == BAD_CREDENTIALS
    assert throttle_row(demo.username).failures == 9
    assert code_of(ropc(client, demo)) == "ok"
    row = throttle_row(demo.username)
    assert (row.failures, row.recent_failures, row.locked_until) == (0, [], None)
    for attempt in range(9):  # a fresh budget of nine, not one
        assert code_of(ropc(client, demo, demo.username, f"again-{attempt}")) == BAD_CREDENTIALS
    assert code_of(ropc(client, demo)) == "ok"


def test_the_same_wrong_password_repeated_counts_once(client, demo):
    for _ in range(30):
        assert code_of(ropc(client, demo, demo.username, "the-same-wrong-password")) == BAD_CREDENTIALS
    assert throttle_row(demo.username).failures == 1
    for attempt in range(8):  # with 8 more distinct ones: 9 in all, still below the threshold
        assert code_of(ropc(client, demo, demo.username, f"wrong-{attempt}")) == BAD_CREDENTIALS
        assert code_of(ropc(client, demo, demo.username, "the-same-wrong-password")) == BAD_CREDENTIALS
    assert throttle_row(demo.username).failures == 9
    assert code_of(ropc(client, demo)) == "ok"


def test_the_remembered_password_marks_are_short_keyed_hmacs(client, demo):
    """T46: no plain or unkeyed hash of a wrong password is kept (32-bit keyed marks only)."""
    import hashlib

    ropc(client, demo, demo.username, "wrong-but-close-Demo-1")
    row = throttle_row(demo.username)
    assert len(row.recent_failures) == 1 and len(row.recent_failures[0]) == 8
    assert row.recent_failures[0] not in hashlib.sha256(b"wrong-but-close-Demo-1").hexdigest()
    assert row.name_key != demo.username and demo.username not in row.name_key


# --- unknown names, variants, identical answers (T47, T48) -----------------------------------------------


def test_an_unknown_name_locks_like_an_existing_one_and_the_locked_answers_are_byte_identical(client, demo):
    existing = fail_until_locked(client, demo, demo.username)
    unknown = fail_until_locked(client, demo, "no-such-user")
    assert existing == unknown == 10

    locked_existing = ropc(client, demo)  # right password of a real user
    locked_unknown = ropc(client, demo, "no-such-user", demo.password)
    assert_locked(locked_existing)
    assert locked_existing.status_code == locked_unknown.status_code
    assert locked_existing.content == locked_unknown.content
    assert dict(locked_existing.headers) == dict(locked_unknown.headers)
    # The failures before the lock are identical too (no enumeration by the wrong-password answer).
    wrong_unknown = ropc(client, demo, "another-unknown-name", "w")
    accounts.user_create(actor="tests", username="second", password="Second-Pass-123")
    wrong_known = ropc(client, demo, "second", "w")
    assert wrong_unknown.content == wrong_known.content
    assert dict(wrong_unknown.headers) == dict(wrong_known.headers)


def test_case_unicode_and_whitespace_variants_share_one_counter(client, demo):
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in demo.username)  # fullwidth "demo": NFKC maps it to "demo"
    variants = [demo.username, f" {demo.username.upper()}", f"{demo.username.title()}  ", fullwidth,
                f"\t{fullwidth.upper()}\n"]
    for attempt in range(10):
        assert code_of(ropc(client, demo, variants[attempt % len(variants)], f"wrong-{attempt}")) == BAD_CREDENTIALS
    assert SignInThrottle.objects.values("name_key").distinct().count() == 1
    for variant in variants:
        assert_locked(ropc(client, demo, variant, demo.password))


# --- duration, expiry, growth (T44c, T45) -------------------------------------------------------------


def test_the_lock_expires_after_the_duration_and_the_right_password_then_works(client, demo, clock):
    fail_until_locked(client, demo, demo.username)
    row = throttle_row(demo.username)
    lock_seconds = (row.locked_until - clock.now()).total_seconds()
    assert 58 <= lock_seconds <= 60

    clock.advance(lock_seconds - 2)
    assert_locked(ropc(client, demo))  # still locked two seconds before the end
    clock.advance(3)
    assert code_of(ropc(client, demo)) == "ok"
    record_figures("lockout_unlock", first_lock_seconds=round(lock_seconds),
                   unlocked_after_seconds=round(lock_seconds) + 1)


def test_lock_duration_grows_every_ten_lockouts_up_to_the_cap(settings):
    settings.LOCKOUT_DURATION_SECONDS = 60
    settings.LOCKOUT_MAX_DURATION_SECONDS = 5 * 3600
    for lockouts in range(1, 11):
        assert lockout.lock_duration(lockouts) == timedelta(seconds=60)
    for lockouts in range(11, 21):
        assert lockout.lock_duration(lockouts) == timedelta(seconds=120)
    assert lockout.lock_duration(21) == timedelta(seconds=240)
    assert lockout.lock_duration(0) == timedelta(seconds=60)
    assert lockout.lock_duration(1000) == timedelta(hours=5)
    assert max(lockout.lock_duration(n) for n in range(1, 500)) == timedelta(hours=5)
    assert [lockout.lock_duration(n) for n in range(1, 200)] == sorted(lockout.lock_duration(n) for n in range(1, 200))


def test_the_eleventh_lockout_lasts_twice_as_long(client, demo, clock):
    """Repeated lockouts through the endpoint: each ends on time; the 11th is twice the base."""
    durations = []
    for cycle in range(11):
        fail_until_locked(client, demo, demo.username, prefix=f"cycle{cycle}")
        row = throttle_row(demo.username)
        assert row.lockouts == cycle + 1
        durations.append(round((row.locked_until - clock.now()).total_seconds()))
        clock.advance(durations[-1] + 1)
    assert durations[:10] == [60] * 10
    assert durations[10] == 120


def test_wrong_passwords_while_locked_do_not_extend_the_lock(client, demo, clock):
    fail_until_locked(client, demo, demo.username)
    until = throttle_row(demo.username).locked_until
    for attempt in range(20):
        clock.advance(2)
        assert_locked(ropc(client, demo, demo.username, f"during-{attempt}"))
    row = throttle_row(demo.username)
    assert (row.locked_until, row.failures, row.lockouts) == (until, 0, 1)


def test_after_a_lock_expires_one_more_failure_locks_again(client, demo, clock):
    """B2C: "The next time a login is unsuccessful after the account is unlocked …, another one-minute
    lockout occurs and continues for each unsuccessful login" (T45; SPEC: "smart lockout as B2C does it")."""
    fail_until_locked(client, demo, demo.username)
    clock.advance(61)
    assert code_of(ropc(client, demo, demo.username, "one-more-wrong")) == BAD_CREDENTIALS
    assert_locked(ropc(client, demo))


def test_at_most_one_hundred_failures_are_processed_per_name_per_hour(client, demo, clock, settings):
    """ASVS 4.0.3 V2.2.1 / T44(d): an attacker who waits out every lock gets ≤ 100 password checks an hour."""
    settings.RATE_LIMIT_CLIENT_PER_SECOND = settings.RATE_LIMIT_IP_PER_5_MINUTES = 0  # lockout alone
    processed = locked_answers = 0
    elapsed = 0.0
    for attempt in range(2000):
        if elapsed >= 3600:
            break
        code = code_of(ropc(client, demo, demo.username, f"guess-{attempt}"))
        if code == LOCKED:
            locked_answers += 1
            wait = (throttle_row(demo.username).locked_until - clock.now()).total_seconds() + 1
        else:
            assert code == BAD_CREDENTIALS
            processed += 1
            wait = 1
        clock.advance(wait)
        elapsed += wait
    record_figures("lockout_hour", failures_processed_per_hour=processed, lock_answers=locked_answers)
    assert processed <= 100, f"{processed} wrong passwords were checked in one simulated hour"


# --- no hashing while locked, recording after the rollback ---------------------------------------------------


def test_a_locked_name_is_refused_without_any_password_hashing(client, demo):
    fail_until_locked(client, demo, demo.username)
    fail_until_locked(client, demo, "ghost")
    with mock.patch.object(authentication, "check_password", wraps=authentication.check_password) as checks:
        assert_locked(ropc(client, demo))
        assert_locked(ropc(client, demo, "ghost", "anything"))
        assert checks.call_count == 0
        ropc(client, demo, "someone-else", "wrong")  # sanity: an unlocked failure does hash (twice)
        assert checks.call_count == 2


def test_the_failure_is_recorded_after_the_refused_requests_rollback(client, demo):
    assert code_of(ropc(client, demo, demo.username, "wrong-1")) == BAD_CREDENTIALS
    assert throttle_row(demo.username).failures == 1


@pytest.mark.django_db(transaction=True)
def test_the_failure_is_committed_after_the_refused_requests_rollback(demo):
    """With real commits (no test transaction around the request): the row is there, in its own transaction."""
    client = Client()
    for attempt in range(3):
        assert code_of(ropc(client, demo, demo.username, f"wrong-{attempt}")) == BAD_CREDENTIALS
    assert throttle_row(demo.username).failures == 3
    other = connections.create_connection("default")  # a second connection sees committed data only
    try:
        with other.cursor() as cursor:
            table = connection.ops.quote_name(SignInThrottle._meta.db_table)
            cursor.execute("SELECT failures FROM " + table + " WHERE name_key = %s",  # noqa: S608 (a model's table)
                           [lockout.name_key(demo.username)])
            assert cursor.fetchone()[0] == 3
    finally:
        other.close()


def test_thresholds_and_durations_come_from_settings(client, demo, settings, clock):
    settings.LOCKOUT_THRESHOLD = 3
    settings.LOCKOUT_DURATION_SECONDS = 7
    settings.LOCKOUT_MAX_DURATION_SECONDS = 10
    assert fail_until_locked(client, demo, demo.username) == 3
    row = throttle_row(demo.username)
    assert round((row.locked_until - clock.now()).total_seconds()) == 7
    clock.advance(8)
    assert code_of(ropc(client, demo)) == "ok"
    assert lockout.lock_duration(11) == timedelta(seconds=10)  # 14 s capped at 10


# --- the cache: fast path, outage, flush (T62, T63) ----------------------------------------------------------


def test_a_cached_lock_is_answered_without_a_sign_in_throttle_query(client, demo):
    fail_until_locked(client, demo, demo.username)
    with CaptureQueriesContext(connection) as queries:
        assert_locked(ropc(client, demo))
    table = SignInThrottle._meta.db_table
    assert not [q["sql"] for q in queries.captured_queries if table in q["sql"]]


def test_a_flushed_cache_does_not_unlock_the_name(client, demo, clean_cache):
    fail_until_locked(client, demo, demo.username)
    clean_cache.clear()
    assert_locked(ropc(client, demo))


@pytest.fixture
def broken_cache(monkeypatch):
    """Every cache operation the lockout and quotas use raises, as a Redis outage would."""
    backend = caches["default"]
    calls = {"n": 0}

    def down(*args, **kwargs):
        calls["n"] += 1
        raise ConnectionError("cache is down (test)")

    for name in ("get", "set", "add", "incr", "delete", "get_many", "set_many"):
        monkeypatch.setattr(backend, name, down)
    return calls


def test_with_the_cache_down_lockout_is_still_enforced_and_right_passwords_still_work(client, demo, broken_cache):
    accounts.user_create(actor="tests", username="bystander", password="Bystander-Pass-1")
    assert fail_until_locked(client, demo, demo.username) == 10
    assert_locked(ropc(client, demo))  # the door stays shut
    assert code_of(ropc(client, demo, "bystander", "Bystander-Pass-1")) == "ok"  # and not everyone is out
    for attempt in range(9):
        ropc(client, demo, "bystander", f"wrong-{attempt}")
    assert code_of(ropc(client, demo, "bystander", "Bystander-Pass-1")) == "ok"
    assert broken_cache["n"] > 0  # the cache really was asked, and failed


# --- concurrency (T56 on one instance) -----------------------------------------------------------------------

needs_postgres = pytest.mark.skipif(
    IS_SQLITE, reason="needs PostgreSQL: concurrent writers on the in-memory SQLite test database fail with "
    "'database table is locked' (shared-cache table locks ignore the busy timeout); CI runs this on PostgreSQL",
)


def hammer(demo, names_and_passwords: list[tuple[str, str]]) -> list[str]:
    """One thread per attempt, released together by a barrier; returns the B2C codes (or 'ok')."""
    barrier = threading.Barrier(len(names_and_passwords))
    codes: list[str | None] = [None] * len(names_and_passwords)
    errors: list[BaseException] = []

    def attempt(index: int, name: str, password: str) -> None:
        try:
            client = Client()
            barrier.wait(timeout=30)
            codes[index] = code_of(ropc(client, demo, name, password))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(i, n, p)) for i, (n, p) in enumerate(names_and_passwords)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert all(code is not None for code in codes), codes
    return codes


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_distinct_failures_are_all_counted(demo, settings):
    settings.LOCKOUT_THRESHOLD = settings.LOCKOUT_UNFAMILIAR_THRESHOLD = 1000
    settings.PASSWORD_HASH_WAIT_SECONDS = 10  # one hashing slot per process: the attempts queue, none is refused
    codes = hammer(demo, [(demo.username, f"parallel-{i}") for i in range(40)])
    assert codes == [BAD_CREDENTIALS] * 40
    row = throttle_row(demo.username)
    assert row.failures == 40, "lost updates: the row must count every concurrent failure"
    assert len(row.recent_failures) == lockout.RECENT_FAILURES_KEPT
    record_figures("lockout_concurrency_count", concurrent_failures=40, counted=row.failures)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_threads_hammering_one_name_lock_it_once_with_consistent_counts(demo, settings):
    settings.PASSWORD_HASH_WAIT_SECONDS = 10  # one hashing slot per process: the attempts queue, none is refused
    codes = hammer(demo, [(demo.username, f"hammer-{i}") for i in range(32)])
    assert set(codes) <= {BAD_CREDENTIALS, LOCKED}
    assert codes.count(BAD_CREDENTIALS) >= 10
    row = throttle_row(demo.username)
    assert (row.lockouts, row.failures, len(row.recent_failures)) == (1, 0, 10)  # marks kept across the lock
    assert row.locked_until > timezone.now()
    assert_locked(ropc(Client(), demo))
    record_figures("lockout_concurrency_lock", threads=32, refused_as_wrong=codes.count(BAD_CREDENTIALS),
                   refused_as_locked=codes.count(LOCKED), lockouts=row.lockouts)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_cannot_buy_more_password_checks_than_the_threshold(demo, settings):
    """T56: "the stored failure count to equal the number of failures processed". A burst of attempts that
    all pass the lock check before the first failure is recorded must not each get a password check: with
    one hashing slot and a hash as slow as Argon2, at most the threshold plus the one in flight are checked."""
    settings.PASSWORD_HASH_CONCURRENCY = 1
    settings.PASSWORD_HASH_WAIT_SECONDS = 10  # no 503s: every attempt waits for the slot
    real_check = authentication.check_password

    def slow_check(password, encoded, *args, **kwargs):
        threading.Event().wait(0.02)  # about one Argon2 verification
        return real_check(password, encoded, *args, **kwargs)

    with mock.patch.object(authentication, "check_password", side_effect=slow_check):
        codes = hammer(demo, [(demo.username, f"burst-{i}") for i in range(32)])
    checked = codes.count(BAD_CREDENTIALS)
    record_figures("lockout_concurrency_burst", threads=32, threshold=10, password_checks=checked,
                   counted_towards_lock=10 * throttle_row(demo.username).lockouts)
    assert set(codes) <= {BAD_CREDENTIALS, LOCKED}
    assert checked <= 10 + 2, f"{checked} of 32 concurrent wrong passwords were checked against a threshold of 10"
