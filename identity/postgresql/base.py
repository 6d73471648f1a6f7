"""Django's PostgreSQL backend (psycopg 3), with a health check that sends nothing to the server.

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

from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import is_psycopg3


class DatabaseWrapper(base.DatabaseWrapper):
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
