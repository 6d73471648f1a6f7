"""The refresh grant's precompiled statements read and write exactly what the ORM would."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applications.models import RefreshToken
from applications.refresh_token_statements import (
    refresh_token_for_update,
    refresh_token_insert,
    refresh_token_mark_rotated,
)
from applications.refresh_tokens import _checksum, refresh_token_issue

pytestmark = pytest.mark.django_db


def _issue(user, native_app, policy, **extra):
    now = timezone.now()
    return refresh_token_issue(client=native_app, user=user, policy=policy, scope="openid offline_access",
                               auth_time=now - timedelta(minutes=5), now=now, **extra)


def _fields(instance) -> dict:
    return {k: v for k, v in vars(instance).items() if not k.startswith("_")}


def _orm(value: str) -> RefreshToken:
    return (RefreshToken.objects.select_for_update(of=("self",)).select_related("user")
            .filter(token_checksum=_checksum(value)).order_by("-id").first())


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


def test_the_newest_row_of_a_checksum_wins(user, native_app, policy):
    _, older = _issue(user, native_app, policy)
    RefreshToken.objects.filter(pk=older.pk).update(revoked=timezone.now())  # (checksum, revoked) is unique
    newer = RefreshToken.objects.create(
        user=user, application=native_app, policy=policy, token_checksum=older.token_checksum, scope="x",
    )
    with transaction.atomic():
        assert refresh_token_for_update(older.token_checksum).pk == newer.pk


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
