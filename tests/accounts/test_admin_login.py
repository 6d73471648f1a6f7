"""The admin login's password step (issue 18 item 2): smart lockout with counters of its own, the hashing gate,
the per-IP quota, equal time for unknown names, and sign-in events. Driven through /admin/login/ like a browser."""

import threading
from unittest import mock

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client

from accounts import admin_login, hashing_gate, lockout
from accounts.admin_login_forms import BAD_CREDENTIALS
from accounts.models import SignInThrottle
from audit.models import SignInEvent
from audit.sign_in_buffer import ADMIN_GRANT_TYPE
from identity.demo import demo_tenant_create
from tests.accounts.conftest import ADMIN_PASSWORD, form_errors, log_in
from tests.hardening.conftest import ropc

MAX_ATTEMPTS = 40  # every loop below is bounded


def admin_events():
    return SignInEvent.objects.filter(grant_type=ADMIN_GRANT_TYPE).order_by("id")


def fail_until_locked(client, name: str) -> int:
    """Distinct wrong passwords at the admin login until it answers "locked"; how many were refused first."""
    for attempt in range(MAX_ATTEMPTS):
        response = log_in(client, name, f"wrong-{attempt}")
        assert response.status_code == 200
        if "locked" in form_errors(response):
            return attempt
    raise AssertionError(f"admin {name!r} was not locked after {MAX_ATTEMPTS} wrong passwords")


def test_the_right_password_signs_in_and_is_recorded_as_an_admin_sign_in(client, admin_account):
    response = log_in(client, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    event = admin_events().get()
    assert (event.succeeded, event.user_id, event.sign_in_name, event.ip_address, event.client_id) == (
        True, admin_account.pk, "alice", "203.0.113.7", "")


def test_wrong_password_and_unknown_name_get_one_message_and_events_that_say_which(client, admin_account):
    wrong, unknown = log_in(client, "alice", "not-it"), log_in(client, "nobody", "not-it")
    assert form_errors(wrong) == form_errors(unknown) == BAD_CREDENTIALS
    first, second = admin_events()
    assert (first.succeeded, first.user_id, first.result_code, first.failure_reason) == (
        False, admin_account.pk, "AADSTS50126", "Wrong password.")
    assert (second.succeeded, second.user_id, second.result_code, second.failure_reason) == (
        False, None, "AADSTS50034", "Unknown admin name.")
    assert not SignInEvent.objects.filter(failure_reason__contains="not-it").exists()


def test_a_disabled_admin_with_the_right_password_gets_the_same_message_and_its_reason_is_logged(
        client, admin_account):
    admin_account.is_active = False
    admin_account.save()
    response = log_in(client)
    assert form_errors(response) == BAD_CREDENTIALS
    assert admin_events().get().result_code == "AADSTS50057"


def test_ten_wrong_passwords_lock_the_admin_name_even_against_the_right_password(client, admin_account, settings):
    assert fail_until_locked(client, "alice") == settings.LOCKOUT_THRESHOLD
    response = log_in(client)  # the right password, while locked
    assert "locked" in form_errors(response)
    assert client.get("/admin/").status_code == 302
    assert admin_events().last().result_code == "AADSTS50053"


def test_128_fast_guesses_from_one_address_buy_at_most_the_quota(client, admin_account, settings):
    """The probe's reproduction: 128 guesses, then the right password. Past the quota each answer is 429."""
    settings.RATE_LIMIT_ADMIN_LOGIN_PER_5_MINUTES = 30
    settings.LOCKOUT_THRESHOLD = 1000  # the quota alone, here
    statuses = [log_in(client, "alice", f"guess-{n}").status_code for n in range(128)]
    assert statuses[:30] == [200] * 30 and set(statuses[30:]) == {429}
    right = log_in(client)
    assert right.status_code == 429 and int(right["Retry-After"]) >= 1
    assert "Too many sign-in attempts from your network" in form_errors(right)
    # Refusals by quota are not written: a flood is not a flood of rows.
    assert admin_events().count() == 30


def test_the_admin_quota_is_counted_per_address(client, admin_account, settings):
    settings.RATE_LIMIT_ADMIN_LOGIN_PER_5_MINUTES = 2
    for _ in range(2):
        log_in(client, "alice", "wrong", REMOTE_ADDR="198.51.100.1")
    assert log_in(client, "alice", "wrong", REMOTE_ADDR="198.51.100.1").status_code == 429
    assert log_in(client, REMOTE_ADDR="198.51.100.2").status_code == 302


@pytest.fixture
def demo(db, clean_cache):
    """The demo tenant, whose directory user `demo` has an admin account of the same name beside it."""
    from accounts import admin_accounts

    tenant = demo_tenant_create(actor="tests")
    admin_accounts.admin_account_create(actor="tests", username="demo", password=ADMIN_PASSWORD, superuser=True)
    return tenant


def test_locking_the_admin_name_does_not_lock_the_directory_user_of_the_same_name(client, demo, settings):
    settings.RATE_LIMIT_IP_PER_5_MINUTES = settings.RATE_LIMIT_CLIENT_PER_SECOND = 0
    fail_until_locked(client, "demo")
    assert ropc(Client(), demo).status_code == 200
    assert lockout.locked_until("demo", ip="127.0.0.1") is None
    # Locked where the guesses came from (the test client's address: smart lockout counts per network).
    assert lockout.locked_until("demo", ip="127.0.0.1", namespace=lockout.NAMESPACE_ADMIN) is not None


def test_locking_the_directory_user_does_not_lock_the_admin_of_the_same_name(client, demo, settings):
    settings.RATE_LIMIT_IP_PER_5_MINUTES = settings.RATE_LIMIT_CLIENT_PER_SECOND = 0
    for attempt in range(MAX_ATTEMPTS):
        if ropc(Client(), demo, password=f"wrong-{attempt}").json()["error_description"].startswith("AADB2C90114"):
            break
    else:
        raise AssertionError("the directory user was never locked")
    assert log_in(client, "demo", ADMIN_PASSWORD).status_code == 302


def test_the_two_namespaces_keep_two_counters(db, clean_cache):
    assert lockout.name_key("alice") != lockout.name_key("alice", namespace=lockout.NAMESPACE_ADMIN)
    lockout.record_failure("alice", "x", namespace=lockout.NAMESPACE_ADMIN)
    assert admin_row("alice", ip=None).failures == 1
    assert not SignInThrottle.objects.filter(name_key=lockout.name_key("alice")).exists()


def test_a_right_password_ends_the_admin_names_failure_episode(client, admin_account):
    log_in(client, "alice", "wrong-1")
    assert log_in(client).status_code == 302
    assert admin_row("alice").failures == 0


def test_an_unknown_admin_name_costs_one_hash_verification_like_a_wrong_password(client, admin_account):
    """Equal time: the unknown name is checked against a dummy hash, as ROPC's check_credentials does."""
    with mock.patch.object(admin_login, "check_password", wraps=check_password) as verify:
        log_in(client, "nobody", "whatever")
        unknown = verify.call_count
        log_in(client, "alice", "whatever")
        assert unknown == verify.call_count - unknown == 1


def test_the_password_is_verified_inside_a_hashing_slot(client, admin_account):
    seen = []

    def spy(password, encoded, *args, **kwargs):
        seen.append(hashing_gate._gate()._value)  # free slots while verifying
        return check_password(password, encoded, *args, **kwargs)

    with mock.patch.object(admin_login, "check_password", side_effect=spy):
        log_in(client)
    assert seen == [hashing_gate._gate()._value - 1]


@pytest.mark.django_db(transaction=True)
def test_every_hashing_slot_busy_is_a_try_again_message_never_a_500(admin_account, settings):
    settings.PASSWORD_HASH_CONCURRENCY = 1
    settings.PASSWORD_HASH_WAIT_SECONDS = 0.1
    gate = hashing_gate._gate()
    held = threading.Event()
    release = threading.Event()

    def hold_the_slot() -> None:
        with hashing_gate.hashing_slot():
            held.set()
            release.wait(timeout=30)

    thread = threading.Thread(target=hold_the_slot)
    thread.start()
    try:
        assert held.wait(timeout=30)
        response = log_in(Client())
    finally:
        release.set()
        thread.join()
    assert response.status_code == 200
    assert form_errors(response) == "The server is busy checking other sign-ins. Try again in a moment."
    assert admin_events().get().error == "temporarily_unavailable"
    assert gate._value == 1


def test_a_password_over_the_maximum_is_refused_without_hashing_and_counted(client, admin_account):
    with mock.patch.object(admin_login, "check_password") as verify:
        response = log_in(client, "alice", "x" * 300)
    assert verify.call_count == 0
    assert form_errors(response) == BAD_CREDENTIALS
    assert admin_row("alice").failures == 1


def admin_row(name: str, ip: str | None = "127.0.0.1") -> SignInThrottle:
    """The admin name's smart-lockout counter for the network the attempts came from (the test client's)."""
    key = lockout.name_key(name, namespace=lockout.NAMESPACE_ADMIN)
    return SignInThrottle.objects.get(name_key=key, location_key=lockout.location_key(key, ip))


def test_a_directory_user_cannot_sign_in_to_the_admin_and_its_name_is_not_put_on_the_event(client, db, clean_cache):
    from accounts import services

    services.user_create(actor="tests", username="bob", password="Correct-Horse-9")
    response = log_in(client, "bob", "Correct-Horse-9")
    assert form_errors(response) == BAD_CREDENTIALS
    event = admin_events().get()
    assert (event.user_id, event.failure_reason) == (None, "Unknown admin name.")


def test_djangos_authenticate_goes_through_the_same_check(admin_account, settings):
    """Any caller of authenticate() (the test client's login, a future API) meets the lockout too."""
    client = Client()
    for attempt in range(settings.LOCKOUT_THRESHOLD):
        assert not client.login(username="alice", password=f"wrong-{attempt}")
    assert not client.login(username="alice", password=ADMIN_PASSWORD)  # locked
    assert admin_events().count() == settings.LOCKOUT_THRESHOLD + 1
