"""The PostgreSQL backend's health check (identity/postgresql/base.py): no round trip for a healthy idle
connection, a connection the server ended is replaced before the request's first query."""

import select
import time

import psycopg
import pytest
from django.db import DatabaseError, connection, connections, transaction

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
