"""Smart lockout (SPEC §4.1), as B2C does it.

Counted per normalised sign-in name whether or not a user has it, so "locked" reveals nothing. The
same wrong password repeated counts once. The database row is the authority, updated under a row
lock so that every instance counts into the same place; the cache (Redis when configured) only
remembers names that are locked, to answer those without a query. If the cache is down, the
database answers: an outage neither opens the door nor locks everyone out.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import SignInThrottle
from accounts.sign_in_names import normalize_sign_in_name
from identity.cache_guard import cache_call

RECENT_FAILURES_KEPT = 16
CACHE_PREFIX = "lockout:"
# The admin login's names (accounts/admin_login.py); the default "" is the directory's sign-in names.
NAMESPACE_ADMIN = "admin"


def _hmac(purpose: str, value: str) -> str:
    key = hashlib.sha256(f"trustframe lockout {purpose} {settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def name_key(sign_in_name: str, *, namespace: str = "") -> str:
    # Another namespace (the admin login's: NAMESPACE_ADMIN) keys its names with another HMAC key, so an
    # admin account never shares a counter with a directory user of the same name.
    purpose = f"name {namespace}" if namespace else "name"
    return _hmac(purpose, normalize_sign_in_name(sign_in_name))


def _password_mark(key: str, password: str) -> str:
    # 32 bits, keyed per name: enough to recognise a repeat among the few kept, and so short that
    # someone holding the database and the key cannot confirm a guessed (near-miss) password with it.
    return _hmac("password", f"{key}:{password}")[:8]


def lock_duration(lockouts: int) -> timedelta:
    """B2C: the first 10 lockouts last the base duration; it doubles after every 10, up to the cap."""
    seconds = settings.LOCKOUT_DURATION_SECONDS * 2 ** ((max(lockouts, 1) - 1) // 10)
    return timedelta(seconds=min(seconds, settings.LOCKOUT_MAX_DURATION_SECONDS))


@dataclass(frozen=True)
class LockState:
    locked_until: datetime | None  # when the name's lock ends; None if it is not locked
    episode: bool  # failures or lock history a correct password would clear


def known_locked(sign_in_name: str, now: datetime | None = None, *, namespace: str = "") -> bool:
    """Locked, as far as the cache remembers: a fast refusal before queueing for a hashing slot. The
    database's answer (`lock_state`) is the authority, asked again once a slot is held."""
    now = now or timezone.now()
    cached = _cache_get(name_key(sign_in_name, namespace=namespace))
    return cached is not None and cached > now.timestamp()


def lock_state(sign_in_name: str, now: datetime | None = None, *, namespace: str = "") -> LockState:
    """The name's lock and whether it has an episode to clear, in one read of its row."""
    now = now or timezone.now()
    key = name_key(sign_in_name, namespace=namespace)
    cached = _cache_get(key)
    if cached is not None and cached > now.timestamp():
        return LockState(datetime.fromtimestamp(cached, tz=now.tzinfo), episode=True)
    row = SignInThrottle.objects.filter(name_key=key).values_list("locked_until", "failures", "lockouts").first()
    if row is None:
        return LockState(None, episode=False)
    until, failures, lockouts = row
    until = until if until is not None and until > now else None
    if until is not None:
        _cache_set(key, until, now)
    return LockState(until, episode=bool(failures or lockouts or row[0] is not None))


def locked_until(sign_in_name: str, now: datetime | None = None, *, namespace: str = "") -> datetime | None:
    """When the name's lock ends, or None if it is not locked."""
    return lock_state(sign_in_name, now, namespace=namespace).locked_until


def record_failure(sign_in_name: str, password: str, *, namespace: str = "") -> SignInThrottle:
    """Count a failed sign-in. Runs in its own transaction, after the refused request's rollback."""
    key = name_key(sign_in_name, namespace=namespace)
    now = timezone.now()
    for _ in range(3):
        try:
            with transaction.atomic():
                throttle = _locked_row(key)
                _count(throttle, _password_mark(key, password), now)
                throttle.save()
            if throttle.locked_until and throttle.locked_until > now:
                _cache_set(key, throttle.locked_until, now)
            return throttle
        except IntegrityError:  # two first failures raced to create the row; the loser counts again
            continue
    raise RuntimeError("could not record a sign-in failure")


def record_success(sign_in_name: str, *, namespace: str = "") -> None:
    """A correct password ends the episode: counts, remembered wrong passwords and lock history."""
    key = name_key(sign_in_name, namespace=namespace)
    SignInThrottle.objects.filter(
        Q(failures__gt=0) | Q(lockouts__gt=0) | Q(locked_until__isnull=False), name_key=key
    ).update(failures=0, lockouts=0, recent_failures=[], locked_until=None, updated_at=timezone.now())


def unlock(sign_in_name: str, *, namespace: str = "") -> None:
    """Admin/ops: lift a lock at once and forget the episode."""
    key = name_key(sign_in_name, namespace=namespace)
    SignInThrottle.objects.filter(name_key=key).update(failures=0, lockouts=0, recent_failures=[], locked_until=None)
    _cache_delete(key)


def _locked_row(key: str) -> SignInThrottle:
    throttle = SignInThrottle.objects.select_for_update().filter(name_key=key).first()
    return throttle or SignInThrottle.objects.create(name_key=key)


def _count(throttle: SignInThrottle, mark: str, now: datetime) -> None:
    if throttle.locked_until and throttle.locked_until > now:
        return  # attempts during a lock are refused before any password check; nothing to count
    if mark in throttle.recent_failures:
        return  # the same wrong password again counts once (also across locks)
    throttle.failures += 1
    throttle.recent_failures = [*throttle.recent_failures, mark][-RECENT_FAILURES_KEPT:]
    # After a lock has expired, with no correct password since, one more distinct failure locks again
    # (as B2C's smart lockout does): otherwise each expiry would buy another full threshold of guesses.
    relock = throttle.locked_until is not None
    if relock or throttle.failures >= settings.LOCKOUT_THRESHOLD:
        throttle.lockouts += 1
        throttle.locked_until = now + lock_duration(throttle.lockouts)
        throttle.failures = 0


def _cache_get(key: str) -> float | None:
    return cache_call(cache.get, CACHE_PREFIX + key)  # None (cache down): ask the database


def _cache_set(key: str, until: datetime, now: datetime) -> None:
    cache_call(cache.set, CACHE_PREFIX + key, until.timestamp(),
               timeout=max(1, int((until - now).total_seconds()) + 1))


def _cache_delete(key: str) -> None:
    # If the cache is down, a cached lock may outlive the unlock by its own timeout.
    cache_call(cache.delete, CACHE_PREFIX + key)


def throttles_purge(*, older_than: timedelta) -> int:
    """Forget names with no lock in force and no failure for `older_than` (they pile up under attack)."""
    cutoff = timezone.now() - older_than
    stale = SignInThrottle.objects.filter(updated_at__lt=cutoff).exclude(locked_until__gt=timezone.now())
    return stale.delete()[0]
