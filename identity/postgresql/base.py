"""Django's PostgreSQL backend (psycopg 3), with a health check that usually sends nothing to the server
and prepared statements for the token grants' hot statements.

With CONN_HEALTH_CHECKS, Django checks a persistent connection once per request, before its first
query, with `SELECT 1`: a round trip and work in both processes on every request that touches the
database, about a twentieth of a refresh's CPU. A connection the server has ended (a restart,
pg_terminate_backend, idle_session_timeout, a crash) has its goodbye waiting on the socket, an
ErrorResponse then end of file or a reset, while a healthy idle connection has nothing to read. So an
idle connection that proved itself within the last PROVEN_RECENTLY_SECONDS is usable when a zero-timeout
poll() finds nothing on its socket: one system call. One idle for longer gets Django's `SELECT 1`: a
server that lost the connection without a word (a host rebooted at the same address, a failover moving
a virtual IP) answers only what is sent to it, with a reset. Anything else unread (a notice) only costs a
reconnect. A connection inside a transaction gets Django's own check.
"""

import math
import select
import time

from django.conf import settings
from django.db.backends.postgresql import base, operations
from django.db.backends.postgresql.psycopg_any import is_psycopg3
from django.db.backends.utils import CursorWrapper

# What prepared_cursor() asks create_cursor() for, through Django's _cursor() (no name is this object).
PREPARED = object()

# Under load every thread's connection is checked every few milliseconds; an idle one pays the round trip.
PROVEN_RECENTLY_SECONDS = 1.0

if is_psycopg3:
    import psycopg
    from psycopg.pq import TransactionStatus
    from psycopg.types.numeric import Int8

    # What a pooler or a schema change does to a statement prepared on this connection: psycopg keeps
    # the name, so every later execution would fail the same way. The connection is dropped instead.
    PREPARED_STATEMENT_GONE = frozenset({
        "0A000",  # feature_not_supported: "cached plan must not change result type" (a column changed)
        "26000",  # invalid_sql_statement_name: the statement is not on this server session
        "42P05",  # duplicate_prepared_statement: the name is taken on this server session
    })


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        """The query log (DEBUG, tests) shows a prepared statement with its values, as Django's own."""
        if is_psycopg3 and isinstance(cursor, PreparedStatementCursor):
            try:
                return self.compose_sql(sql, params)
            except Exception:  # a log line must not become the request's error
                return sql
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
    proven_at = -math.inf

    def connect(self) -> None:
        super().connect()
        self.proven_at = time.monotonic()

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None:
            return False
        if not is_psycopg3 or not hasattr(select, "poll"):
            return super().is_usable()
        now = time.monotonic()
        try:
            if connection.closed or connection.broken:
                return False
            if (connection.info.transaction_status != TransactionStatus.IDLE
                    or now - self.proven_at > PROVEN_RECENTLY_SECONDS):
                usable = super().is_usable()
            else:
                poller = select.poll()
                poller.register(connection.fileno(), select.POLLIN)
                # Any event is a reason to reconnect: data, POLLHUP, POLLERR, POLLNVAL.
                usable = not poller.poll(0)
        except (OSError, ValueError, psycopg.Error):
            return False
        if usable:
            self.proven_at = now
        return usable

    def prepared_cursor(self) -> CursorWrapper:
        """A cursor, in Django's wrapper as `cursor()` gives it (health check, error translation, query
        log), whose statements the server parses once per connection rather than on every call.

        For statements a request runs every time (applications/refresh_token_statements.py): parsing and
        planning was half of PostgreSQL's CPU per refresh. Everything else stays as Django sends it
        (bound client-side, never prepared), and so do these with DATABASE_PREPARED_STATEMENTS=false.
        """
        if not (is_psycopg3 and settings.DATABASE_PREPARED_STATEMENTS):
            return self.cursor()
        return self._cursor(PREPARED)

    def create_cursor(self, name=None):
        if name is not PREPARED:
            return super().create_cursor(name)
        # Django's own cursor creation (its time-zone handling included), with our cursor class.
        factory, self.connection.cursor_factory = self.connection.cursor_factory, PreparedStatementCursor
        try:
            return super().create_cursor()
        finally:
            self.connection.cursor_factory = factory

if is_psycopg3:
    class PreparedStatementCursor(base.ServerBindingCursor):
        """Parameters sent apart from the statement; the statement prepared on its first execution.

        psycopg prepares nothing while the connection's threshold is None, Django's setting (for
        transaction-mode poolers); it is lifted only for this cursor's own executions, so Django's
        cursors see none of psycopg's statement bookkeeping. A prepared statement is keyed by its text and
        its parameters' types: integers go as int8, else 1 and 70000 (int2, int4) would make two.
        """

        def execute(self, query, params=None, *, prepare=None, binary=None):
            if params is not None:
                params = [Int8(value) if type(value) is int else value for value in params]
            connection = self.connection
            threshold = connection.prepare_threshold
            if threshold is None:
                connection.prepare_threshold = 1
            try:
                return super().execute(query, params, prepare=True, binary=binary)
            except psycopg.Error as exc:
                if exc.sqlstate in PREPARED_STATEMENT_GONE:
                    connection.close()  # the next request's health check connects afresh
                raise
            finally:
                connection.prepare_threshold = threshold
