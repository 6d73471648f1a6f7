"""The refresh grant's precompiled statements read and write exactly what the ORM would."""

import itertools
import json
import re
import threading
import time
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.db import IntegrityError, OperationalError, connection, connections, transaction
from django.db.backends.utils import CursorWrapper
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applications.models import RefreshToken
from applications.refresh_token_statements import (
    _statements,
    refresh_token_current,
    refresh_token_for_update,
    refresh_token_insert,
    refresh_token_mark_rotated,
    refresh_token_rotate_live,
)
from applications.refresh_tokens import _checksum, _new, refresh_token_issue

pytestmark = pytest.mark.django_db


def _issue(user, native_app, policy, **extra):
    now = timezone.now()
    return refresh_token_issue(client=native_app, user=user, policy=policy, scope="openid offline_access",
                               auth_time=now - timedelta(minutes=5), now=now, **extra)


def _fields(instance) -> dict:
    return {k: v for k, v in vars(instance).items() if not k.startswith("_")}


def _orm(value: str) -> RefreshToken:
    return (RefreshToken.objects.select_for_update(of=("self",)).select_related("user")
            .filter(token_checksum=_checksum(value)).first())


def test_the_read_gives_the_orms_token_and_user_values_and_types(user, native_app, policy):
    user.display_name, user.email = "Zoë Ünicode", "zoe@example.com"
    user.save()
    value, _ = _issue(user, native_app, policy)
    with transaction.atomic():
        expected, got = _orm(value), refresh_token_for_update(_checksum(value))
    assert _fields(got) == _fields(expected)
    assert {k: type(v) for k, v in _fields(got).items()} == {k: type(v) for k, v in _fields(expected).items()}
    assert got.user is not None and _fields(got.user) == _fields(expected.user)
    assert got._state.adding is False and got._state.db == expected._state.db
    with CaptureQueriesContext(connection) as queries:
        assert got.user.username == user.username  # loaded with the token: no second query
    assert len(queries) == 0


def test_a_token_whose_user_is_gone_reads_with_no_user(user, native_app, policy):
    value, token = _issue(user, native_app, policy)
    RefreshToken.objects.filter(pk=token.pk).update(user=None)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        got = refresh_token_for_update(_checksum(value))
        assert got.pk == token.pk and got.user_id is None and got.user is None
    assert len([q for q in queries if "SELECT" in q["sql"]]) == 1


def test_an_unknown_checksum_reads_none(db):
    with transaction.atomic():
        assert refresh_token_for_update(_checksum("no such token")) is None


def test_a_checksum_is_stored_once_whatever_the_rows_state(user, native_app, policy):
    _, older = _issue(user, native_app, policy)
    RefreshToken.objects.filter(pk=older.pk).update(revoked=timezone.now())  # DOT's key allowed this much
    with pytest.raises(IntegrityError), transaction.atomic():
        RefreshToken.objects.create(
            user=user, application=native_app, policy=policy, token_checksum=older.token_checksum, scope="x",
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_the_read_goes_by_the_checksum_index_on_a_young_table(user, native_app, policy):
    """Before any ANALYZE the planner guesses an equality matches 0.5 % of the rows unless the column is
    unique on its own; with DOT's (checksum, revoked) key and ORDER BY id it read a token by walking the
    primary key backwards from the newest row, a scan of the whole young table per refresh (1 ms of
    database CPU at 5,000 rows, growing with them)."""
    RefreshToken.objects.bulk_create(
        RefreshToken(user=user, application=native_app, policy=policy, token_checksum=f"{i:064x}", scope="x")
        for i in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + _statements("default").select, [f"{1:064x}"])
        plan = json.dumps(cursor.fetchone()[0])
    assert '"Index Name": "refresh_token_checksum_unique"' in plan, plan
    assert "Backward" not in plan, plan
    # The ORM's lookups by checksum (revocation, introspection) add ORDER BY id LIMIT 1; the unique key
    # keeps them on the same index.
    orm_plan = RefreshToken.objects.filter(token_checksum=f"{1:064x}").order_by("id")[:1].explain(format="json")
    assert '"Index Name": "refresh_token_checksum_unique"' in orm_plan, orm_plan


@pytest.mark.django_db(transaction=True)  # a test's own transaction would hide the mistake
def test_both_statements_refuse_to_run_outside_a_transaction(user, native_app, policy):
    value, token = _issue(user, native_app, policy)
    _, successor = _issue(user, native_app, policy)
    with pytest.raises(TransactionManagementError):
        refresh_token_for_update(_checksum(value))
    with pytest.raises(TransactionManagementError):
        refresh_token_mark_rotated(token, revoked=timezone.now(), successor=successor, updated=timezone.now())


def test_marking_rotated_writes_those_three_fields_only(user, native_app, policy):
    value, token = _issue(user, native_app, policy)
    _, successor = _issue(user, native_app, policy)
    before = _fields(RefreshToken.objects.get(pk=token.pk))
    revoked, updated = timezone.now(), timezone.now() + timedelta(seconds=1)
    with transaction.atomic():
        locked = refresh_token_for_update(_checksum(value))
        refresh_token_mark_rotated(locked, revoked=revoked, successor=successor, updated=updated)
    assert (locked.revoked, locked.successor_id, locked.updated) == (revoked, successor.pk, updated)
    after = _fields(RefreshToken.objects.get(pk=token.pk))
    assert (after["revoked"], after["successor_id"], after["updated"]) == (revoked, successor.pk, updated)
    unchanged = {k for k in before if k not in ("revoked", "successor_id", "updated")}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert RefreshToken.objects.get(pk=successor.pk).predecessor.pk == token.pk


def test_the_insert_writes_what_save_writes(user, native_app, policy):
    now = timezone.now()
    fields = dict(user=user, application=native_app, policy=policy, scope="openid offline_access", auth_time=now,
                  created=now, expires_at=now + timedelta(days=14), token_family=uuid.uuid4())
    saved = RefreshToken(token_checksum="a" * 64, **fields)
    saved.save(force_insert=True)
    inserted = RefreshToken(token_checksum="b" * 64, **fields)
    refresh_token_insert(inserted)
    assert inserted.pk is not None and inserted.pk != saved.pk
    assert inserted._state.adding is False and inserted._state.db == saved._state.db
    assert inserted.updated is not None  # auto_now applied, as save() does
    rows = {t.pk: _fields(t) for t in RefreshToken.objects.filter(pk__in=[saved.pk, inserted.pk])}
    ignore = {"id", "token_checksum", "updated"}
    assert {k: v for k, v in rows[inserted.pk].items() if k not in ignore} == {
        k: v for k, v in rows[saved.pk].items() if k not in ignore}
    assert rows[inserted.pk]["token_checksum"] == "b" * 64


def test_the_insert_takes_only_a_new_token(user, native_app, policy):
    _, token = _issue(user, native_app, policy)
    with pytest.raises(ValueError):
        refresh_token_insert(token)


@pytest.mark.django_db(transaction=True)
def test_the_unlocked_read_gives_what_the_locked_one_gives_and_needs_no_transaction(user, native_app, policy):
    value, _ = _issue(user, native_app, policy)
    current = refresh_token_current(_checksum(value))
    with transaction.atomic():
        locked = refresh_token_for_update(_checksum(value))
    assert _fields(current) == _fields(locked) and _fields(current.user) == _fields(locked.user)
    assert refresh_token_current(_checksum("no such token")) is None


def _successor(old: RefreshToken, user, native_app, policy) -> RefreshToken:
    now = timezone.now()
    return _new(client=native_app, user=user, policy=policy, scope=old.scope, auth_time=old.auth_time, now=now,
                family=old.token_family)[1]


def _rotate_live(old, new):
    revoked, updated = timezone.now(), timezone.now() + timedelta(seconds=1)
    return refresh_token_rotate_live(old, new, revoked=revoked, updated=updated), revoked, updated


@pytest.mark.django_db(transaction=True)  # no transaction around it: the statement alone is atomic
def test_rotating_a_live_token_inserts_the_successor_and_repoints_the_old_one(user, native_app, policy):
    value, _ = _issue(user, native_app, policy)
    old = refresh_token_current(_checksum(value))
    new = _successor(old, user, native_app, policy)
    before = _fields(RefreshToken.objects.get(pk=old.pk))
    with CaptureQueriesContext(connection) as queries, mock.patch.object(
        transaction, "atomic", wraps=transaction.atomic
    ) as atomic:
        rotated, revoked, updated = _rotate_live(old, new)
    assert rotated is True
    if connection.vendor == "postgresql":  # one statement in autocommit: no transaction, no BEGIN/COMMIT
        assert len(queries) == 1 and not atomic.called and connection.get_autocommit(), [q["sql"] for q in queries]
    assert new.pk is not None and new._state.adding is False and new._state.db == old._state.db
    assert (old.revoked, old.successor_id, old.updated) == (revoked, new.pk, updated)
    after = _fields(RefreshToken.objects.get(pk=old.pk))
    assert (after["revoked"], after["successor_id"], after["updated"]) == (revoked, new.pk, updated)
    assert {k: after[k] for k in before if k not in ("revoked", "successor_id", "updated")} == {
        k: before[k] for k in before if k not in ("revoked", "successor_id", "updated")}
    # The successor's row is what save() would have written, under the id the old row points at.
    stored = RefreshToken.objects.get(pk=new.pk)
    assert {k: v for k, v in _fields(stored).items() if k != "updated"} == {
        k: v for k, v in _fields(new).items() if k != "updated"}
    assert stored.predecessor.pk == old.pk and stored.revoked is None and stored.successor_id is None


@pytest.mark.parametrize("in_transaction", [
    # Without a test transaction around it, so that the rotation's own transaction (SQLite) is the top one.
    pytest.param(False, marks=pytest.mark.django_db(transaction=True)), True,
])
@pytest.mark.parametrize("meanwhile", [{"revoked": timezone.now}, {"user": lambda: None}], ids=["revoked", "user gone"])
def test_rotating_a_token_that_is_no_longer_live_writes_nothing(user, native_app, policy, in_transaction, meanwhile):
    value, _ = _issue(user, native_app, policy)
    old = refresh_token_current(_checksum(value))  # read live ...
    RefreshToken.objects.filter(pk=old.pk).update(**{k: v() for k, v in meanwhile.items()})  # ... changed meanwhile
    new = _successor(old, user, native_app, policy)
    rows_before = RefreshToken.objects.count()
    stored_before = _fields(RefreshToken.objects.get(pk=old.pk))
    if in_transaction:
        with transaction.atomic():
            rotated, _, _ = _rotate_live(old, new)
            assert RefreshToken.objects.count() == rows_before  # the caller's transaction goes on, clean
    else:
        rotated, _, _ = _rotate_live(old, new)
    assert rotated is False
    assert RefreshToken.objects.count() == rows_before
    assert _fields(RefreshToken.objects.get(pk=old.pk)) == stored_before
    assert (old.revoked, old.successor_id, old.updated) == (None, None, stored_before["updated"])  # as they were
    assert new.pk is None and new._state.adding is True


def test_a_failed_rotation_leaves_both_instances_as_they_were(user, native_app, policy):
    value, _ = _issue(user, native_app, policy)
    old = refresh_token_current(_checksum(value))
    new = _successor(old, user, native_app, policy)
    before = (old.revoked, old.successor_id, old.updated)
    lost = OperationalError("server closed the connection unexpectedly")
    with mock.patch.object(CursorWrapper, "execute", side_effect=lost), pytest.raises(OperationalError):
        _rotate_live(old, new)
    assert (old.revoked, old.successor_id, old.updated) == before
    assert new.pk is None and new._state.adding is True


def test_rotating_takes_only_a_new_successor(user, native_app, policy):
    value, saved = _issue(user, native_app, policy)
    with pytest.raises(ValueError):
        refresh_token_rotate_live(refresh_token_current(_checksum(value)), saved, revoked=timezone.now(),
                                  updated=timezone.now())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and READ COMMITTED re-checks: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_rotation_waiting_for_a_concurrent_one_sees_the_token_rotated(user, native_app, policy):
    value, _ = _issue(user, native_app, policy)
    ours, theirs = refresh_token_current(_checksum(value)), refresh_token_current(_checksum(value))
    locked, release = threading.Event(), threading.Event()

    def concurrent_rotation():  # another worker: locks the row, rotates it, commits a moment later
        try:
            with transaction.atomic():
                refresh_token_for_update(_checksum(value))
                locked.set()
                assert _rotate_live(theirs, _successor(theirs, user, native_app, policy))[0] is True
                release.wait(10)
                time.sleep(0.3)
        finally:
            connections.close_all()

    other = threading.Thread(target=concurrent_rotation)
    other.start()
    assert locked.wait(10)
    release.set()
    rotated, _, _ = _rotate_live(ours, _successor(ours, user, native_app, policy))  # waits for their commit
    other.join(10)
    assert rotated is False
    assert RefreshToken.objects.filter(token_family=ours.token_family).count() == 2
    assert RefreshToken.objects.get(pk=ours.pk).successor_id == theirs.successor_id


def _numbered(text: str) -> str:
    """A statement as psycopg sends it to the server: %s becomes $1, $2, ..."""
    numbers = itertools.count(1)
    return re.sub("%s", lambda _: f"${next(numbers)}", text)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: identity.postgresql")
def test_the_hot_statements_are_prepared_on_postgresql(user, native_app, policy):
    value, _ = _issue(user, native_app, policy)
    token = refresh_token_current(_checksum(value))
    _, new = _new(client=native_app, user=user, policy=policy, scope=token.scope, auth_time=token.auth_time,
                  now=timezone.now(), family=token.token_family)
    assert refresh_token_rotate_live(token, new, revoked=timezone.now(), updated=timezone.now())
    statements = _statements(connection.alias)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = {row[0] for row in cursor.fetchall()}
    as_sent = {_numbered(text) for text in (statements.insert, statements.select, statements.rotate_live)}
    assert as_sent <= prepared  # the ROPC insert, and a refresh's read and rotation
