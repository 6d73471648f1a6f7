"""The PostgreSQL backend (identity/postgresql/base.py): a health check with no round trip for a healthy
idle connection, a connection the server ended replaced before the request's first query; the hot
statements' prepared cursor."""

import select
import time

import psycopg
import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from identity.postgresql.base import PROVEN_RECENTLY_SECONDS

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend's health check"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def statements(monkeypatch) -> list[str]:
    """Every statement sent on psycopg connections, Django's cursors and the backend's own alike."""
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def recording(self, query, *args, **kwargs):
        sent.append(str(query))
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", recording)
    return sent


def end_from_the_server(pid: int) -> None:
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    poller = select.poll()
    poller.register(connection.connection.fileno(), select.POLLIN)
    deadline = time.monotonic() + 10
    while not poller.poll(50):  # the server's goodbye arrives a moment after the call returns
        assert time.monotonic() < deadline, "the terminated backend's socket never became readable"


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_the_backend_is_ours_with_health_checks_on():
    connection.ensure_connection()
    assert type(connections["default"]).__module__ == "identity.postgresql.base"
    assert connection.health_check_enabled


def test_a_healthy_idle_connection_is_usable_without_a_statement(statements):
    backend_pid()
    statements.clear()
    assert connection.is_usable()
    assert statements == []


def test_a_connection_idle_for_longer_gets_djangos_round_trip(statements):
    """A server that lost the connection silently (a failover) answers only what is sent to it."""
    backend_pid()
    connection.proven_at -= PROVEN_RECENTLY_SECONDS + 1
    statements.clear()
    assert connection.is_usable()
    assert statements == ["SELECT 1"]
    statements.clear()
    assert connection.is_usable()  # proven again: the poll is enough
    assert statements == []


def test_a_request_after_the_server_ended_the_connection_gets_a_new_one():
    first = backend_pid()
    end_from_the_server(first)
    assert not connection.is_usable()
    connection.close_if_unusable_or_obsolete()  # what request_started does (close_old_connections)
    assert backend_pid() != first  # no OperationalError: the check replaced the connection first


def test_without_the_check_the_same_ending_fails_the_first_query():
    """The counterpart: what the check saves a request from."""
    first = backend_pid()
    end_from_the_server(first)
    connection.health_check_done = True
    with pytest.raises(DatabaseError):
        backend_pid()
    connection.close()


def test_a_failed_statement_leaves_the_connection_usable(statements):
    with pytest.raises(DatabaseError), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table")
    statements.clear()
    assert connection.is_usable()
    assert statements == []


def test_inside_a_transaction_it_is_djangos_own_check(statements):
    with transaction.atomic():
        backend_pid()
        statements.clear()
        assert connection.is_usable()
    assert statements == ["SELECT 1"]


def test_a_closed_connection_is_not_usable():
    backend_pid()
    connection.connection.close()
    assert not connection.is_usable()
    connection.close()


def prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_the_prepared_cursor_prepares_its_statements_once_per_connection():
    connection.close()
    for value in (1, 70_000, 5_000_000_000):  # int2, int4 and int8 in psycopg's eyes: one statement
        with connection.prepared_cursor() as cursor:
            cursor.execute("SELECT %s::bigint + 1", [value])
            assert cursor.fetchone() == (value + 1,)
    assert prepared() == ["SELECT $1::bigint + 1"]
    assert connection.connection.prepare_threshold is None  # Django's cursors: no bookkeeping


def test_prepared_statements_outlive_a_savepoint_rollback_and_come_back_after_a_reconnect():
    connection.close()
    with connection.prepared_cursor() as cursor:
        cursor.execute("SELECT %s::int", [1])
    with transaction.atomic():
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")
        assert prepared() == ["SELECT $1::int"]
    connection.close()
    assert prepared() == []  # a new session
    with connection.prepared_cursor() as cursor:
        cursor.execute("SELECT %s::int", [1])
    assert prepared() == ["SELECT $1::int"]


def test_a_prepared_statement_gone_from_the_session_costs_one_failure_not_every_request():
    """A pooler that switched server sessions, or DEALLOCATE behind psycopg's back: psycopg would keep
    the name and fail every later execution; the connection is dropped instead."""
    with connection.prepared_cursor() as cursor:
        cursor.execute("SELECT %s::int", [1])
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with pytest.raises(DatabaseError), connection.prepared_cursor() as cursor:
        cursor.execute("SELECT %s::int", [1])
    connection.close_if_unusable_or_obsolete()  # the end of that request
    with connection.prepared_cursor() as cursor:
        cursor.execute("SELECT %s::int", [2])
        assert cursor.fetchone() == (2,)


def test_djangos_own_cursors_prepare_nothing_even_after_the_prepared_cursor_ran():
    connection.close()
    with connection.prepared_cursor() as cursor:
        cursor.execute("SELECT 1")
    for _ in range(10):
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::int", [7])
    assert prepared() == ["SELECT 1"]


def test_prepared_statements_off_means_django_s_cursor(settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    connection.close()
    with connection.prepared_cursor() as cursor:
        cursor.execute("SELECT %s::int", [7])
    assert prepared() == []


def test_the_prepared_cursor_translates_errors_and_logs_its_statements():
    with CaptureQueriesContext(connection) as queries, pytest.raises(DatabaseError):
        with connection.prepared_cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table WHERE id = %s", [1])
    assert [q["sql"] for q in queries.captured_queries] == ["SELECT * FROM no_such_table WHERE id = 1"]
    assert connection.is_usable()


def test_the_prepared_cursor_replaces_a_connection_the_server_ended():
    first = backend_pid()
    end_from_the_server(first)
    connection.close_if_unusable_or_obsolete()
    with connection.prepared_cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != first
