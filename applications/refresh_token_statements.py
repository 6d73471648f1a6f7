"""The token grants' hot statements on refresh tokens, compiled once per database alias, not per call.

- `refresh_token_for_update`: the row of `RefreshToken.objects.select_for_update(of=("self",))
  .select_related("user").filter(token_checksum=…).first()` (the checksum is unique);
  `refresh_token_current`: the same without the lock;
- `refresh_token_insert`: what `token.save(force_insert=True)` writes;
- `refresh_token_mark_rotated`: what `old.save(update_fields=["updated", "revoked", "successor"])` writes;
- `refresh_token_rotate_live`: the insert, then the rotation of `old` into the new row if `old` is still
  live and still its user's (a compare-and-set on `revoked IS NULL` and `user_id`), all or nothing. On
  PostgreSQL it is one statement: the UPDATE takes the successor's id from the table's sequence and the
  INSERT writes the row with it, so a refresh needs no transaction and two round trips (read, rotate)
  instead of five.

The ORM compiled these anew on every request: ~1 ms of CPU per refresh on PostgreSQL, a quarter of it.
The SQL here is built from the models' own field lists, values pass through the same `pre_save`,
preparation and converters the ORM applies, and instances come from `Model.from_db` as the ORM's do,
so a field added to either model is written and read without a change here. Model signals are not
sent: nothing listens to RefreshToken's (the directory cache listens to the models it caches only).
On PostgreSQL the statements are also prepared, once per connection (identity/postgresql/base.py).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections, router, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Field, Model
from django.db.models.expressions import Col
from django.db.transaction import TransactionManagementError

from accounts.models import User
from applications.models import RefreshToken

ROTATION_FIELDS = ("updated", "revoked", "successor")


@dataclass(frozen=True)
class _Columns:
    fields: Sequence[Field]
    attnames: list[str]
    columns: list[Col]
    converters: list[list[Callable[..., Any]]]
    pk_index: int

    @classmethod
    def of(cls, model: type[Model], connection) -> "_Columns":
        fields = list(model._meta.concrete_fields)
        columns = [field.get_col(model._meta.db_table) for field in fields]
        # The backend's converters, then the field's, as SQLCompiler.get_converters() orders them.
        converters = [connection.ops.get_db_converters(c) + c.get_db_converters(connection) for c in columns]
        pk_index = next(i for i, field in enumerate(fields) if field.primary_key)
        return cls(fields, [field.attname for field in fields], columns, converters, pk_index)

    def instance(self, model: type[Model], alias: str, connection, values: Sequence[Any]) -> Model:
        converted = []
        for value, column, converters in zip(values, self.columns, self.converters, strict=True):
            for convert in converters:
                value = convert(value, column, connection)
            converted.append(value)
        return model.from_db(alias, self.attnames, converted)


@dataclass(frozen=True)
class _Statements:
    select: str
    select_for_update: str
    token: _Columns
    user: _Columns
    mark_rotated: str
    mark_rotated_if_live: str
    rotation_fields: list[Field]
    insert: str
    insert_fields: list[Field]
    insert_returns_pk: bool
    # PostgreSQL: rotate-if-live and insert as one statement; its sequence for the successor's id
    rotate_live: str | None
    pk_sequence: str | None


_compiled: dict[str, _Statements] = {}


def _statements(alias: str) -> _Statements:
    compiled = _compiled.get(alias)
    if compiled is None:
        compiled = _compiled[alias] = _compile(connections[alias])
    return compiled


def _compile(connection) -> _Statements:
    quote = connection.ops.quote_name
    token_meta, user_meta = RefreshToken._meta, User._meta
    token, user = _Columns.of(RefreshToken, connection), _Columns.of(User, connection)
    t, u = quote(token_meta.db_table), quote(user_meta.db_table)
    columns = [f"{t}.{quote(f.column)}" for f in token.fields] + [f"{u}.{quote(f.column)}" for f in user.fields]
    join = f"{t}.{quote(token_meta.get_field('user').column)} = {u}.{quote(user_meta.pk.column)}"
    checksum, pk = quote(token_meta.get_field("token_checksum").column), quote(token_meta.pk.column)
    revoked = quote(token_meta.get_field("revoked").column)
    user_id = quote(token_meta.get_field("user").column)
    # Only quoted identifiers from the models' metadata go into the text; values are always parameters.
    # The checksum is unique: no ORDER BY ... LIMIT, which would invite the planner to walk another index.
    select = f"SELECT {', '.join(columns)} FROM {t} LEFT OUTER JOIN {u} ON {join} WHERE {t}.{checksum} = %s"  # noqa: S608
    select_for_update = select
    if connection.features.has_select_for_update:  # SQLite has none: it serialises writers anyway
        of = (t,) if connection.features.has_select_for_update_of else ()
        select_for_update += " " + connection.ops.for_update_sql(of=of)
    rotation_fields = [token_meta.get_field(name) for name in ROTATION_FIELDS]
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in rotation_fields)
    update = f"UPDATE {t} SET {assignments} WHERE {pk} = %s"  # noqa: S608
    # Still live, and still its user's: a user deleted since the read (SET_NULL) is judged under the lock.
    live = f"{revoked} IS NULL AND {user_id} = %s"
    update_if_live = f"{update} AND {live}"
    insert_fields = [f for f in token_meta.local_concrete_fields if f is not token_meta.auto_field and not f.generated]
    names, placeholders = ", ".join(quote(f.column) for f in insert_fields), ", ".join(["%s"] * len(insert_fields))
    insert = f"INSERT INTO {t} ({names}) VALUES ({placeholders})"  # noqa: S608
    returns_pk = connection.features.can_return_columns_from_insert
    if returns_pk:
        insert += " " + connection.ops.return_insert_columns([token_meta.pk])[0]
    rotate_live = pk_sequence = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [t, token_meta.pk.column])
            pk_sequence = cursor.fetchone()[0]
    if pk_sequence is not None:
        # The UPDATE returns a row only if the token was still live (after waiting for any lock on it, as
        # READ COMMITTED re-checks the condition); the INSERT writes the successor only from that row. The
        # old row points at the new one before it exists: Django's foreign keys are DEFERRABLE INITIALLY
        # DEFERRED, checked when the statement (or the caller's transaction) commits.
        successor = quote(token_meta.get_field("successor").column)
        rotation = ", ".join(
            f"{quote(f.column)} = nextval(%s)" if f.name == "successor" else f"{quote(f.column)} = %s"
            for f in rotation_fields
        )
        rotate_live = (
            f'WITH "rotated" AS (UPDATE {t} SET {rotation} WHERE {pk} = %s AND {live} '  # noqa: S608
            f'RETURNING {successor}) INSERT INTO {t} ({pk}, {names}) SELECT "rotated".{successor}, {placeholders} '
            f'FROM "rotated" RETURNING {pk}'
        )
    return _Statements(select, select_for_update, token, user, update, update_if_live, rotation_fields, insert,
                       insert_fields, returns_pk, rotate_live, pk_sequence)


def _cursor(connection) -> CursorWrapper:
    """These statements run on every refresh and sign-in: prepared where the backend can (PostgreSQL)."""
    prepared = getattr(connection, "prepared_cursor", None)
    return prepared() if prepared is not None else connection.cursor()


def _connection():
    alias = router.db_for_write(RefreshToken)
    return alias, connections[alias]


def _connection_in_transaction(name: str):
    alias, connection = _connection()
    if connection.get_autocommit():  # as the ORM's select_for_update: a lock outside a transaction is a bug
        raise TransactionManagementError(f"{name}() must run inside a transaction.")
    return alias, connection


def refresh_token_for_update(checksum: str) -> RefreshToken | None:
    """The token with this checksum, its user loaded, its row locked until the transaction ends."""
    alias, connection = _connection_in_transaction("refresh_token_for_update")
    return _read(alias, connection, _statements(alias).select_for_update, checksum)


def refresh_token_current(checksum: str) -> RefreshToken | None:
    """As refresh_token_for_update, without the lock: to be changed only by refresh_token_rotate_live."""
    alias, connection = _connection()
    return _read(alias, connection, _statements(alias).select, checksum)


def _read(alias: str, connection, statement: str, checksum: str) -> RefreshToken | None:
    statements = _statements(alias)
    with _cursor(connection) as cursor:
        cursor.execute(statement, [checksum])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(statements.token.fields)
    token = statements.token.instance(RefreshToken, alias, connection, row[:split])
    user_values = row[split:]  # NULLs when the user is gone (SET_NULL); the primary key says which
    user = None if user_values[statements.user.pk_index] is None else (
        statements.user.instance(User, alias, connection, user_values)
    )
    RefreshToken._meta.get_field("user").set_cached_value(token, user)
    return token


def refresh_token_mark_rotated(token: RefreshToken, *, revoked: datetime, successor: RefreshToken,
                               updated: datetime) -> None:
    """Record on `token` (a row this transaction has locked) when it was rotated and into which token."""
    alias, connection = _connection_in_transaction("refresh_token_mark_rotated")
    statements = _statements(alias)
    token.revoked, token.successor, token.updated = revoked, successor, updated
    with _cursor(connection) as cursor:
        cursor.execute(statements.mark_rotated, [*_rotation_params(statements, token, connection), token.pk])


def refresh_token_rotate_live(old: RefreshToken, new: RefreshToken, *, revoked: datetime,
                              updated: datetime) -> bool:
    """Insert `new` and record `old` as rotated into it, if `old` is still live in the database; else
    write nothing, leave both instances as they were and answer False. Atomic with or without a caller's
    transaction; `old` needs no lock (a concurrent rotation or revocation makes this answer False)."""
    _require_new(new, "refresh_token_rotate_live")
    alias, connection = _connection()
    statements = _statements(alias)
    before = old.revoked, old.successor_id, old.updated
    old.revoked, old.updated = revoked, updated
    rotate = _rotate_in_one if statements.rotate_live is not None else _rotate_in_two
    rotated = False
    try:
        rotated = rotate(alias, connection, statements, old, new)
    finally:
        if not rotated:  # lost the race, or a statement failed: nothing was written
            old.revoked, old.successor_id, old.updated = before
            new.pk, new._state.adding, new._state.db = None, True, None
    return rotated


def _rotate_in_one(alias: str, connection, statements: _Statements, old: RefreshToken, new: RefreshToken) -> bool:
    """PostgreSQL: one statement; the successor's id comes from the sequence, so `old` is written first."""
    rotation = [statements.pk_sequence if field.name == "successor" else field.get_db_prep_save(
        getattr(old, field.attname), connection) for field in statements.rotation_fields]
    with _cursor(connection) as cursor:
        cursor.execute(statements.rotate_live,
                       [*rotation, old.pk, old.user_id, *_insert_params(statements, new, connection)])
        row = cursor.fetchone()
    if row is None:
        return False
    new.pk, new._state.adding, new._state.db = row[0], False, alias
    old.successor = new
    return True


def _rotate_in_two(alias: str, connection, statements: _Statements, old: RefreshToken, new: RefreshToken) -> bool:
    """Backends without data-modifying CTEs (SQLite): insert, then the conditional UPDATE, in a transaction
    (a savepoint inside the caller's)."""
    with transaction.atomic(using=alias):
        refresh_token_insert(new)
        old.successor = new
        with _cursor(connection) as cursor:
            cursor.execute(statements.mark_rotated_if_live,
                           [*_rotation_params(statements, old, connection), old.pk, old.user_id])
            rotated = cursor.rowcount == 1
        if not rotated:
            transaction.set_rollback(True, using=alias)
    return rotated


def _rotation_params(statements: _Statements, token: RefreshToken, connection) -> list[Any]:
    return [field.get_db_prep_save(getattr(token, field.attname), connection) for field in statements.rotation_fields]


def _insert_params(statements: _Statements, token: RefreshToken, connection) -> list[Any]:
    return [field.get_db_prep_save(field.pre_save(token, True), connection) for field in statements.insert_fields]


def _require_new(token: RefreshToken, name: str) -> None:
    if not token._state.adding or token.pk is not None:
        raise ValueError(f"{name}() takes a new, unsaved token.")


def refresh_token_insert(token: RefreshToken) -> None:
    """Insert a new token (`_state.adding`, no primary key yet); sets its primary key as save() would."""
    _require_new(token, "refresh_token_insert")
    alias, connection = _connection()
    statements = _statements(alias)
    with _cursor(connection) as cursor:
        cursor.execute(statements.insert, _insert_params(statements, token, connection))
        if statements.insert_returns_pk:
            token.pk = cursor.fetchone()[0]
        else:
            token.pk = connection.ops.last_insert_id(cursor, RefreshToken._meta.db_table, RefreshToken._meta.pk.column)
    token._state.adding, token._state.db = False, alias
