"""Sign-in events written in batches, off the token request's path.

A token request's own work may need no database write at all (client credentials); recording its
outcome must not add one. Each process keeps the events of the last `SIGN_IN_EVENTS_FLUSH_SECONDS` in
memory, as plain records, and a background thread writes them in one statement per batch (COPY on
PostgreSQL, executemany elsewhere; the ORM's model instances and bulk_create cost more than the rest of
a client-credentials token together, and held the interpreter lock long enough to show in tail
latency). A normal shutdown writes what is left: at interpreter exit (gunicorn's workers) and in
multiprocessing's exit hook (granian's workers, which end with os._exit and skip atexit). A process
killed hard loses what was pending: at most that interval's events, or while the database is
unreachable the backlog (up to MAX_PENDING, oldest dropped first, and the count logged) that waits to
be written once it answers. With `SIGN_IN_EVENTS_FLUSH_SECONDS = 0` each event is written in its request.
"""

import atexit
import logging
import multiprocessing.util
import os
import threading
import time
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache

from django.conf import settings
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import Q

from accounts.models import AdminAccount
from accounts.selectors import directory_users
from accounts.sign_in_names import is_email, normalize_sign_in_name
from audit.models import SignInEvent
from audit.unknown_names import hide_sign_in_name

logger = logging.getLogger(__name__)

# A batch is written early once this many events wait (a login storm does not wait for the timer).
BATCH = 2_000
# While the database is away: about a minute of a busy process's events.
MAX_PENDING = 100_000
# Sign-in names looked up per query when naming the users of a batch (a bound on the IN list).
NAME_CHUNK = 1_000


# Sign-ins to the web admin (accounts/admin_login.py): an admin account, no app, no policy.
ADMIN_GRANT_TYPE = "admin"


@dataclass(slots=True)
class SignInRecord:
    """One SignInEvent row to be written (the model's fields, by name)."""

    created_at: datetime
    user_id: int | None = None
    sign_in_name: str = ""
    client_id: str = ""
    policy_id: str = ""
    grant_type: str = ""
    ip_address: str | None = None
    succeeded: bool = False
    error: str = ""
    result_code: str = ""
    failure_reason: str = ""
    # Not a column: the writer has looked its name up (user found, or the name hidden), once only, so a
    # batch written again after a database error is not hashed twice.
    named: bool = False


class SignInEventBuffer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[SignInRecord] = []
        self._wake = threading.Event()
        self._owner_pid: int | None = None  # the process whose thread flushes (a fork starts its own)
        self.dropped = 0

    def add(self, event: SignInRecord) -> None:
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

    def _write_each(self, batch: list[SignInRecord]) -> int:
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
    def _write_without_user(event: SignInRecord) -> int:
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

    def _put_back(self, events: list[SignInRecord]) -> None:
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
        # A multiprocessing child (granian's workers) leaves through os._exit: atexit never runs there,
        # multiprocessing's own exit hook does.
        multiprocessing.util.Finalize(None, _flush_at_exit, exitpriority=10)

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


@cache
def _columns() -> list[str]:
    return [SignInEvent._meta.get_field(f.name).column for f in fields(SignInRecord) if f.name != "named"]


def _name_users(events: list[SignInRecord]) -> None:
    """Password attempts refused before any account was read (smart lockout, a client not allowed ROPC,
    a wrong password) get the user their sign-in name belongs to, so that a user's sign-in activity is
    one indexed filter; a name that belongs to no account is kept only as a keyed hash (audit.unknown_names:
    it may be a mistyped password). Admin sign-ins are looked up among admin accounts, every other attempt
    among directory users: never the one for the other. Read here, by the writer, in one query per kind
    and batch: the request never waits for it."""
    unnamed = [e for e in events if not e.named and e.user_id is None and e.sign_in_name]
    for staff in (False, True):
        batch = [e for e in unnamed if (e.grant_type == ADMIN_GRANT_TYPE) == staff]
        if not batch:
            continue
        owners = _owners({normalize_sign_in_name(e.sign_in_name) for e in batch} - {""}, staff=staff)
        for event in batch:
            event.user_id = owners.get(normalize_sign_in_name(event.sign_in_name))
            if event.user_id is None:
                event.sign_in_name = hide_sign_in_name(event.sign_in_name)
    for event in events:  # only once the lookup has answered: a batch put back is looked up again
        event.named = True


def _owners(names: set[str], *, staff: bool = False) -> dict[str, int]:
    """The accounts these normalised sign-in names belong to, by name: directory users, or admin accounts."""
    emails = [n for n in names if is_email(n)]
    usernames = [n for n in names if not is_email(n)]
    owners: dict[str, int] = {}
    for start in range(0, max(len(emails), len(usernames)), NAME_CHUNK):
        # One kind of account: an admin and a directory user may share a name.
        accounts = AdminAccount.objects.all() if staff else directory_users()
        rows = accounts.filter(
            Q(email__in=emails[start:start + NAME_CHUNK]) | Q(username__in=usernames[start:start + NAME_CHUNK])
        ).values_list("pk", "username", "email")
        for pk, username, email in rows:
            owners.update({name: pk for name in (username, email) if name})
    return owners


def _write(events: list[SignInRecord]) -> None:
    """PostgreSQL: one COPY per batch (a many-row INSERT costs more to bind than the rest of the batch);
    other databases: executemany."""
    _name_users(events)
    ops, quote = connection.ops, connection.ops.quote_name
    rows = [
        (ops.adapt_datetimefield_value(e.created_at), e.user_id, e.sign_in_name, e.client_id, e.policy_id,
         e.grant_type, ops.adapt_ipaddressfield_value(e.ip_address), e.succeeded, e.error, e.result_code,
         e.failure_reason)
        for e in events
    ]
    table, columns = quote(SignInEvent._meta.db_table), ", ".join(quote(c) for c in _columns())
    # Names from the model's own metadata, values as parameters: nothing a client sent is in the text.
    insert = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(rows[0]))})"  # noqa: S608
    with transaction.atomic():  # a failed insert must not leave an enclosing transaction aborted
        with connection.cursor() as cursor:
            if len(rows) == 1:
                cursor.execute(insert, rows[0])
            elif connection.vendor == "postgresql":
                _copy(cursor, f"COPY {table} ({columns}) FROM STDIN", rows)
            else:
                cursor.executemany(insert, rows)


def _copy(cursor, statement: str, rows: list[tuple]) -> None:
    """psycopg's COPY, with Django's error translation and query log (it bypasses Django's cursor)."""
    started = time.monotonic()
    with connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
    if connection.queries_logged:
        connection.queries_log.append(
            {"sql": f"{statement} ({len(rows)} rows)", "time": f"{time.monotonic() - started:.3f}"}
        )


sign_in_events = SignInEventBuffer()


@atexit.register
def _flush_at_exit() -> None:
    if sign_in_events.pending() and sign_in_events._owner_pid == os.getpid():
        sign_in_events.flush()
