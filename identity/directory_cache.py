"""A per-process cache of the directory every token request reads, with a bounded staleness.

Policies, app registrations, secret digests, APIs, consented app roles and signing keys change only
when an admin changes them, yet the token endpoint needs them on every request: reading them from the
database each time was most of a client-credentials token's cost. Each process keeps what it read and
drops all of it when the directory changes:

- every save or delete of a cached model (web admin, commands, services alike; the receivers are
  connected in `identity.apps`) writes a new random stamp into the one `DirectoryStamp` row, inside the
  writer's transaction, and empties this process's cache at once and again on commit;
- every process reads the stamp at most once per `DIRECTORY_CACHE_SECONDS` (default 1) and empties its
  cache when the stamp differs from the one it loaded under.

So a secret removed, an app disabled or consent withdrawn takes effect in every process within
`DIRECTORY_CACHE_SECONDS` of the commit; 0 reads the stamp on every lookup. The stamp is random, not a
counter, so a rolled-back or restored database can never show a process a stamp it already holds. A
change made behind the ORM's back (SQL in a shell) is not stamped: it is seen within MAX_AGE_SECONDS,
after which every process drops everything whatever the stamp says.

Cached values are shared between the threads of a process: callers treat them as read-only.
"""

import math
import threading
import time
import uuid
from collections.abc import Callable, Hashable
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q

T = TypeVar("T")

# Enough for every app and policy of a large tenant; past it, lookups still work, uncached.
MAX_ENTRIES = 20_000
# Whatever the stamp says, nothing is kept longer than this.
MAX_AGE_SECONDS = 300


class DirectoryStamp(models.Model):
    """One row: a random value replaced by every change of the cached directory."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    stamp = models.CharField(max_length=32)

    class Meta:
        app_label = "identity"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="directory_stamp_singleton")]

    def __str__(self) -> str:
        return self.stamp


def _read_stamp() -> str:
    return DirectoryStamp.objects.filter(pk=1).values_list("stamp", flat=True).first() or ""


class DirectoryCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Hashable, object] = {}
        self._stamp: str | None = None
        self._checked_at = -math.inf
        self._cleared_at = time.monotonic()
        self._generation = 0

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The cached value for `key`, or `load()`'s (cached unless None)."""
        generation = self._current_generation()
        try:
            return self._entries[key]  # type: ignore[return-value]
        except KeyError:
            pass
        value = load()
        if value is not None:
            with self._lock:
                # A load that overlapped a clear may hold what the clear was for: not kept.
                if generation == self._generation and len(self._entries) < MAX_ENTRIES:
                    self._entries[key] = value
        return value

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget everything, and read the stamp again on the next lookup."""
        with self._lock:
            self._drop(time.monotonic())
            self._stamp = None
            self._checked_at = -math.inf

    def _drop(self, now: float) -> None:
        self._entries = {}
        self._generation += 1
        self._cleared_at = now

    def _current_generation(self) -> int:
        now = time.monotonic()
        if now - self._checked_at < settings.DIRECTORY_CACHE_SECONDS:
            return self._generation
        stamp = _read_stamp()  # before any load under it, so what is loaded is at least this fresh
        with self._lock:
            if stamp != self._stamp or now - self._cleared_at >= MAX_AGE_SECONDS:
                self._drop(now)
                self._stamp = stamp
            self._checked_at = now
            return self._generation


directory = DirectoryCache()


def directory_changed(**_signal_kwargs) -> None:
    """Mark the directory changed: a new stamp in the writer's transaction; this process forgets now."""
    stamp = uuid.uuid4().hex
    if not DirectoryStamp.objects.filter(pk=1).update(stamp=stamp):
        try:
            with transaction.atomic():
                DirectoryStamp.objects.create(pk=1, stamp=stamp)
        except IntegrityError:  # another writer created it meanwhile
            DirectoryStamp.objects.filter(pk=1).update(stamp=stamp)
    directory.clear()
    # Again once committed: a lookup between the two may have reloaded what this transaction replaces.
    transaction.on_commit(directory.clear)
