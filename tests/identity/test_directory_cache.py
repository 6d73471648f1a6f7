"""The per-process directory cache (identity/directory_cache.py): what the token endpoint reads, and how stale.

Time is a fake monotonic clock (the `clock` fixture): nothing here waits. "Another process" is simulated by
changing rows without signals (a queryset `.update()`, a raw DELETE, `bulk_create`) and writing a new stamp,
which is all another process's write leaves in the database for this one to see; or by pointing
`directory_changed` at another DirectoryCache (that process's), so that a real service write clears only it.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from unittest.mock import patch

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applications import services as applications
from applications.client_auth import client_secret_matches
from applications.models import Application, ClientSecret, ConsentGrant
from applications.selectors import (
    api_find_cached,
    application_find_cached,
    delegated_scope_find_cached,
    roles_consented,
    roles_consented_cached,
)
from identity import directory_cache
from identity.directory_cache import MAX_AGE_SECONDS, DirectoryCache, DirectoryStamp, directory
from identity.keys import crypto
from identity.keys import selectors as key_selectors
from identity.keys.models import SigningKey
from identity.keys.selectors import active_signing_key, jwks
from identity.keys.services import signing_key_rotate
from policies import services as policies
from policies.models import Policy
from policies.selectors import policy_find_cached
from tests.conftest import ACTOR
from tests.flows import test_client_credentials as cc_flows
from tests.flows.token_helpers import assert_error, post_token

pytestmark = pytest.mark.django_db

# The staleness window the tests run with (settings.DIRECTORY_CACHE_SECONDS).
WINDOW = 5.0

cc = cc_flows.cc  # the client-credentials fixture of tests/flows: key, policy, API, consented daemon
cc_data = cc_flows.cc_data


class FakeClock:
    """time.monotonic for identity.directory_cache, moved only by the test."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch, settings):
    import time

    settings.DIRECTORY_CACHE_SECONDS = WINDOW
    fake = FakeClock(time.monotonic())
    monkeypatch.setattr(directory_cache, "time", SimpleNamespace(monotonic=fake))
    return fake


@pytest.fixture
def world(db, policy, api_app, daemon_app):
    """Everything the cached selectors read: a signing key, the ROPC policy, an API with app roles and a
    delegated scope, a daemon with a secret and admin consent to both roles."""
    key = signing_key_rotate(actor=ACTOR)
    secret_row, secret = applications.client_secret_add(application=daemon_app, actor=ACTOR, description="first")
    applications.permission_add(client=daemon_app, api=api_app, values=["app.read", "app.write"], actor=ACTOR)
    applications.admin_consent_grant(client=daemon_app, actor=ACTOR)
    scope = applications.delegated_scope_add(application=api_app, actor=ACTOR, value="tasks.read")
    return SimpleNamespace(key=key, policy=policy, api=api_app, daemon=daemon_app, secret=secret,
                           secret_row=secret_row, scope=scope)


@pytest.fixture
def settled_keys(monkeypatch):
    """Signing looks an hour ahead: past the settle time after a rotation (a new key signs only once
    every process can be publishing it; tested in tests/identity/test_signing_keys.py)."""
    later = timezone.now() + timedelta(hours=1)
    monkeypatch.setattr(key_selectors, "timezone", SimpleNamespace(now=lambda: later))


# --- helpers: what another process leaves behind ------------------------------------------------------


def current_stamp() -> str:
    return DirectoryStamp.objects.filter(pk=1).values_list("stamp", flat=True).first() or ""


def restamp() -> str:
    """Another process's write: a new stamp in the one row (its own cache it clears itself)."""
    stamp = uuid.uuid4().hex
    DirectoryStamp.objects.update_or_create(pk=1, defaults={"stamp": stamp})
    return stamp


def delete_behind_signals(queryset) -> None:
    """Delete rows without post_delete signals (a queryset .delete() sends them), as another process's
    delete looks from here."""
    pks = list(queryset.values_list("pk", flat=True))
    assert pks, "nothing to delete"
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    placeholders = ", ".join(["%s"] * len(pks))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id IN ({placeholders})", pks)  # noqa: S608 (our own names)


def rotate_key_behind_signals() -> str:
    """A key rotation as another process's looks from here: no post_save in this process. Returns the new kid."""
    private = crypto.generate_rsa_private_key()
    kid, public_jwk = crypto.public_jwk_for(private)
    now = timezone.now()
    SigningKey.objects.filter(active=True).update(active=False, retired_at=now,
                                                  published_until=now + timedelta(days=1))
    SigningKey.objects.bulk_create([SigningKey(
        kid=kid, key_size=crypto.RSA_KEY_SIZE, public_jwk=public_jwk, active=True, created_at=now,
        private_key_encrypted=crypto.encrypt_private_pem(crypto.private_key_to_pem(private)),
    )])
    return kid


def stamp_reads(ctx: CaptureQueriesContext) -> int:
    return sum(DirectoryStamp._meta.db_table in q["sql"] for q in ctx.captured_queries)


def sql(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries]


# --- cost ---------------------------------------------------------------------------------------------

# Each cached read, with the queries its load costs.
LOOKUPS = {
    "application": (lambda w: application_find_cached(w.daemon.client_id), 1),
    "api by App ID URI": (lambda w: api_find_cached(w.api.app_id_uri.upper()), 1),
    "api by client id": (lambda w: api_find_cached(w.api.client_id), 1),
    "consented roles": (lambda w: roles_consented_cached(client=w.daemon, api=w.api), 1),
    "delegated scope": (lambda w: delegated_scope_find_cached(w.api.app_id_uri, "tasks.read"), 1),
    "secret digests": (lambda w: client_secret_matches(application=w.daemon, secret=w.secret), 1),
    "policy with its output claims": (lambda w: policy_find_cached(w.policy.policy_id.lower()), 2),
    "active signing key": (lambda w: active_signing_key(), 2),  # the active key and the one it replaced
    "jwks": (lambda w: jwks(), 1),
}


@pytest.mark.parametrize(("lookup", "load_queries"), LOOKUPS.values(), ids=LOOKUPS.keys())
def test_the_first_lookup_costs_its_load_and_one_stamp_read_and_the_next_in_the_window_none(
    world, clock, lookup, load_queries
):
    with CaptureQueriesContext(connection) as first:
        value = lookup(world)
    assert value, "the lookup found what the fixture made"
    assert stamp_reads(first) == 1, sql(first)
    assert len(first) == load_queries + 1, sql(first)
    clock.advance(WINDOW - 0.001)
    with CaptureQueriesContext(connection) as second:
        again = lookup(world)
    assert len(second) == 0, sql(second)
    assert again == value


def test_cached_objects_are_shared_not_reloaded(world, clock):
    app = application_find_cached(world.daemon.client_id)
    assert application_find_cached(world.daemon.client_id.upper()) is app  # one entry, any case
    policy = policy_find_cached(world.policy.policy_id)
    with CaptureQueriesContext(connection) as ctx:
        assert policy_find_cached(world.policy.policy_id.upper()) is policy
        assert sorted(c.claim_type for c in policy.output_claims.all()) == sorted(
            c.claim_type for c in Policy.objects.get(pk=policy.pk).output_claims.all()
        )
    # The prefetched claims come with the cached policy; only the comparison's own read hits the database.
    assert len(ctx) == 2, sql(ctx)


def test_within_the_window_another_key_costs_only_its_load(world, clock):
    application_find_cached(world.daemon.client_id)
    clock.advance(1)
    with CaptureQueriesContext(connection) as ctx:
        assert roles_consented_cached(client=world.daemon, api=world.api) == ["app.read", "app.write"]
    assert stamp_reads(ctx) == 0 and len(ctx) == 1, sql(ctx)


def test_after_the_window_a_lookup_reads_the_stamp_once_and_keeps_its_entries_when_it_is_unchanged(world, clock):
    application_find_cached(world.daemon.client_id)
    clock.advance(WINDOW)
    with CaptureQueriesContext(connection) as ctx:
        application_find_cached(world.daemon.client_id)
        application_find_cached(world.daemon.client_id)
    assert stamp_reads(ctx) == 1 and len(ctx) == 1, sql(ctx)


def test_a_warm_client_credentials_token_reads_nothing_from_the_directory(client, cc, clock):
    assert post_token(client, cc_data(cc)).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        response = post_token(client, cc_data(cc))
    assert response.status_code == 200, response.content
    # Tests write sign-in events in the request (SIGN_IN_EVENTS_FLUSH_SECONDS = 0): that insert is all.
    reads = [q for q in sql(ctx) if not q.lstrip().upper().startswith(("INSERT", "SAVEPOINT", "RELEASE"))]
    assert reads == []


# --- another process changed the directory ------------------------------------------------------------


@dataclass(frozen=True)
class RemoteChange:
    observe: object  # (world) -> what the token endpoint would see
    change: object  # (world) -> the value the change makes `observe` return, once seen


def _remove_secrets_elsewhere(w) -> bool:
    delete_behind_signals(ClientSecret.objects.filter(application=w.daemon))
    return False


def _disable_app_elsewhere(w) -> bool:
    Application.objects.filter(pk=w.daemon.pk).update(enabled=False)
    return False


def _withdraw_consent_elsewhere(w) -> list:
    delete_behind_signals(ConsentGrant.objects.filter(client=w.daemon, user__isnull=True))
    return []


REMOTE_CHANGES = {
    "secret removed": RemoteChange(
        observe=lambda w: client_secret_matches(application=w.daemon, secret=w.secret),
        change=_remove_secrets_elsewhere,
    ),
    "app disabled": RemoteChange(
        observe=lambda w: application_find_cached(w.daemon.client_id).enabled,
        change=_disable_app_elsewhere,
    ),
    "consent withdrawn": RemoteChange(
        observe=lambda w: roles_consented_cached(client=w.daemon, api=w.api),
        change=_withdraw_consent_elsewhere,
    ),
    "signing key rotated": RemoteChange(
        observe=lambda w: active_signing_key()[0],
        change=lambda w: rotate_key_behind_signals(),
    ),
}


@pytest.mark.parametrize("remote", REMOTE_CHANGES.values(), ids=REMOTE_CHANGES.keys())
def test_another_process_change_is_served_stale_inside_the_window_and_fresh_once_it_ends(
    world, clock, remote, settled_keys
):
    before = remote.observe(world)
    after = remote.change(world)
    assert after != before
    restamp()
    clock.advance(WINDOW - 0.001)
    assert remote.observe(world) == before  # the bounded staleness: inside the window, the cached value
    clock.advance(0.001)
    assert remote.observe(world) == after  # DIRECTORY_CACHE_SECONDS after the last look, the new one


def test_a_rotated_key_reaches_the_jwks_once_the_window_ends(world, clock, settled_keys):
    old = [k["kid"] for k in jwks()["keys"]]
    new_kid = rotate_key_behind_signals()
    restamp()
    assert [k["kid"] for k in jwks()["keys"]] == old
    clock.advance(WINDOW)
    assert [k["kid"] for k in jwks()["keys"]] == [new_kid, *old]
    assert active_signing_key()[0] == new_kid


def test_a_service_write_in_another_process_reaches_this_one_within_the_window(world, clock, monkeypatch):
    assert client_secret_matches(application=world.daemon, secret=world.secret)
    stamp = current_stamp()
    # The write runs in "another process": its receivers clear that process's cache, not this one's.
    monkeypatch.setattr(directory_cache, "directory", DirectoryCache())
    applications.client_secret_remove(secret=world.secret_row, actor=ACTOR)
    assert current_stamp() != stamp
    assert client_secret_matches(application=world.daemon, secret=world.secret)  # still inside the window
    clock.advance(WINDOW)
    assert not client_secret_matches(application=world.daemon, secret=world.secret)


def test_a_change_without_a_new_stamp_is_not_seen_when_the_window_ends(world, clock):
    assert application_find_cached(world.daemon.client_id).enabled
    Application.objects.filter(pk=world.daemon.pk).update(enabled=False)  # SQL behind the ORM's back: no stamp
    clock.advance(WINDOW)
    assert application_find_cached(world.daemon.client_id).enabled


# --- writes through the services: stamped, and at once in this process -------------------------------


def _secret_matches(w) -> bool:
    return client_secret_matches(application=w.daemon, secret=w.secret)


def _remove_secret(w) -> bool:
    applications.client_secret_remove(secret=w.secret_row, actor=ACTOR)
    return False


def _observe_new_secret(w) -> bool:
    # Before the change, a secret that does not exist yet; after it, the one _add_secret made.
    return client_secret_matches(application=w.daemon, secret=getattr(w, "secret_new", "not-yet-a-secret"))


def _add_secret_named(w) -> bool:
    w.secret_new = applications.client_secret_add(application=w.daemon, actor=ACTOR, description="second")[1]
    return True


def _roles(w) -> list[str]:
    return roles_consented_cached(client=w.daemon, api=w.api)


def _revoke_consent(w) -> list[str]:
    applications.admin_consent_revoke(client=w.daemon, actor=ACTOR)
    return []


def _grant_a_new_role(w) -> list[str]:
    applications.app_role_add(application=w.api, actor=ACTOR, value="app.admin", display_name="Admin")
    applications.permission_add(client=w.daemon, api=w.api, values=["app.admin"], actor=ACTOR)
    applications.admin_consent_grant(client=w.daemon, actor=ACTOR)
    return ["app.admin", "app.read", "app.write"]


def _app_enabled(w) -> bool | None:
    app = application_find_cached(w.daemon.client_id)
    return None if app is None else app.enabled


def _disable(pk: int) -> None:
    app = Application.objects.get(pk=pk)
    app.enabled = False
    applications.application_update(application=app, changed=["enabled"], actor=ACTOR)


def _disable_app(w) -> bool:
    _disable(w.daemon.pk)
    return False


def _delete_app(w) -> None:
    applications.application_delete(application=Application.objects.get(pk=w.daemon.pk), actor=ACTOR)
    return None


def _api(w) -> str | None:
    api = api_find_cached(w.api.app_id_uri)
    return None if api is None else api.client_id


def _disable_api(w) -> None:
    _disable(w.api.pk)
    return None


def _scope(w) -> str | None:
    scope = delegated_scope_find_cached(w.api.app_id_uri, "tasks.read")
    return None if scope is None else scope.value


def _disable_scope(w) -> None:
    w.scope.is_enabled = False
    w.scope.save()  # the admin's inline edit
    applications.application_record_edit(application=w.api, changed=["scopes"], actor=ACTOR)
    return None


def _active_kid(w) -> str:
    return active_signing_key()[0]


def _rotate_key(w) -> str:
    return signing_key_rotate(actor=ACTOR).kid


def _policy(w) -> tuple:
    policy = policy_find_cached(w.policy.policy_id)
    claims = sorted(c.claim_type for c in policy.output_claims.all())
    return policy.enabled, policy.access_token_lifetime_minutes, claims


def _update_policy(w) -> tuple:
    policies.policy_create_or_update(actor=ACTOR, policy_id=w.policy.policy_id, enabled=False,
                                     access_token_lifetime_minutes=7, output_claims=["objectId"])
    return False, 7, ["objectId"]


SERVICE_WRITES = {
    "client_secret_remove": (_secret_matches, _remove_secret),
    "client_secret_add": (_observe_new_secret, _add_secret_named),
    "admin_consent_revoke": (_roles, _revoke_consent),
    "admin_consent_grant of a new role": (_roles, _grant_a_new_role),
    "application_update disables the client": (_app_enabled, _disable_app),
    "application_update disables the api": (_api, _disable_api),
    "application_delete": (_app_enabled, _delete_app),
    "delegated scope disabled in the admin": (_scope, _disable_scope),
    "signing_key_rotate": (_active_kid, _rotate_key),
    "policy_create_or_update": (_policy, _update_policy),
}


@pytest.mark.parametrize(("observe", "write"), SERVICE_WRITES.values(), ids=SERVICE_WRITES.keys())
def test_a_service_write_stamps_the_directory_and_takes_effect_at_once_in_this_process(
    world, clock, observe, write, settled_keys
):
    before = observe(world)
    assert observe(world) == before  # now cached
    stamp = current_stamp()
    expected = write(world)
    assert expected != before
    assert current_stamp() not in ("", stamp)
    assert observe(world) == expected  # the clock has not moved: only this process's own clear can explain it


def test_the_first_change_creates_the_stamp_row(world, clock):
    DirectoryStamp.objects.all().delete()
    assert application_find_cached(world.daemon.client_id).enabled  # cached under "no stamp"
    with CaptureQueriesContext(connection) as ctx:
        application_find_cached(world.daemon.client_id)
    assert len(ctx) == 0
    applications.client_secret_remove(secret=world.secret_row, actor=ACTOR)
    assert len(current_stamp()) == 32
    assert not client_secret_matches(application=world.daemon, secret=world.secret)


def test_a_load_between_a_write_and_its_commit_is_dropped_when_the_commit_lands(
    world, clock, django_capture_on_commit_callbacks
):
    key = ("secrets", world.daemon.pk)
    committed = ((world.secret_row.secret_hash, world.secret_row.expires_at),)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        applications.client_secret_remove(secret=world.secret_row, actor=ACTOR)
        # Meanwhile another thread of this process reads the directory as still committed, and caches it.
        directory.get(key, lambda: committed)
        assert client_secret_matches(application=world.daemon, secret=world.secret)
    assert callbacks
    assert not client_secret_matches(application=world.daemon, secret=world.secret)


# --- the knobs ----------------------------------------------------------------------------------------


def test_with_no_window_every_lookup_reads_the_stamp(world, clock, settings):
    settings.DIRECTORY_CACHE_SECONDS = 0
    with CaptureQueriesContext(connection) as first:
        application_find_cached(world.daemon.client_id)
    with CaptureQueriesContext(connection) as second:
        application_find_cached(world.daemon.client_id)
    assert stamp_reads(first) == 1 and len(first) == 2, sql(first)
    assert stamp_reads(second) == 1 and len(second) == 1, sql(second)  # the stamp, then the cached entry
    # Another process's change is seen at the very next lookup, with the clock standing still.
    Application.objects.filter(pk=world.daemon.pk).update(enabled=False)
    restamp()
    assert application_find_cached(world.daemon.client_id).enabled is False


def test_max_age_reloads_everything_even_when_the_stamp_is_unchanged(world, clock):
    assert application_find_cached(world.daemon.client_id).enabled
    assert roles_consented_cached(client=world.daemon, api=world.api) == ["app.read", "app.write"]
    Application.objects.filter(pk=world.daemon.pk).update(enabled=False)  # behind the ORM's back: no stamp
    delete_behind_signals(ConsentGrant.objects.filter(client=world.daemon))
    clock.advance(MAX_AGE_SECONDS - 1)
    assert application_find_cached(world.daemon.client_id).enabled  # stamp read, unchanged: kept
    clock.advance(WINDOW)
    with CaptureQueriesContext(connection) as ctx:
        assert application_find_cached(world.daemon.client_id).enabled is False
    assert stamp_reads(ctx) == 1 and len(ctx) == 2, sql(ctx)  # the stamp, then a real reload
    assert roles_consented_cached(client=world.daemon, api=world.api) == []


def test_max_entries_bounds_the_cache_and_lookups_past_it_still_work(db, monkeypatch):
    monkeypatch.setattr(directory_cache, "MAX_ENTRIES", 2)
    cache = DirectoryCache()
    assert cache.get("a", lambda: 1) == 1
    assert cache.get("b", lambda: 2) == 2
    loads = []
    assert cache.get("c", lambda: loads.append("c") or 3) == 3
    assert cache.get("c", lambda: loads.append("c") or 3) == 3
    assert loads == ["c", "c"]  # not kept
    assert cache.get("a", lambda: 99) == 1  # what was kept still is


def test_a_cached_secret_stops_matching_the_moment_it_expires(world, clock):
    assert client_secret_matches(application=world.daemon, secret=world.secret)
    with patch.object(timezone, "now", return_value=world.secret_row.expires_at), \
            CaptureQueriesContext(connection) as ctx:
        assert not client_secret_matches(application=world.daemon, secret=world.secret)
    assert len(ctx) == 0  # the expiry travels with the cached digest


# --- what is not kept ---------------------------------------------------------------------------------


def test_a_load_that_overlaps_a_clear_is_not_kept(db):
    loads = []

    def load_during_a_change():
        loads.append("first")
        directory.clear()  # a write landed while this load was reading
        return "maybe stale"

    assert directory.get(("overlap",), load_during_a_change) == "maybe stale"
    assert directory.get(("overlap",), lambda: loads.append("again") or "fresh") == "fresh"
    assert loads == ["first", "again"]
    assert directory.get(("overlap",), lambda: "not called") == "fresh"  # a quiet load is kept


def test_a_load_that_overlaps_a_stamp_change_seen_by_another_thread_is_not_kept(db, clock, settings):
    settings.DIRECTORY_CACHE_SECONDS = 0
    cache = DirectoryCache()

    def load_while_another_thread_sees_a_new_stamp():
        restamp()
        assert cache.get(("other",), lambda: "other thread") == "other thread"  # it reads the new stamp: drop
        return "loaded under the old stamp"

    assert cache.get(("key",), load_while_another_thread_sees_a_new_stamp) == "loaded under the old stamp"
    assert cache.get(("key",), lambda: "reloaded") == "reloaded"


def test_none_is_never_cached(db):
    loads = []
    assert directory.get(("none",), lambda: loads.append(1)) is None
    assert directory.get(("none",), lambda: "found") == "found"
    assert loads == [1]


UNKNOWN = {
    "client id": lambda: application_find_cached(str(uuid.uuid4())),
    "api": lambda: api_find_cached("https://contoso.onmicrosoft.com/nowhere"),
    "delegated scope": lambda: delegated_scope_find_cached("https://contoso.onmicrosoft.com/tasks-api", "nope"),
    "policy": lambda: policy_find_cached("B2C_1_Nowhere"),
}


@pytest.mark.parametrize("lookup", UNKNOWN.values(), ids=UNKNOWN.keys())
def test_unknown_names_do_not_fill_the_cache(world, clock, lookup):
    assert lookup() is None
    with CaptureQueriesContext(connection) as ctx:
        assert lookup() is None
    assert len(ctx) >= 1, "a miss is looked up again, not remembered"


def test_an_app_registered_behind_the_orm_is_found_at_once_after_a_miss(world, clock):
    client_id = str(uuid.uuid4())
    assert application_find_cached(client_id) is None
    Application.objects.bulk_create([Application(name="Late", client_id=client_id,
                                                  client_type=Application.CLIENT_CONFIDENTIAL)])  # no signal, no stamp
    assert application_find_cached(client_id).client_id == client_id


def test_no_signing_key_is_not_cached(db, clock):
    assert active_signing_key() is None
    assert jwks() == {"keys": []}
    kid = rotate_key_behind_signals()  # no signal, no stamp
    assert active_signing_key()[0] == kid
    assert [k["kid"] for k in jwks()["keys"]] == [kid]


def test_consented_roles_of_an_unconsented_client_are_cached_as_empty(world, clock):
    # [] is a value, not a miss: the token endpoint does not query again for a client without consent.
    assert roles_consented_cached(client=world.api, api=world.daemon) == []
    with CaptureQueriesContext(connection) as ctx:
        assert roles_consented_cached(client=world.api, api=world.daemon) == []
    assert len(ctx) == 0
    assert roles_consented(client=world.daemon, api=world.api) == ["app.read", "app.write"]


# --- over HTTP ----------------------------------------------------------------------------------------


def test_a_secret_removed_through_the_service_is_refused_at_the_next_token_request(client, cc, clock):
    assert post_token(client, cc_data(cc)).status_code == 200
    assert post_token(client, cc_data(cc)).status_code == 200  # served from the cache
    applications.client_secret_remove(secret=cc.daemon.secrets.get(), actor=ACTOR)
    assert_error(post_token(client, cc_data(cc)), 401, "invalid_client", "AADB2C90081")


def test_a_secret_removed_by_another_process_is_refused_once_the_window_ends(client, cc, clock):
    assert post_token(client, cc_data(cc)).status_code == 200
    delete_behind_signals(cc.daemon.secrets.all())
    restamp()
    assert post_token(client, cc_data(cc)).status_code == 200  # the bounded staleness
    clock.advance(WINDOW)
    assert_error(post_token(client, cc_data(cc)), 401, "invalid_client", "AADB2C90081")


def test_an_app_disabled_through_the_service_is_refused_at_the_next_token_request(client, cc, clock):
    assert post_token(client, cc_data(cc)).status_code == 200
    cc.daemon.enabled = False
    applications.application_update(application=cc.daemon, changed=["enabled"], actor=ACTOR)
    assert_error(post_token(client, cc_data(cc)), 401, "invalid_client")


def test_a_non_ascii_app_id_uri_is_found_as_registered(db):
    """SQLite's case-insensitive match folds ASCII only: the load must use the identifier as given."""
    uri = "https://contoso.onmicrosoft.com/Ärzte"
    api = applications.application_register(actor=ACTOR, name="Ärzte API", app_id_uri=uri)
    applications.delegated_scope_add(application=api, actor=ACTOR, value="read")
    assert api_find_cached(uri) == api
    assert delegated_scope_find_cached(uri, "read").application == api
