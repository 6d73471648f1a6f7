"""Django's PostgreSQL backend (psycopg 3), with a health check that sends nothing to the server and
prepared statements for the token grants' hot statements.

With CONN_HEALTH_CHECKS, Django checks a persistent connection once per request, before its first
query, with `SELECT 1`: a round trip and work in both processes on every request that touches the
database, about a twentieth of a refresh's CPU. A connection the server has ended (a restart,
pg_terminate_backend, idle_session_timeout, a crash) has its goodbye waiting on the socket, an
ErrorResponse then end of file or a reset, while a healthy idle connection has nothing to read. So an
idle connection is usable when a zero-timeout poll() finds nothing on its socket: one system call.
Anything else unread (a notice) only costs a reconnect. A connection inside a transaction, or not on
psycopg 3, gets Django's own check.

Neither check notices a server that vanished without a word (a dropped network path): `SELECT 1` waited
on TCP's retransmissions then, as the request's first query now does.
"""

import select

from django.conf import settings
from django.db.backends.postgresql import base, operations
from django.db.backends.postgresql.psycopg_any import is_psycopg3

# psycopg prepares nothing while a connection's threshold is None (Django's default, for transaction
# poolers); Django's own cursors bind client-side and never prepare whatever the threshold, so a threshold
# only lets PreparedStatementCursor's explicit requests through.
PREPARE_ONLY_WHEN_ASKED = 2**31


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

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None:
            return False
        if not is_psycopg3:
            return super().is_usable()
        from psycopg.pq import TransactionStatus

        if connection.closed or connection.broken:
            return False
        if connection.info.transaction_status != TransactionStatus.IDLE:
            return super().is_usable()
        poller = select.poll()
        try:
            poller.register(connection.fileno(), select.POLLIN)
            # Any event is a reason to reconnect: data, POLLHUP, POLLERR, POLLNVAL.
            return not poller.poll(0)
        except (OSError, ValueError):
            return False

    def prepared_cursor(self):
        """A cursor, Django's wrapper around it as `cursor()` gives (health check, error translation,
        query log), whose statements the server parses and plans once per connection, not on each call.

        For statements a request runs every time (applications/refresh_token_statements.py): half of
        PostgreSQL's CPU per refresh is parsing and planning its two statements otherwise. Everything else
        stays as Django sends it (bound client-side, never prepared), and so do these with
        DATABASE_PREPARED_STATEMENTS=false, for a transaction-mode pooler that cannot keep prepared
        statements (PgBouncer before 1.21, or without max_prepared_statements).
        """
        if not (is_psycopg3 and settings.DATABASE_PREPARED_STATEMENTS):
            return self.cursor()
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            if self.connection.prepare_threshold is None:
                self.connection.prepare_threshold = PREPARE_ONLY_WHEN_ASKED
            cursor = PreparedStatementCursor(self.connection)
        return self._prepare_cursor(cursor)


if is_psycopg3:
    class PreparedStatementCursor(base.ServerBindingCursor):
        """Parameters sent apart from the statement; every statement prepared on its first execution."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)
