"""The credential check (SPEC §4.1, §1): equal work whether or not the user exists, rehash on sign-in.

Counting hash verifications proves the equal-time design without timing anything: every failed check
costs two verifications (the password, then the previous password or a dummy hash), a success one,
and a password over the maximum length none.
"""

from unittest import mock

import pytest
from django.contrib.auth import hashers

from accounts import authentication
from accounts import services as accounts
from accounts.authentication import CredentialOutcome, check_credentials
from accounts.models import FederatedIdentity, User
from accounts.passwords import PASSWORD_MAX_LENGTH
from tests.conftest import ACTOR, DEMO_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§4.1")]

FAST = "django.contrib.auth.hashers.MD5PasswordHasher"


class Counted:
    """Counts calls to check_password (as authentication uses it) and to the hasher's verify."""

    def __init__(self) -> None:
        self.check_password = mock.patch.object(
            authentication, "check_password", wraps=hashers.check_password
        )
        self.verify = mock.patch.object(
            hashers.MD5PasswordHasher, "verify", autospec=True, side_effect=hashers.MD5PasswordHasher.verify
        )

    def __enter__(self) -> "Counted":
        self.checks = self.check_password.__enter__()
        self.verifies = self.verify.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.verify.__exit__(*exc)
        self.check_password.__exit__(*exc)

    @property
    def counts(self) -> tuple[int, int]:
        return self.checks.call_count, self.verifies.call_count


@pytest.fixture(autouse=True)
def _fast_hasher_first(settings):
    assert settings.PASSWORD_HASHERS[0] == FAST
    authentication._dummy_hash.cache_clear()
    yield
    authentication._dummy_hash.cache_clear()


def test_an_unknown_user_costs_two_hash_verifications(user):
    with Counted() as counted:
        assert check_credentials("nobody", DEMO_PASSWORD).outcome is CredentialOutcome.UNKNOWN_USER
    assert counted.counts == (2, 2)


def test_a_wrong_password_costs_two_hash_verifications(user):
    with Counted() as counted:
        check = check_credentials("alice", "Wrong-Horse-9")
    assert check.outcome is CredentialOutcome.WRONG_PASSWORD
    assert counted.counts == (2, 2)


def test_a_wrong_password_after_a_password_change_costs_two_hash_verifications(user):
    accounts.user_set_password(user=user, password="Second-Horse-9", actor=ACTOR)
    with Counted() as counted:
        assert check_credentials("alice", "Wrong-Horse-9").outcome is CredentialOutcome.WRONG_PASSWORD
    assert counted.counts == (2, 2)


def test_the_old_password_costs_two_hash_verifications(user):
    accounts.user_set_password(user=user, password="Second-Horse-9", actor=ACTOR)
    with Counted() as counted:
        check = check_credentials("alice", DEMO_PASSWORD)
    assert check.outcome is CredentialOutcome.OLD_PASSWORD
    assert check.user == user
    assert counted.counts == (2, 2)


def test_only_the_last_password_is_old(user):
    accounts.user_set_password(user=user, password="Second-Horse-9", actor=ACTOR)
    accounts.user_set_password(user=user, password="Third-Horse-9", actor=ACTOR)
    assert check_credentials("alice", DEMO_PASSWORD).outcome is CredentialOutcome.WRONG_PASSWORD
    assert check_credentials("alice", "Second-Horse-9").outcome is CredentialOutcome.OLD_PASSWORD


def test_a_user_without_a_local_password_costs_two_hash_verifications(db):
    fred = accounts.user_create(actor=ACTOR, username="fred")
    FederatedIdentity.objects.create(user=fred, issuer="https://idp.example.test", issuer_subject="fred-1")
    with Counted() as counted:
        assert check_credentials("fred", "Any-Password-9").outcome is CredentialOutcome.NO_LOCAL_PASSWORD
    assert counted.counts == (2, 2)


def test_a_success_costs_one_hash_verification(user):
    with Counted() as counted:
        check = check_credentials("alice", DEMO_PASSWORD)
    assert check.outcome is CredentialOutcome.OK and check.user == user
    assert counted.counts == (1, 1)


def test_a_success_by_email_costs_one_hash_verification(user):
    with Counted() as counted:
        assert check_credentials("ALICE@contoso.test", DEMO_PASSWORD).outcome is CredentialOutcome.OK
    assert counted.counts == (1, 1)


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_a_password_over_the_maximum_length_costs_no_hash_verification(user, username):
    with Counted() as counted:
        check = check_credentials(username, "x" * (PASSWORD_MAX_LENGTH + 1))
    assert check.outcome is CredentialOutcome.TOO_LONG
    assert counted.counts == (0, 0)


def test_a_password_of_exactly_the_maximum_length_is_checked(user):
    with Counted() as counted:
        assert check_credentials("alice", "x" * PASSWORD_MAX_LENGTH).outcome is CredentialOutcome.WRONG_PASSWORD
    assert counted.counts == (2, 2)


# --- Rehash on sign-in (SPEC §1) -----------------------------------------------------------------------


@pytest.fixture
def argon2_first(settings):
    """Argon2id first, at cheap parameters (the point here is the parameters, not the cost)."""
    settings.PASSWORD_HASHERS = ["accounts.hashers.Argon2idPasswordHasher", FAST]
    settings.ARGON2_TIME_COST = 1
    settings.ARGON2_MEMORY_COST_KIB = 64
    settings.ARGON2_PARALLELISM = 1
    authentication._dummy_hash.cache_clear()
    return settings


def stored_hash(user) -> str:
    return User.objects.values_list("password", flat=True).get(pk=user.pk)


def test_a_hash_made_with_other_argon2_parameters_is_rehashed_on_sign_in(argon2_first, db):
    alice = accounts.user_create(actor=ACTOR, username="alice", password=DEMO_PASSWORD)
    before = stored_hash(alice)
    assert before.startswith("argon2$argon2id$") and "m=64,t=1,p=1" in before
    argon2_first.ARGON2_TIME_COST = 2
    assert check_credentials("alice", DEMO_PASSWORD).outcome is CredentialOutcome.OK
    after = stored_hash(alice)
    assert after != before and "m=64,t=2,p=1" in after
    assert hashers.check_password(DEMO_PASSWORD, after)
    assert check_credentials("alice", DEMO_PASSWORD).outcome is CredentialOutcome.OK


def test_a_hash_with_the_current_parameters_is_left_alone(argon2_first, db):
    alice = accounts.user_create(actor=ACTOR, username="alice", password=DEMO_PASSWORD)
    before = stored_hash(alice)
    assert check_credentials("alice", DEMO_PASSWORD).outcome is CredentialOutcome.OK
    assert stored_hash(alice) == before


def test_a_hash_from_another_algorithm_is_upgraded_to_argon2_on_sign_in(user, argon2_first):
    assert stored_hash(user).startswith("md5$")
    assert check_credentials("alice", DEMO_PASSWORD).outcome is CredentialOutcome.OK
    assert stored_hash(user).startswith("argon2$argon2id$")


def test_a_failed_sign_in_never_rehashes(argon2_first, db):
    alice = accounts.user_create(actor=ACTOR, username="alice", password=DEMO_PASSWORD)
    before = stored_hash(alice)
    argon2_first.ARGON2_TIME_COST = 2
    assert check_credentials("alice", "Wrong-Horse-9").outcome is CredentialOutcome.WRONG_PASSWORD
    assert stored_hash(alice) == before
