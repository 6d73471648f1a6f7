"""Sign-in events written in batches, off the token request's path (audit/sign_in_buffer.py).

Most tests use a fresh `SignInEventBuffer` whose writer thread is taken as already running (the `buffer`
fixture), so that only the test flushes it; the tests of the thread itself start a real one, with a real
short interval, and stop it before they end.
"""

import logging
import os
import re
import threading

import pytest
from django.db import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
)
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services as accounts
from audit import receivers
from audit import sign_in_buffer as module
from audit.models import SignInEvent
from audit.sign_in_buffer import SignInEventBuffer, SignInRecord
from audit.unknown_names import hide_sign_in_name, is_hidden
from identity.keys.services import signing_key_rotate
from tests.conftest import ACTOR
from tests.flows import test_client_credentials as cc_flows
from tests.flows.token_helpers import assert_error, post_token, sign_in

pytestmark = pytest.mark.django_db

cc = cc_flows.cc  # the client-credentials fixture of tests/flows: key, policy, API, consented daemon
cc_data = cc_flows.cc_data

INTERVAL = 60.0  # long enough that no timer fires during a test
real_write = module._write


@pytest.fixture
def buffer(settings):
    """A fresh buffer with a positive interval whose writer thread counts as started: only the test flushes."""
    settings.SIGN_IN_EVENTS_FLUSH_SECONDS = INTERVAL
    fresh = SignInEventBuffer()
    fresh._owner_pid = os.getpid()
    return fresh


def event(name: str = "alice", **fields) -> SignInRecord:
    values = {"created_at": timezone.now(), "sign_in_name": name, "client_id": "c0ffee", "policy_id": "B2C_1_ROPC_Auth",
              "grant_type": "password", "succeeded": True}
    return SignInRecord(**(values | fields))


def written() -> list[str]:
    """The sign-in names written, in order. The tests' names (e0, e1, …) belong to no user, so the writer
    stores them hidden (audit.unknown_names); shown here as the names the test gave."""
    given = {hide_sign_in_name(name): name for name in [*(f"e{i}" for i in range(10)), "now", "last"]}
    return [given.get(name, name) for name in SignInEvent.objects.order_by("id").values_list("sign_in_name", flat=True)]


def inserts(ctx: CaptureQueriesContext) -> list[str]:
    """The statements that wrote rows: INSERTs (Django logs an executemany as "N times: INSERT ..."), and
    the COPY a batch is written with on PostgreSQL."""
    statements = (re.sub(r"^\d+ times: ", "", q["sql"].lstrip()) for q in ctx.captured_queries)
    return [sql for sql in statements if sql.upper().startswith(("INSERT", "COPY"))]


# --- batching -----------------------------------------------------------------------------------------


def test_with_a_positive_interval_add_writes_nothing_and_flush_writes_the_batch_in_one_insert(buffer):
    with CaptureQueriesContext(connection) as during_requests:
        for name in ("e0", "e1", "e2"):
            buffer.add(event(name))
    assert len(during_requests) == 0
    assert buffer.pending() == 3
    assert written() == []
    with CaptureQueriesContext(connection) as flushing:
        assert buffer.flush() == 3
    assert len(inserts(flushing)) == 1 and "audit_signinevent" in inserts(flushing)[0], inserts(flushing)
    assert written() == ["e0", "e1", "e2"]
    assert buffer.pending() == 0
    assert buffer.flush() == 0  # nothing left: nothing written twice


def test_an_empty_flush_touches_no_database(buffer):
    with CaptureQueriesContext(connection) as ctx:
        assert buffer.flush() == 0
    assert len(ctx) == 0


def test_with_no_interval_each_event_is_written_at_once_and_no_thread_starts(settings):
    settings.SIGN_IN_EVENTS_FLUSH_SECONDS = 0
    fresh = SignInEventBuffer()
    threads = threading.active_count()
    fresh.add(event("now"))
    assert written() == ["now"]
    assert fresh.pending() == 0
    assert threading.active_count() == threads


# --- the database away --------------------------------------------------------------------------------


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_database_error_puts_the_batch_back_and_a_later_flush_writes_it(buffer, monkeypatch, caplog, error):
    for name in ("e0", "e1", "e2"):
        buffer.add(event(name))

    def unreachable(events):
        buffer.add(event("e3"))  # a request meanwhile
        raise error("server closed the connection unexpectedly")

    monkeypatch.setattr(module, "_write", unreachable)
    with caplog.at_level(logging.ERROR, logger=module.__name__):
        assert buffer.flush() == 0
    assert "could not write 3 sign-in events; will retry" in caplog.text
    assert buffer.pending() == 4
    assert written() == []

    monkeypatch.setattr(module, "_write", real_write)
    assert buffer.flush() == 4
    assert written() == ["e0", "e1", "e2", "e3"]  # the put-back batch first, in its order
    assert buffer.pending() == 0


def test_events_put_back_past_max_pending_drop_the_oldest_and_are_counted(buffer, monkeypatch, caplog):
    monkeypatch.setattr(module, "MAX_PENDING", 3)
    for name in ("e0", "e1", "e2"):
        buffer.add(event(name))

    def unreachable(events):
        buffer.add(event("e3"))
        buffer.add(event("e4"))
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(module, "_write", unreachable)
    assert buffer.flush() == 0
    assert buffer.pending() == 3 and buffer.dropped == 2

    monkeypatch.setattr(module, "_write", real_write)
    with caplog.at_level(logging.ERROR, logger=module.__name__):
        assert buffer.flush() == 3
    assert "dropped 2 sign-in events while the database was unavailable" in caplog.text
    assert written() == ["e2", "e3", "e4"]


# --- one event refused --------------------------------------------------------------------------------


@pytest.mark.parametrize("error", [DataError, IntegrityError, ValueError])
def test_an_event_the_database_refuses_does_not_hold_back_the_others(buffer, monkeypatch, caplog, error):
    calls = []

    def refuses_one(events):
        calls.append([e.sign_in_name for e in events])
        if any(e.sign_in_name == "refused" for e in events):
            raise error("value too long for type character varying(64)")
        real_write(events)

    monkeypatch.setattr(module, "_write", refuses_one)
    for name in ("e0", "refused", "e2", "e3"):
        buffer.add(event(name))
    with caplog.at_level(logging.ERROR, logger=module.__name__):
        assert buffer.flush() == 3
    assert written() == ["e0", "e2", "e3"]
    assert buffer.pending() == 0  # the refused one is not retried forever
    assert calls[0] == ["e0", "refused", "e2", "e3"]  # the batch first, then one by one
    assert calls[1:] == [["e0"], ["refused"], ["e2"], ["e3"]]
    assert "dropped a sign-in event the database refused (password)" in caplog.text


def test_the_database_going_away_while_writing_one_by_one_puts_back_the_rest(buffer, monkeypatch):
    state = {"down": False}

    def refuses_one_then_goes_away(events):
        names = [e.sign_in_name for e in events]
        if state["down"]:
            raise OperationalError("terminating connection due to administrator command")
        if "refused" in names:
            state["down"] = len(names) == 1  # the database goes away right after refusing it alone
            raise IntegrityError("insert or update violates foreign key constraint")
        real_write(events)

    monkeypatch.setattr(module, "_write", refuses_one_then_goes_away)
    for name in ("e0", "refused", "e2", "e3"):
        buffer.add(event(name))
    assert buffer.flush() == 1  # e0 alone; the refused one dropped; then the database was gone
    assert written() == ["e0"]
    assert buffer.pending() == 2
    monkeypatch.setattr(module, "_write", real_write)
    assert buffer.flush() == 2
    assert written() == ["e0", "e2", "e3"]


def test_a_really_refused_event_is_dropped_and_the_others_written(buffer, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite does not enforce varchar lengths: nothing to refuse; the patched tests cover the logic")
    for name in ("e0", "e1"):
        buffer.add(event(name))
    buffer.add(event("toolong", grant_type="x" * 65))  # varchar(64)
    buffer.add(event("e3"))
    assert buffer.flush() == 3
    assert written() == ["e0", "e1", "e3"]
    assert SignInEvent.objects.count() == 3  # the test's transaction is still usable


# --- MAX_PENDING ----------------------------------------------------------------------------------------


def test_past_max_pending_the_oldest_go_first_and_the_next_flush_logs_how_many(buffer, monkeypatch, caplog):
    monkeypatch.setattr(module, "MAX_PENDING", 3)
    for name in ("e0", "e1", "e2", "e3", "e4"):
        buffer.add(event(name))
    assert buffer.pending() == 3 and buffer.dropped == 2
    with caplog.at_level(logging.ERROR, logger=module.__name__):
        assert buffer.flush() == 3
    assert [r.getMessage() for r in caplog.records] == [
        "dropped 2 sign-in events while the database was unavailable"
    ]
    assert written() == ["e2", "e3", "e4"]
    assert buffer.dropped == 0
    caplog.clear()
    buffer.add(event("e5"))
    assert buffer.flush() == 1
    assert "dropped" not in caplog.text  # counted once


def test_a_full_batch_wakes_the_writer_before_its_timer(buffer, monkeypatch):
    monkeypatch.setattr(module, "BATCH", 3)
    buffer.add(event("e0"))
    buffer.add(event("e1"))
    assert not buffer._wake.is_set()
    buffer.add(event("e2"))
    assert buffer._wake.is_set()


# --- shutdown -----------------------------------------------------------------------------------------


def test_at_exit_what_waits_is_written(buffer, monkeypatch):
    monkeypatch.setattr(module, "sign_in_events", buffer)
    buffer.add(event("last"))
    module._flush_at_exit()
    assert written() == ["last"]


def test_at_exit_a_forked_child_leaves_its_parents_events_to_the_parent(buffer, monkeypatch):
    monkeypatch.setattr(module, "sign_in_events", buffer)
    buffer.add(event("parent's"))
    buffer._owner_pid = os.getpid() + 1  # the events belong to another process's writer
    module._flush_at_exit()
    assert written() == []


# --- the writer thread ------------------------------------------------------------------------------------


class _ParkedWriter:
    """Stands in for a buffer's wake event: the writer thread's next wait closes its database connection and
    blocks for good. (The writer has no stop of its own, and with the interval back at 0 it would spin.)"""

    def __init__(self) -> None:
        self.parked = threading.Event()

    def wait(self, timeout=None):
        connections.close_all()
        self.parked.set()
        threading.Event().wait()

    def clear(self) -> None:
        pass

    def set(self) -> None:
        pass


def park_writer(buffer: SignInEventBuffer) -> None:
    parked = _ParkedWriter()
    wake, buffer._wake = buffer._wake, parked
    wake.set()
    assert parked.parked.wait(timeout=10), "the writer thread did not come back to its wait"


def writer_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "sign-in-events"}


def events_written(monkeypatch, count: int) -> threading.Event:
    """Set once `count` events are in the database. The tests read the table only then: on the in-memory
    SQLite test database a read during the writer thread's INSERT takes the shared-cache table lock and
    fails the write, which is retried only at the next interval (polling the table made these tests flaky
    under load)."""
    done = threading.Event()
    total = 0

    def write(batch):
        nonlocal total
        real_write(batch)
        total += len(batch)
        if total >= count:
            done.set()

    monkeypatch.setattr(module, "_write", write)
    return done


@pytest.mark.django_db(transaction=True)
def test_the_writer_thread_writes_within_about_the_interval(settings, monkeypatch):
    settings.SIGN_IN_EVENTS_FLUSH_SECONDS = 0.2
    written_both = events_written(monkeypatch, 2)
    fresh = SignInEventBuffer()
    before = writer_threads()
    fresh.add(event("e0"))
    fresh.add(event("e1"))
    assert len(writer_threads() - before) == 1
    try:
        assert written_both.wait(timeout=5)  # a bound, not a measurement
        assert written() == ["e0", "e1"]
        assert fresh.pending() == 0
    finally:
        park_writer(fresh)


@pytest.mark.django_db(transaction=True)
def test_a_full_batch_is_written_long_before_the_interval(settings, monkeypatch):
    settings.SIGN_IN_EVENTS_FLUSH_SECONDS = INTERVAL
    monkeypatch.setattr(module, "BATCH", 3)
    written_batch = events_written(monkeypatch, 3)
    fresh = SignInEventBuffer()
    before = writer_threads()
    for name in ("e0", "e1", "e2"):
        fresh.add(event(name))
    assert len(writer_threads() - before) == 1
    try:
        assert written_batch.wait(timeout=5)  # the interval is a minute: only the full batch can wake it
        assert written() == ["e0", "e1", "e2"]
    finally:
        park_writer(fresh)


# --- naming the user ---------------------------------------------------------------------------------


def selects(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]


def test_the_writer_names_the_account_a_refused_attempts_sign_in_name_belongs_to_in_one_query(buffer, user):
    for name in ("ALICE", "alice@contoso.test", "nobody", " Alice "):
        buffer.add(event(name, succeeded=False, error="invalid_grant", result_code="AADB2C90114"))
    with CaptureQueriesContext(connection) as ctx:
        assert buffer.flush() == 4
    assert len(selects(ctx)) == 1
    named = dict(SignInEvent.objects.values_list("sign_in_name", "user_id"))
    assert named == {"ALICE": user.pk, "alice@contoso.test": user.pk, hide_sign_in_name("nobody"): None,
                     " Alice ": user.pk}


def test_a_name_that_matches_no_user_is_stored_only_as_its_keyed_hash_grouping_its_attempts(buffer, user):
    """It may be a mistyped password: what was typed is never stored, yet attempts on it still group."""
    for name in ("Hunter2-secret", " hunter2-SECRET", "other-typo"):
        buffer.add(event(name, succeeded=False, error="invalid_grant", result_code="AADB2C90225"))
    assert buffer.flush() == 3
    stored = list(SignInEvent.objects.order_by("id").values_list("sign_in_name", flat=True))
    assert all(is_hidden(name) for name in stored) and stored[0] == stored[1] != stored[2]
    assert not SignInEvent.objects.filter(sign_in_name__icontains="hunter2").exists()
    assert not SignInEvent.objects.filter(failure_reason__icontains="hunter2").exists()


def test_a_batch_put_back_after_an_outage_is_hashed_once(buffer, monkeypatch):
    buffer.add(event("typo", succeeded=False, error="invalid_grant"))

    def named_then_unreachable(events):
        module._name_users(events)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(module, "_write", named_then_unreachable)
    assert buffer.flush() == 0 and buffer.pending() == 1
    monkeypatch.setattr(module, "_write", real_write)
    assert buffer.flush() == 1
    assert SignInEvent.objects.get().sign_in_name == hide_sign_in_name("typo")


def test_a_lookup_that_fails_leaves_the_batch_to_be_named_at_the_next_flush(buffer, user, monkeypatch):
    buffer.add(event("alice", succeeded=False, error="invalid_grant"))
    buffer.add(event("typo", succeeded=False, error="invalid_grant"))

    def lookup_unreachable(names, **kind):
        raise OperationalError("server closed the connection unexpectedly")

    real_owners = module._owners
    monkeypatch.setattr(module, "_owners", lookup_unreachable)
    assert buffer.flush() == 0 and buffer.pending() == 2
    monkeypatch.setattr(module, "_owners", real_owners)
    assert buffer.flush() == 2
    assert list(SignInEvent.objects.order_by("id").values_list("sign_in_name", "user_id")) == [
        ("alice", user.pk), (hide_sign_in_name("typo"), None)]


def test_a_refused_attempt_is_never_put_on_an_admin_account_of_the_same_name(buffer, user):
    from accounts.admin_accounts import admin_account_create

    admin = admin_account_create(actor="tests", username="alice", email="alice@contoso.test",
                                 password="Admin-Pass-123!")
    for name in ("alice", "alice@contoso.test"):
        buffer.add(event(name, succeeded=False, error="invalid_grant", result_code="AADB2C90225"))
    assert buffer.flush() == 2
    assert set(SignInEvent.objects.values_list("user_id", flat=True)) == {user.pk} != {admin.pk}


def test_events_that_name_their_user_or_no_name_cost_the_writer_no_lookup(buffer, user):
    buffer.add(event("alice", user_id=user.pk))
    buffer.add(event("", grant_type="client_credentials"))
    with CaptureQueriesContext(connection) as ctx:
        assert buffer.flush() == 2
    assert selects(ctx) == []
    assert list(SignInEvent.objects.order_by("id").values_list("user_id", flat=True)) == [user.pk, None]


@pytest.mark.parametrize("count", [1, 3], ids=["alone (one INSERT)", "in a batch (COPY on PostgreSQL)"])
def test_the_failure_reason_is_written_with_the_event(buffer, count):
    for i in range(count):
        buffer.add(event(f"e{i}", succeeded=False, error="invalid_grant", failure_reason=f"Reason {i}."))
    assert buffer.flush() == count
    assert list(SignInEvent.objects.order_by("id").values_list("failure_reason", flat=True)) == [
        f"Reason {i}." for i in range(count)]


# --- over HTTP ------------------------------------------------------------------------------------------


@pytest.fixture
def recorder(buffer, monkeypatch):
    """The buffer the token endpoint's receiver adds to."""
    monkeypatch.setattr(receivers, "sign_in_events", buffer)
    return buffer


def test_a_token_request_leaves_no_event_row_until_the_flush_then_exactly_one(client, cc, recorder):
    response = post_token(client, cc_data(cc))
    assert response.status_code == 200, response.content
    assert SignInEvent.objects.count() == 0
    assert recorder.pending() == 1
    assert recorder.flush() == 1
    event_row = SignInEvent.objects.get()
    assert event_row.grant_type == "client_credentials"
    assert event_row.client_id == cc.daemon.client_id
    assert event_row.policy_id == cc.policy.policy_id
    assert event_row.succeeded is True and event_row.error == ""


def test_a_refused_token_request_is_recorded_at_the_flush_as_a_failure(client, cc, recorder):
    assert_error(post_token(client, cc_data(cc, client_secret="wrong")), 401, "invalid_client")
    assert SignInEvent.objects.count() == 0
    assert recorder.flush() == 1
    event_row = SignInEvent.objects.get()
    assert event_row.grant_type == "client_credentials"
    assert event_row.client_id == cc.daemon.client_id
    assert event_row.succeeded is False
    assert event_row.error == "invalid_client" and event_row.result_code == "AADB2C90081"


def test_a_warm_client_credentials_token_request_costs_no_query_at_all(client, cc, recorder, settings):
    settings.DIRECTORY_CACHE_SECONDS = 3600  # the directory cache's window does not end during the test
    assert post_token(client, cc_data(cc)).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        response = post_token(client, cc_data(cc))
    assert response.status_code == 200, response.content
    assert [q["sql"] for q in ctx.captured_queries] == []
    assert recorder.flush() == 2


@pytest.mark.django_db(transaction=True)  # the user foreign key is checked when the flush commits
def test_a_sign_in_whose_user_is_deleted_before_the_flush_is_still_recorded(client, user, policy, native_app,
                                                                              recorder):
    signing_key_rotate(actor=ACTOR)
    sign_in(client, native_app)
    assert recorder.pending() == 1
    # An admin deletes the user within the flush interval. Written in the request, the event would have
    # outlived the user with its user emptied (on_delete=SET_NULL); it must not be lost for being late.
    accounts.user_delete(user=user, actor=ACTOR)
    assert recorder.flush() == 1
    row = SignInEvent.objects.get()
    assert (row.grant_type, row.sign_in_name, row.succeeded, row.user_id) == ("password", "alice", True, None)


def test_admin_sign_ins_are_named_after_admin_accounts_and_unknown_admin_names_are_hidden(buffer, user):
    from accounts.admin_accounts import admin_account_create

    admin = admin_account_create(actor="tests", username="alice", password="Admin-Pass-123!")
    for name in ("alice", "nobody-admin"):
        buffer.add(event(name, grant_type=module.ADMIN_GRANT_TYPE, client_id="", succeeded=False,
                         error="invalid_grant", result_code="AADSTS50053"))
    assert buffer.flush() == 2
    assert list(SignInEvent.objects.order_by("id").values_list("sign_in_name", "user_id")) == [
        ("alice", admin.pk), (hide_sign_in_name("nobody-admin"), None)]
