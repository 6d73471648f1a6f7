"""Smart lockout (SPEC §4.1), as B2C does it, with familiar and unfamiliar locations (issue 18).

Counted per normalised sign-in name whether or not a user has it, so "locked" reveals nothing. The
same wrong password repeated counts once. The database rows are the authority, updated under row
locks so that every instance counts into the same place; the cache (Redis when configured) only
remembers locks in force, to answer those without a query. If the cache is down, the database
answers: an outage neither opens the door nor locks everyone out.

Locations. An attempt comes from a network: the client's address (identity.client_ip; X-Forwarded-For
only behind TRUSTED_PROXY_COUNT proxies) cut to IPv4 /LOCKOUT_IPV4_PREFIX or IPv6 /LOCKOUT_IPV6_PREFIX
(24 and 64: one subscriber's LAN, where a home or office address moves). Each network has a counter of
its own per name: LOCKOUT_THRESHOLD distinct wrong passwords lock the name at that network, and after
the lock ends one more locks it again. A network from which the name signed in successfully within
LOCKOUT_FAMILIAR_DAYS is familiar, and only its own counter applies there. Every other network is
unfamiliar, and all of them also share one counter per name (`location_key` ""): after
LOCKOUT_UNFAMILIAR_THRESHOLD distinct wrong passwords from unfamiliar networks together, every unfamiliar
network is locked. So a guesser on one network locks itself first, a guesser spread over many networks
gets no more guesses than the shared counter allows, and neither can lock the user out of a network the
user signs in from. Without a usable address every attempt is one location (one counter per name).

What it does not answer: an attacker on the user's own network (the same /24 or /64, a shared NAT, a
carrier's CGNAT pool) is familiar too, and can lock the user out there (not elsewhere); a user with no
familiar network (first sign-in, none within the window, travelling) shares the unfamiliar counters
with whoever attacks the name, as before.

Names and networks are stored as HMACs keyed with SECRET_KEY; the network's is keyed per name too, so
rows of different names cannot be matched by network. (With the key, an IPv4 /24 can be recovered by
trying all 2^24; the HMACs protect a copy of the database, not a copy of the database and the settings.)
"""

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import SignInThrottle
from accounts.sign_in_names import normalize_sign_in_name
from identity.cache_guard import cache_call

RECENT_FAILURES_KEPT = 16
CACHE_PREFIX = "lockout:"
# The admin login's names (accounts/admin_login.py); the default "" is the directory's sign-in names.
NAMESPACE_ADMIN = "admin"
UNFAMILIAR = ""  # the location_key of the counter every unfamiliar network of a name shares
# A successful sign-in rewrites its network's familiarity at most this often: no write on the usual one.
FAMILIARITY_RENEWED_AFTER = timedelta(days=1)


def _hmac(purpose: str, value: str) -> str:
    key = hashlib.sha256(f"trustframe lockout {purpose} {settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def name_key(sign_in_name: str, *, namespace: str = "") -> str:
    # Another namespace (the admin login's: NAMESPACE_ADMIN) keys its names with another HMAC key, so an
    # admin account never shares a counter with a directory user of the same name.
    purpose = f"name {namespace}" if namespace else "name"
    return _hmac(purpose, normalize_sign_in_name(sign_in_name))


def network_of(ip: str | None) -> str:
    """The network an address counts as: IPv4 /LOCKOUT_IPV4_PREFIX, IPv6 /LOCKOUT_IPV6_PREFIX (an
    IPv4-mapped IPv6 address as IPv4); "unknown" without a usable address."""
    return _network(ip or "", settings.LOCKOUT_IPV4_PREFIX, settings.LOCKOUT_IPV6_PREFIX)


@lru_cache(maxsize=4096)
def _network(ip: str, ipv4_prefix: int, ipv6_prefix: int) -> str:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if isinstance(address, ipaddress.IPv4Address):
        return str(ipaddress.IPv4Network((int(address), ipv4_prefix), strict=False))
    return str(ipaddress.IPv6Network((int(address), ipv6_prefix), strict=False))  # int(): no %scope


def location_key(key: str, ip: str | None) -> str:
    """The key of the name's row for the network of `ip` (`key`: the name's `name_key`)."""
    return _hmac("location", f"{key}:{network_of(ip)}")


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
    locked_until: datetime | None  # when the name's lock at this location ends; None if it is not locked
    episode: bool  # something a correct password would write: failures, lock history, familiarity to renew


def known_locked(
    sign_in_name: str, now: datetime | None = None, *, ip: str | None = None, namespace: str = ""
) -> bool:
    """Locked at this location, as far as the cache remembers: a fast refusal before queueing for a
    hashing slot. The database's answer (`lock_state`) is the authority, asked again once a slot is held."""
    now = now or timezone.now()
    key = name_key(sign_in_name, namespace=namespace)
    return _cached_until(key, location_key(key, ip), now) is not None


def lock_state(
    sign_in_name: str, now: datetime | None = None, *, ip: str | None = None, namespace: str = ""
) -> LockState:
    """The name's lock at this location and whether a success has anything to write, in one read."""
    now = now or timezone.now()
    key = name_key(sign_in_name, namespace=namespace)
    location = location_key(key, ip)
    cached = _cached_until(key, location, now)
    if cached is not None:
        return LockState(datetime.fromtimestamp(cached, tz=now.tzinfo), episode=True)
    rows = {row.location_key: row for row in SignInThrottle.objects.filter(
        name_key=key, location_key__in=(location, UNFAMILIAR),
    ).values_list("location_key", "locked_until", "failures", "lockouts", "familiar_until", named=True)}
    here, elsewhere = rows.get(location), rows.get(UNFAMILIAR)
    familiar = _is_familiar(here, now)
    own = _in_force(here, now)
    shared = None if familiar else _in_force(elsewhere, now)
    _cache_locks(key, location, own, shared, now)
    episode = _history(here) or (not familiar and _history(elsewhere)) or _familiarity_due(here, now)
    return LockState(max((t for t in (own, shared) if t is not None), default=None), episode)


def locked_until(
    sign_in_name: str, now: datetime | None = None, *, ip: str | None = None, namespace: str = ""
) -> datetime | None:
    """When the name's lock at this location ends, or None if it is not locked."""
    return lock_state(sign_in_name, now, ip=ip, namespace=namespace).locked_until


def record_failure(
    sign_in_name: str, password: str, *, ip: str | None = None, namespace: str = ""
) -> SignInThrottle:
    """Count a failed sign-in at its network, and, from an unfamiliar network, in the counter all
    unfamiliar networks share. Runs in its own transaction, after the refused request's rollback.
    Returns the network's row."""
    key = name_key(sign_in_name, namespace=namespace)
    location = location_key(key, ip)
    mark = _password_mark(key, password)
    now = timezone.now()
    with transaction.atomic():
        rows = _locked_rows(key, location)
        here, elsewhere = rows[location], rows[UNFAMILIAR]
        familiar = _is_familiar(here, now)
        _count(here, mark, now, threshold=settings.LOCKOUT_THRESHOLD)
        here.save()
        if not familiar:
            _count(elsewhere, mark, now, threshold=settings.LOCKOUT_UNFAMILIAR_THRESHOLD)
            elsewhere.save()
    _cache_locks(key, location, _in_force(here, now), None if familiar else _in_force(elsewhere, now), now)
    return here


def record_success(sign_in_name: str, *, ip: str | None = None, namespace: str = "") -> None:
    """A correct password ends the episode at its network (counts, remembered wrong passwords, lock
    history) and makes the network familiar for LOCKOUT_FAMILIAR_DAYS. From a network that was not
    familiar it also ends the unfamiliar networks' episode, as B2C's single counter did; a sign-in at a
    familiar network says nothing about attempts elsewhere and leaves their counter as it is."""
    key = name_key(sign_in_name, namespace=namespace)
    location = location_key(key, ip)
    now = timezone.now()
    with transaction.atomic():
        rows = _locked_rows(key, location)
        here = rows[location]
        was_familiar = _is_familiar(here, now)
        _clear(here)
        if settings.LOCKOUT_FAMILIAR_DAYS > 0:
            here.familiar_until = now + timedelta(days=settings.LOCKOUT_FAMILIAR_DAYS)
        here.save()
        if not was_familiar and _history(rows[UNFAMILIAR]):
            _clear(rows[UNFAMILIAR])
            rows[UNFAMILIAR].save()
    cache_call(cache.delete_many, [_lock_cache_key(key, location), _marker_key(key, location)])


def unlock(sign_in_name: str, *, namespace: str = "") -> None:
    """Admin/ops: lift the name's locks at every location at once and forget the episode (familiar
    networks stay familiar)."""
    key = name_key(sign_in_name, namespace=namespace)
    throttles = SignInThrottle.objects.filter(name_key=key)
    locations = set(throttles.values_list("location_key", flat=True))
    throttles.update(failures=0, lockouts=0, recent_failures=[], locked_until=None)
    # A network's "unfamiliar" marker cannot be found by name; without the shared lock it refuses nothing.
    cache_call(cache.delete_many, [_lock_cache_key(key, loc) for loc in locations | {UNFAMILIAR}])


def _locked_rows(key: str, location: str) -> dict[str, SignInThrottle]:
    """The name's row for this network and its unfamiliar-networks row, locked for this transaction.

    Missing rows are inserted first (ON CONFLICT DO NOTHING, before any row lock is held), then both are
    locked in one order: concurrent attempts from several networks neither fail on the insert nor
    deadlock."""
    wanted = sorted({location, UNFAMILIAR})
    SignInThrottle.objects.bulk_create(
        [SignInThrottle(name_key=key, location_key=loc) for loc in wanted], ignore_conflicts=True,
    )
    locked = SignInThrottle.objects.select_for_update().filter(name_key=key, location_key__in=wanted)
    return {row.location_key: row for row in locked.order_by("location_key")}


def _count(throttle: SignInThrottle, mark: str, now: datetime, *, threshold: int) -> None:
    if throttle.locked_until and throttle.locked_until > now:
        return  # attempts during a lock are refused before any password check; nothing to count
    if mark in throttle.recent_failures:
        return  # the same wrong password again counts once (also across locks)
    throttle.failures += 1
    throttle.recent_failures = [*throttle.recent_failures, mark][-RECENT_FAILURES_KEPT:]
    # After a lock has expired, with no correct password since, one more distinct failure locks again
    # (as B2C's smart lockout does): otherwise each expiry would buy another full threshold of guesses.
    relock = throttle.locked_until is not None
    if relock or throttle.failures >= threshold:
        throttle.lockouts += 1
        throttle.locked_until = now + lock_duration(throttle.lockouts)
        throttle.failures = 0


def _clear(throttle: SignInThrottle) -> None:
    throttle.failures = throttle.lockouts = 0
    throttle.recent_failures = []
    throttle.locked_until = None


def _is_familiar(row, now: datetime) -> bool:
    return row is not None and row.familiar_until is not None and row.familiar_until > now


def _in_force(row, now: datetime) -> datetime | None:
    return row.locked_until if row is not None and row.locked_until and row.locked_until > now else None


def _history(row) -> bool:
    return row is not None and bool(row.failures or row.lockouts or row.locked_until is not None)


def _familiarity_due(row, now: datetime) -> bool:
    """A success here has familiarity to record: a new network, or one last renewed over a day ago."""
    days = settings.LOCKOUT_FAMILIAR_DAYS
    if days <= 0:
        return False
    renewed_until = now + timedelta(days=days) - FAMILIARITY_RENEWED_AFTER
    return row is None or row.familiar_until is None or row.familiar_until < renewed_until


# --- the cache: locks in force, as a fast path -----------------------------------------------------------
# lockout:{name}                 the unfamiliar networks' lock (the key the name's only lock had before)
# lockout:{name}:{network}       the network's own lock
# lockout:{name}:{network}:u     "this network is unfamiliar", while the unfamiliar networks' lock lasts
# The shared lock refuses a network only together with its marker, so a familiar network is never
# refused from the cache, and an unlock (which deletes the shared lock) cannot leave markers that refuse.


def _lock_cache_key(key: str, location: str) -> str:
    return CACHE_PREFIX + key if location == UNFAMILIAR else f"{CACHE_PREFIX}{key}:{location}"


def _marker_key(key: str, location: str) -> str:
    return f"{CACHE_PREFIX}{key}:{location}:u"


def _cached_until(key: str, location: str, now: datetime) -> float | None:
    """The lock in force at this network as far as the cache knows (one round trip), else None (cache
    down, or nothing remembered: ask the database)."""
    own, shared, marker = _lock_cache_key(key, location), _lock_cache_key(key, UNFAMILIAR), _marker_key(key, location)
    found = cache_call(cache.get_many, [own, shared, marker], default={})
    candidates = [found.get(own)] + ([found.get(shared)] if found.get(marker) is not None else [])
    in_force = [until for until in candidates if until is not None and until > now.timestamp()]
    return max(in_force, default=None)


def _cache_locks(key: str, location: str, own: datetime | None, shared: datetime | None, now: datetime) -> None:
    if own is not None:
        _cache_set({_lock_cache_key(key, location): own.timestamp()}, own, now)
    if shared is not None:
        _cache_set({_lock_cache_key(key, UNFAMILIAR): shared.timestamp(),
                    _marker_key(key, location): shared.timestamp()}, shared, now)


def _cache_set(values: dict[str, float], until: datetime, now: datetime) -> None:
    cache_call(cache.set_many, values, timeout=max(1, int((until - now).total_seconds()) + 1))


def throttles_purge(*, older_than: timedelta) -> int:
    """Forget rows with no lock in force, no failure for `older_than` and no familiar network (rows pile
    up under attack; a familiar network is kept for its window)."""
    now = timezone.now()
    stale = SignInThrottle.objects.filter(updated_at__lt=now - older_than)
    return stale.exclude(Q(locked_until__gt=now) | Q(familiar_until__gt=now)).delete()[0]
