"""Checking a sign-in name and password (SPEC §4.1), in equal time whether or not the user exists.

A failed check always costs two hash verifications: the password, then the previous password (or a
dummy hash when there is none), so "unknown user", "wrong password" and "old password" take the same
time. Passwords longer than PASSWORD_MAX_LENGTH are refused before any hashing.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.hashers import check_password, get_hasher, identify_hasher, make_password

from accounts.hashing_gate import hashing_slot
from accounts.models import User
from accounts.passwords import PASSWORD_MAX_LENGTH
from accounts.selectors import user_get_by_sign_in_name


class CredentialOutcome(Enum):
    OK = "ok"
    UNKNOWN_USER = "unknown_user"
    WRONG_PASSWORD = "wrong_password"
    OLD_PASSWORD = "old_password"
    NO_LOCAL_PASSWORD = "no_local_password"
    TOO_LONG = "too_long"
    LOCKED = "locked"


@dataclass(frozen=True)
class CredentialCheck:
    outcome: CredentialOutcome
    user: User | None = None


@lru_cache(maxsize=4)
def _dummy_hash(hashers: tuple[str, ...]) -> str:
    # Keyed by the hasher list so that a parameter change (tests, reconfiguration) gets a fresh dummy.
    return make_password("trustframe-dummy-password-for-equal-time")


def _verify(password: str, encoded: str | None) -> bool:
    return bool(encoded) and check_password(password, encoded)


def check_credentials(
    sign_in_name: str, password: str, still_allowed: Callable[[], bool] = lambda: True,
    on_failure: Callable[[], object] = lambda: None,
) -> CredentialCheck:
    """Raises HashingBusy when no hashing slot frees up in time (the caller answers 503).

    `still_allowed` is asked again once a slot is held, and `on_failure` runs before the slot is given
    up: requests queued for a slot during a burst see every failure before them (smart lockout), so a
    burst cannot buy more password checks than the lockout threshold.
    """
    if len(password) > PASSWORD_MAX_LENGTH:
        on_failure()
        return CredentialCheck(CredentialOutcome.TOO_LONG)
    with hashing_slot():
        if not still_allowed():
            return CredentialCheck(CredentialOutcome.LOCKED)
        check = _check(sign_in_name, password)
        if check.outcome is not CredentialOutcome.OK:
            on_failure()
        return check


def _check(sign_in_name: str, password: str) -> CredentialCheck:
    dummy = _dummy_hash(tuple(settings.PASSWORD_HASHERS))
    user = user_get_by_sign_in_name(sign_in_name)
    usable = user is not None and user.has_usable_password()
    if _verify(password, user.password if usable else dummy) and usable:
        _rehash_if_needed(user, password)
        return CredentialCheck(CredentialOutcome.OK, user)
    previous = user.previous_password if user is not None and user.previous_password else dummy
    old_password_matches = _verify(password, previous) and previous is not dummy
    if user is None:
        return CredentialCheck(CredentialOutcome.UNKNOWN_USER)
    if not usable:
        return CredentialCheck(CredentialOutcome.NO_LOCAL_PASSWORD, user)
    if old_password_matches:
        return CredentialCheck(CredentialOutcome.OLD_PASSWORD, user)
    return CredentialCheck(CredentialOutcome.WRONG_PASSWORD, user)


def _rehash_if_needed(user: User, password: str) -> None:
    """Argon2 parameters changed since this hash was made: store a fresh one (SPEC §1)."""
    try:
        current = identify_hasher(user.password)
    except ValueError:
        return
    preferred = get_hasher("default")
    if current.algorithm != preferred.algorithm or preferred.must_update(user.password):
        user.set_password(password)
        User.objects.filter(pk=user.pk).update(password=user.password)
