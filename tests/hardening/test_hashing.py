"""Password hashing under pressure (SPEC §1; issue 4): the per-process gate, the length cap, Argon2's
parameters and rehash on change (T10, T57 in-process, T67)."""

import threading
from unittest import mock

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from django.db import connection, connections
from django.test import Client

from accounts import authentication, hashing_gate
from accounts import services as accounts
from accounts.models import SignInThrottle, User
from accounts.passwords import PASSWORD_MAX_LENGTH
from tests.hardening.conftest import ropc

pytestmark = pytest.mark.spec("SPEC.md", "§1")

ARGON2_FIRST = ["accounts.hashers.Argon2idPasswordHasher", "applications.hashers.ClientSecretHasher",
                "django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.django_db(transaction=True)
def test_a_sign_in_that_finds_every_hashing_slot_busy_gets_503_with_retry_after(demo, settings):
    settings.PASSWORD_HASH_CONCURRENCY = 1
    settings.PASSWORD_HASH_WAIT_SECONDS = 0.2
    settings.RATE_LIMIT_CLIENT_PER_SECOND = settings.RATE_LIMIT_IP_PER_5_MINUTES = 0
    entered, release = threading.Event(), threading.Event()
    real_check = authentication.check_password

    def slow_first_hash(password, encoded, *args, **kwargs):
        if not entered.is_set():
            entered.set()
            assert release.wait(timeout=30), "the test never released the slow hash"
        return real_check(password, encoded, *args, **kwargs)

    results = {}

    def slow_sign_in() -> None:
        try:
            if connection.vendor == "postgresql":
                results["slow"] = ropc(Client(), demo).status_code
            else:
                # On the in-memory SQLite test database a second writer fails at once ("database table is
                # locked") while the first request's transaction is open, so the slow hash runs outside a
                # request here: the gate is per process, whoever holds the slot.
                check = authentication.check_credentials(demo.username, demo.password)
                results["slow"] = 200 if check.outcome is authentication.CredentialOutcome.OK else check.outcome
        finally:
            connections.close_all()

    with mock.patch.object(authentication, "check_password", side_effect=slow_first_hash):
        thread = threading.Thread(target=slow_sign_in)
        thread.start()
        try:
            assert entered.wait(timeout=30), "the first sign-in never started hashing"
            busy = ropc(Client(), demo)
        finally:
            release.set()
            thread.join(timeout=30)

    assert busy.status_code == 503, busy.content
    assert busy["Content-Type"] == "application/json" and busy["Cache-Control"] == "no-store"
    assert int(busy["Retry-After"]) >= 1
    body = busy.json()
    assert set(body) == {"error", "error_description"} and body["error"] == "temporarily_unavailable"
    assert "Too many sign-ins" in body["error_description"]
    assert results["slow"] == 200  # the slow one finished normally
    # A busy answer says nothing about the password: nothing was counted towards a lock.
    assert not SignInThrottle.objects.filter(failures__gt=0).exists()
    assert ropc(Client(), demo).status_code == 200  # and the slot is free again


def test_the_gate_lets_the_configured_number_of_hashes_run_at_once(settings):
    settings.PASSWORD_HASH_CONCURRENCY = 3
    settings.PASSWORD_HASH_WAIT_SECONDS = 0.05
    with hashing_gate.hashing_slot(), hashing_gate.hashing_slot(), hashing_gate.hashing_slot():
        with pytest.raises(hashing_gate.HashingBusy):
            with hashing_gate.hashing_slot():
                pass
    with hashing_gate.hashing_slot():  # released on exit, exceptions included
        pass


def test_by_default_a_process_runs_one_hash_at_a_time(settings):
    """One worker per core, one Argon2 hash per worker: more at once only slowed each one (bench/)."""
    settings.PASSWORD_HASH_WAIT_SECONDS = 0.05
    with hashing_gate.hashing_slot():
        with pytest.raises(hashing_gate.HashingBusy):
            with hashing_gate.hashing_slot():
                pass


@pytest.mark.parametrize("length", [PASSWORD_MAX_LENGTH + 1, 10_000, 100_000])
def test_a_password_over_the_maximum_is_refused_without_hashing(client, demo, length):
    with mock.patch.object(authentication, "check_password", wraps=authentication.check_password) as checks:
        response = ropc(client, demo, demo.username, "p" * length)
    assert checks.call_count == 0
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "invalid_request" and set(body) == {"error", "error_description"}
    # The credential check refuses it before hashing; longer still, the edge refuses the field or the body.
    expected = {PASSWORD_MAX_LENGTH + 1: "password is longer than the maximum", 10_000: "longer than 8192",
                100_000: "larger than 65536 bytes"}[length]
    assert expected in body["error_description"], body


def test_a_password_at_the_maximum_length_works_exactly_as_typed(client, demo):
    long_password = ("Zoë-é-" * 100)[:PASSWORD_MAX_LENGTH]
    user = accounts.user_create(actor="tests", username="longpass", password=long_password)
    assert ropc(client, demo, user.username, long_password).status_code == 200
    assert ropc(client, demo, user.username, long_password[:-1]).status_code == 400  # no truncation
    assert ropc(client, demo, user.username, long_password.upper()).status_code == 400  # no case folding


def test_passwords_are_stored_as_argon2id_at_owasp_parameters(db, settings):
    settings.PASSWORD_HASHERS = ARGON2_FIRST
    user = accounts.user_create(actor="tests", username="argon", password="Argon-Pass-123")
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$"), user.password
    assert identify_hasher(user.password).algorithm == "argon2"


def test_changed_argon2_parameters_rehash_on_sign_in(client, demo, settings):
    settings.PASSWORD_HASHERS = ARGON2_FIRST
    user = accounts.user_create(actor="tests", username="rehash", password="Rehash-Pass-123")
    assert "m=19456,t=2,p=1" in user.password
    settings.ARGON2_MEMORY_COST_KIB = 12288
    settings.ARGON2_TIME_COST = 3
    assert ropc(client, demo, "rehash", "Rehash-Pass-123").status_code == 200
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=12288,t=3,p=1$"), user.password
    assert check_password("Rehash-Pass-123", user.password)
    assert ropc(client, demo, "rehash", "Rehash-Pass-123").status_code == 200


def test_an_md5_or_old_algorithm_hash_is_upgraded_to_argon2_on_sign_in(client, demo, settings):
    settings.PASSWORD_HASHERS = ARGON2_FIRST
    user = accounts.user_create(actor="tests", username="legacy", password="Legacy-Pass-123")
    from django.contrib.auth.hashers import make_password

    User.objects.filter(pk=user.pk).update(password=make_password("Legacy-Pass-123", hasher="md5"))
    assert ropc(client, demo, "legacy", "Legacy-Pass-123").status_code == 200
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_a_wrong_password_does_not_rehash(client, demo, settings):
    settings.PASSWORD_HASHERS = ARGON2_FIRST
    user = accounts.user_create(actor="tests", username="norehash", password="Norehash-Pass-1")
    before = user.password
    settings.ARGON2_TIME_COST = 3
    assert ropc(client, demo, "norehash", "wrong").status_code == 400
    user.refresh_from_db()
    assert user.password == before


@pytest.mark.parametrize("parameters", ["m=4194304,t=1000,p=64", "m=1048576,t=2,p=1", "m=19456,t=100000,p=1"])
def test_a_stored_hash_with_hostile_parameters_is_refused_before_argon2_runs(client, demo, settings, parameters):
    """T67: argon2 `verify` takes m, t, p from the stored hash, so a corrupted or planted hash would make the
    unauthenticated sign-in path allocate gigabytes or spin for minutes. Parameters above the configured
    ones must be refused without running Argon2 (argon2-cffi's verification is stubbed here: it would
    really try)."""
    import argon2._password_hasher

    settings.PASSWORD_HASHERS = ARGON2_FIRST
    user = accounts.user_create(actor="tests", username="planted", password="Planted-Pass-123")
    salt_and_hash = user.password.split("$", 4)[4]
    User.objects.filter(pk=user.pk).update(password=f"argon2$argon2id$v=19${parameters}${salt_and_hash}")
    with mock.patch.object(argon2._password_hasher, "verify_secret", return_value=True) as argon2_runs:
        response = ropc(client, demo, "planted", "Planted-Pass-123")
    hostile = [call.args[0] for call in argon2_runs.call_args_list if parameters.encode() in call.args[0]]
    assert hostile == [], f"Argon2 ran with the stored {parameters}"
    assert response.status_code == 400, response.content
