"""Sign-in events written in batches, off the token request's path.

A token request's own work may need no database write at all (client credentials); recording its
outcome must not add one. Each process keeps the events of the last `SIGN_IN_EVENTS_FLUSH_SECONDS` in
memory and a background thread writes them with one INSERT per batch. A normal shutdown writes what
is left (atexit); a process killed hard loses at most that interval's events. While the database is
unreachable, events wait (up to MAX_PENDING, oldest dropped first, and the count logged) and are
written once it answers. With `SIGN_IN_EVENTS_FLUSH_SECONDS = 0` each event is written in its request.
"""

import atexit
import logging
import os
import threading

from django.conf import settings
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    transaction,
)

from audit.models import SignInEvent

logger = logging.getLogger(__name__)

# A batch is written early once this many events wait (a login storm does not wait for the timer).
BATCH = 2_000
# While the database is away: about a minute of a busy process's events.
MAX_PENDING = 100_000


class SignInEventBuffer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[SignInEvent] = []
        self._wake = threading.Event()
        self._owner_pid: int | None = None  # the process whose thread flushes (a fork starts its own)
        self.dropped = 0

    def add(self, event: SignInEvent) -> None:
        if settings.SIGN_IN_EVENTS_FLUSH_SECONDS <= 0:
            _write([event])
            return
        with self._lock:
            if self._owner_pid != os.getpid():
                self._start()
            self._pending.append(event)
            if len(self._pending) > MAX_PENDING:
                del self._pending[0]  # the oldest goes first
                self.dropped += 1
            full = len(self._pending) >= BATCH
        if full:
            self._wake.set()

    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> int:
        """Write what waits; on a database error put it back for the next attempt. Returns how many were written."""
        with self._lock:
            batch, self._pending = self._pending, []
            dropped, self.dropped = self.dropped, 0
        if dropped:
            logger.error("dropped %d sign-in events while the database was unavailable", dropped)
        if not batch:
            return 0
        try:
            _write(batch)
            return len(batch)
        except (OperationalError, InterfaceError):
            logger.exception("could not write %d sign-in events; will retry", len(batch))
            self._put_back(batch)
            return 0
        except (DatabaseError, ValueError):
            return self._write_each(batch)  # one event the database refuses must not hold back the rest

    def _write_each(self, batch: list[SignInEvent]) -> int:
        written = 0
        for index, event in enumerate(batch):
            try:
                _write([event])
                written += 1
            except (OperationalError, InterfaceError):
                logger.exception("could not write %d sign-in events; will retry", len(batch) - index)
                self._put_back(batch[index:])
                break
            except IntegrityError:
                # Its user was deleted since the request: the event stays, without the user, as the
                # foreign key's SET_NULL would have left it had it been written at once.
                written += self._write_without_user(event)
            except (DatabaseError, ValueError):
                logger.exception("dropped a sign-in event the database refused (%s)", event.grant_type)
        return written

    @staticmethod
    def _write_without_user(event: SignInEvent) -> int:
        if event.user_id is None:
            logger.exception("dropped a sign-in event the database refused (%s)", event.grant_type)
            return 0
        event.user_id = None
        try:
            _write([event])
            return 1
        except (DatabaseError, ValueError):
            logger.exception("dropped a sign-in event the database refused (%s)", event.grant_type)
            return 0

    def _put_back(self, events: list[SignInEvent]) -> None:
        with self._lock:
            self._pending[:0] = events
            excess = len(self._pending) - MAX_PENDING
            if excess > 0:
                del self._pending[:excess]
                self.dropped += excess

    def _start(self) -> None:
        self._owner_pid = os.getpid()
        self._pending = []  # a forked child does not write its parent's events twice
        threading.Thread(target=self._run, name="sign-in-events", daemon=True).start()

    def _run(self) -> None:
        while True:
            # Never a busy loop, even if the setting is turned to 0 (write at once) while running.
            self._wake.wait(settings.SIGN_IN_EVENTS_FLUSH_SECONDS or 1.0)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the thread must outlive any one failure
                logger.exception("sign-in event writer failed")
            finally:
                close_old_connections()  # honour CONN_MAX_AGE and drop a broken connection


def _write(events: list[SignInEvent]) -> None:
    with transaction.atomic():  # a failed insert must not leave an enclosing transaction aborted
        SignInEvent.objects.bulk_create(events)


sign_in_events = SignInEventBuffer()


@atexit.register
def _flush_at_exit() -> None:
    if sign_in_events.pending() and sign_in_events._owner_pid == os.getpid():
        sign_in_events.flush()
