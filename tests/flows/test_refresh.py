"""Refresh token redemption over HTTP (SPEC §4.2; seed b2c-ropc-custom-policy.md "Redeem a refresh token").

Every issued JWT is verified against the JWKS published at /{tenant}/{policy}/discovery/v2.0/keys.
"""

import hashlib
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services as accounts
from accounts.models import User
from applications import refresh_tokens
from applications import services as applications
from applications.models import RefreshToken
from audit.models import SignInEvent
from policies import services as policies
from tests.conftest import ACTOR
from tests.flows.token_helpers import (
    ROPC_POLICY,
    assert_error,
    b64url_json,
    basic_auth,
    post_token,
    refresh_data,
    ropc_data,
    verify_jwt,
)

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§4.2")]

B2C_FIELDS = {
    "access_token", "id_token", "refresh_token", "token_type", "expires_in", "not_before", "expires_on",
    "resource", "id_token_expires_in", "refresh_token_expires_in", "profile_info", "scope",
}
DAY = 86400


@pytest.fixture(autouse=True)
def _signing_key(signing_key):
    return signing_key


@pytest.fixture
def cid(native_app) -> str:
    return str(native_app.client_id)


@pytest.fixture
def confidential_ropc_app(db):
    app = applications.application_register(actor=ACTOR, name="Confidential ROPC", ropc=True)
    _, secret = applications.client_secret_add(application=app, actor=ACTOR, description="test")
    return app, secret


def sign_in(client, cid, **kwargs) -> dict:
    response = post_token(client, ropc_data(cid, **kwargs))
    assert response.status_code == 200, response.content
    return response.json()


def refresh(client, cid, token, *, policy=ROPC_POLICY, shape="path", headers=None, **extra):
    return post_token(client, refresh_data(cid, token, **extra), policy=policy, shape=shape, headers=headers)


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    return response.json()


def row(value: str) -> RefreshToken:
    return RefreshToken.objects.get(token_checksum=hashlib.sha256(value.encode()).hexdigest())


def backdate(value: str, delta: timedelta, **extra) -> RefreshToken:
    """Move a token's sign-in and issue time back by `delta` (and the user's valid-from before both,
    so that the revocation rule does not decide the outcome instead)."""
    token = row(value)
    when = timezone.now() - delta
    RefreshToken.objects.filter(pk=token.pk).update(auth_time=when, created=when, **extra)
    User.objects.filter(pk=token.user_id).update(refresh_tokens_valid_from=when - timedelta(minutes=1))
    return row(value)


def verify_all(client, body, *, policy, cid, resource=None) -> dict:
    claims = {}
    if "access_token" in body:
        claims["access"] = verify_jwt(client, body["access_token"], policy=policy, audience=resource or cid)
    if "id_token" in body:
        claims["id"] = verify_jwt(client, body["id_token"], policy=policy, audience=cid)
    return claims


# --- Success -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["path", "query"])
def test_the_seeds_refresh_request_returns_new_tokens_with_the_b2c_fields(client, user, policy, cid, shape):
    first = sign_in(client, cid)
    before = int(time.time())
    body = ok(refresh(client, cid, first["refresh_token"], shape=shape))
    assert set(body) == B2C_FIELDS
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600 and body["id_token_expires_in"] == 3600
    assert body["not_before"] >= before and body["expires_on"] == body["not_before"] + 3600
    assert body["resource"] == cid
    assert body["refresh_token_expires_in"] == 1209600
    assert body["refresh_token"] != first["refresh_token"]
    assert b64url_json(body["profile_info"])["sub"] == str(user.object_id)
    assert b64url_json(body["profile_info"])["idp"] == "LocalAccount"
    claims = verify_all(client, body, policy=policy, cid=cid)
    assert claims["id"]["sub"] == claims["id"]["oid"] == str(user.object_id)
    assert claims["access"]["azp"] == cid and claims["access"]["oid"] == str(user.object_id)
    assert claims["id"]["tfp"] == "b2c_1_ropc_auth"


def test_a_refresh_keeps_the_original_auth_time(client, user, policy, cid):
    first = sign_in(client, cid)
    auth_time = verify_jwt(client, first["id_token"], policy=policy, audience=cid)["auth_time"]
    backdate(first["refresh_token"], timedelta(hours=2))
    body = ok(refresh(client, cid, first["refresh_token"]))
    claims = verify_all(client, body, policy=policy, cid=cid)
    assert claims["id"]["auth_time"] <= auth_time - 7000
    assert claims["access"]["auth_time"] == claims["id"]["auth_time"]


def test_the_refresh_of_an_msal_client_keeps_sending_client_info(client, user, policy, cid):
    first = sign_in(client, cid, scope=f"{cid} openid profile offline_access", client_info="1")
    body = ok(post_token(client, {
        "grant_type": "refresh_token", "client_id": cid, "refresh_token": first["refresh_token"],
        "scope": f"{cid} openid profile offline_access", "client_info": "1",
    }))
    assert b64url_json(body["client_info"])["uid"] == f"{user.object_id}-b2c_1_ropc_auth"
    verify_all(client, body, policy=policy, cid=cid)


# --- Rotation and reuse ---------------------------------------------------------------------------------


def test_the_rotated_token_works_and_the_old_one_later_does_not(client, user, policy, cid, settings):
    settings.REFRESH_TOKEN_REUSE_GRACE_SECONDS = 0
    first = sign_in(client, cid)["refresh_token"]
    second_body = ok(refresh(client, cid, first))
    verify_all(client, second_body, policy=policy, cid=cid)
    second = second_body["refresh_token"]
    third_body = ok(refresh(client, cid, second))
    verify_all(client, third_body, policy=policy, cid=cid)
    assert_error(refresh(client, cid, first), 400, "invalid_grant", "AADB2C90129")


def test_a_live_token_is_rotated_without_a_lock_in_one_statement_on_postgresql(client, user, policy, cid):
    first = sign_in(client, cid)["refresh_token"]
    with CaptureQueriesContext(connection) as ctx:
        second = ok(refresh(client, cid, first))["refresh_token"]
    statements = [q["sql"] for q in ctx if "applications_refreshtoken" in q["sql"]]
    assert not any("FOR UPDATE" in sql for sql in statements), statements
    # The read, then the successor's insert and the rotation: one statement where the database allows it.
    assert len(statements) == (2 if connection.vendor == "postgresql" else 3), statements
    assert row(first).successor_id == row(second).pk and row(second).revoked is None


@pytest.fixture
def rotated_right_after_our_read(monkeypatch):
    """Another worker rotates the presented token between this request's unlocked read and its rotation."""
    read, rival = refresh_tokens.refresh_token_current, {}

    def read_then_lose_the_race(checksum):
        token = read(checksum)
        if token is not None and not rival:
            other = read(checksum)
            rival["value"], _ = refresh_tokens.refresh_token_rotate(
                old=other, client=other.application, user=other.user, policy=other.policy,
                auth_time=other.auth_time, now=timezone.now(),
            )
        return token

    monkeypatch.setattr(refresh_tokens, "refresh_token_current", read_then_lose_the_race)
    return rival


def test_a_token_rotated_after_the_read_is_judged_again_under_the_lock_as_a_retry(
    client, user, policy, cid, settings, rotated_right_after_our_read
):
    settings.REFRESH_TOKEN_REUSE_GRACE_SECONDS = 30
    first = sign_in(client, cid)["refresh_token"]
    events = SignInEvent.objects.count()
    body = ok(refresh(client, cid, first))  # lost the race: within the grace window, a retry
    verify_all(client, body, policy=policy, cid=cid)
    rival = rotated_right_after_our_read["value"]
    assert body["refresh_token"] not in (first, rival)
    assert row(rival).revoked is not None and row(first).successor_id == row(body["refresh_token"]).pk
    assert RefreshToken.objects.filter(revoked__isnull=True).count() == 1
    assert SignInEvent.objects.count() == events + 1  # one request, one outcome, though judged twice


def test_a_token_rotated_after_the_read_is_reuse_without_a_grace_window(
    client, user, policy, cid, settings, rotated_right_after_our_read
):
    settings.REFRESH_TOKEN_REUSE_GRACE_SECONDS = 0
    first = sign_in(client, cid)["refresh_token"]
    assert_error(refresh(client, cid, first), 400, "invalid_grant", "AADB2C90129")
    assert rotated_right_after_our_read["value"]
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()  # the rival's successor too


def test_reusing_a_rotated_token_after_the_grace_window_revokes_the_whole_family(client, user, policy, cid, settings):
    settings.REFRESH_TOKEN_REUSE_GRACE_SECONDS = 0
    first = sign_in(client, cid)["refresh_token"]
    successor = ok(refresh(client, cid, first))["refresh_token"]
    assert_error(refresh(client, cid, first), 400, "invalid_grant", "AADB2C90129")
    assert_error(refresh(client, cid, successor), 400, "invalid_grant")
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()


def test_reuse_after_the_grace_window_measured_by_the_clock_revokes_the_family(client, user, policy, cid):
    """The default grace window (10 s) passed: move the rotation back instead of waiting."""
    first = sign_in(client, cid)["refresh_token"]
    successor = ok(refresh(client, cid, first))["refresh_token"]
    RefreshToken.objects.filter(pk=row(first).pk).update(revoked=timezone.now() - timedelta(seconds=60))
    assert_error(refresh(client, cid, first), 400, "invalid_grant", "AADB2C90129")
    assert_error(refresh(client, cid, successor), 400, "invalid_grant")


def test_within_the_grace_window_the_immediate_predecessor_works_once_more(client, user, policy, cid, settings):
    settings.REFRESH_TOKEN_REUSE_GRACE_SECONDS = 30
    first = sign_in(client, cid)["refresh_token"]
    lost = ok(refresh(client, cid, first))["refresh_token"]  # the client never received this response
    retry = ok(refresh(client, cid, first))
    verify_all(client, retry, policy=policy, cid=cid)
    assert retry["refresh_token"] not in (first, lost)
    assert row(lost).revoked is not None  # the previously issued successor is revoked
    assert RefreshToken.objects.filter(revoked__isnull=True).count() == 1
    verify_all(client, ok(refresh(client, cid, retry["refresh_token"])), policy=policy, cid=cid)


def test_within_the_grace_window_the_revoked_successor_itself_is_refused(client, user, policy, cid, settings):
    settings.REFRESH_TOKEN_REUSE_GRACE_SECONDS = 30
    first = sign_in(client, cid)["refresh_token"]
    lost = ok(refresh(client, cid, first))["refresh_token"]
    ok(refresh(client, cid, first))
    assert_error(refresh(client, cid, lost), 400, "invalid_grant")


def test_within_the_grace_window_a_token_two_generations_old_revokes_the_family(client, user, policy, cid, settings):
    settings.REFRESH_TOKEN_REUSE_GRACE_SECONDS = 30
    first = sign_in(client, cid)["refresh_token"]
    second = ok(refresh(client, cid, first))["refresh_token"]
    third = ok(refresh(client, cid, second))["refresh_token"]
    assert_error(refresh(client, cid, first), 400, "invalid_grant", "AADB2C90129")
    assert_error(refresh(client, cid, third), 400, "invalid_grant")
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()


# --- Binding to client and policy -----------------------------------------------------------------------


def test_a_refresh_token_is_bound_to_its_client(client, user, policy, cid):
    other = applications.application_register(actor=ACTOR, name="Other native", public=True, ropc=True)
    token = sign_in(client, cid)["refresh_token"]
    body = assert_error(refresh(client, other.client_id, token), 400, "invalid_grant", "AADB2C90279")
    assert other.client_id in body["error_description"]
    verify_all(client, ok(refresh(client, cid, token)), policy=policy, cid=cid)  # not consumed by the refusal


def test_a_refresh_token_is_bound_to_its_policy(client, user, policy, cid):
    other, _ = policies.policy_create_or_update(actor=ACTOR, policy_id="B2C_1_Other_ROPC")
    token = sign_in(client, cid)["refresh_token"]
    assert_error(refresh(client, cid, token, policy=other.policy_id), 400, "invalid_grant", "AADB2C90088")
    verify_all(client, ok(refresh(client, cid, token)), policy=policy, cid=cid)


# --- Revocation (refreshTokensValidFromDateTime) --------------------------------------------------------


def test_revoking_the_users_sessions_revokes_earlier_refresh_tokens(client, user, policy, cid):
    token = sign_in(client, cid)["refresh_token"]
    accounts.user_revoke_sessions(user=user, actor=ACTOR)
    body = assert_error(refresh(client, cid, token), 400, "invalid_grant", "AADB2C90129")
    assert "The provided grant has been revoked" in body["error_description"]
    fresh = sign_in(client, cid)["refresh_token"]  # a new sign-in is not affected
    verify_all(client, ok(refresh(client, cid, fresh)), policy=policy, cid=cid)


def test_a_password_change_revokes_earlier_refresh_tokens(client, user, policy, cid):
    token = sign_in(client, cid)["refresh_token"]
    accounts.user_set_password(user=user, password="Second-Horse-9", actor=ACTOR)
    assert_error(refresh(client, cid, token), 400, "invalid_grant", "AADB2C90129")


def test_disabling_the_user_revokes_earlier_refresh_tokens(client, user, policy, cid):
    token = sign_in(client, cid)["refresh_token"]
    accounts.user_set_enabled(user=user, enabled=False, actor=ACTOR)
    assert_error(refresh(client, cid, token), 400, "invalid_grant", "AADB2C90129")


def test_re_enabling_the_user_does_not_bring_back_tokens_revoked_by_disabling(client, user, policy, cid):
    token = sign_in(client, cid)["refresh_token"]
    accounts.user_set_enabled(user=user, enabled=False, actor=ACTOR)
    accounts.user_set_enabled(user=user, enabled=True, actor=ACTOR)
    assert_error(refresh(client, cid, token), 400, "invalid_grant", "AADB2C90129")


def test_a_deleted_users_refresh_token_is_refused(client, user, policy, cid):
    token = sign_in(client, cid)["refresh_token"]
    accounts.user_delete(user=user, actor=ACTOR)
    assert not User.objects.filter(username="alice").exists()
    body = assert_error(refresh(client, cid, token), 400, "invalid_grant", "AADB2C90128")
    assert "no longer exists" in body["error_description"]


def test_a_user_deleted_between_the_read_and_the_rotation_is_refused_not_a_database_error(
    client, user, policy, cid, monkeypatch
):
    token = sign_in(client, cid)["refresh_token"]
    read = refresh_tokens.refresh_token_current

    def read_then_delete_the_user(checksum):
        found = read(checksum)
        if User.objects.filter(pk=user.pk).exists():
            accounts.user_delete(user=User.objects.get(pk=user.pk), actor=ACTOR)
        return found

    monkeypatch.setattr(refresh_tokens, "refresh_token_current", read_then_delete_the_user)
    assert_error(refresh(client, cid, token), 400, "invalid_grant", "AADB2C90128")
    assert RefreshToken.objects.count() == 1 and row(token).revoked is None


# --- Expiry and the sliding window ----------------------------------------------------------------------


def test_an_expired_refresh_token_is_refused(client, user, policy, cid):
    token = sign_in(client, cid)["refresh_token"]
    RefreshToken.objects.filter(pk=row(token).pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    body = assert_error(refresh(client, cid, token), 400, "invalid_grant", "AADB2C90080")
    assert "The provided grant has expired" in body["error_description"]


@pytest.fixture
def short_policy(policy):
    """Refresh tokens live 1 day, and the sliding window from the sign-in is 1 day too."""
    return policies.policy_create_or_update(
        actor=ACTOR, policy_id=ROPC_POLICY, refresh_token_lifetime_days=1, rolling_refresh_token_lifetime_days=1
    )[0]


def test_a_token_issued_under_a_one_day_policy_expires_in_one_day(client, user, short_policy, cid):
    body = sign_in(client, cid)
    assert body["refresh_token_expires_in"] == DAY
    refreshed = ok(refresh(client, cid, body["refresh_token"]))
    assert DAY - 5 <= refreshed["refresh_token_expires_in"] <= DAY
    verify_all(client, refreshed, policy=short_policy, cid=cid)


def test_a_token_from_a_sign_in_older_than_the_sliding_window_has_expired(client, user, short_policy, cid):
    """Everything moved back two days, as if the clock had run: the token and the window have both passed."""
    token = sign_in(client, cid)["refresh_token"]
    backdate(token, timedelta(days=2), expires_at=row(token).expires_at - timedelta(days=2))
    assert_error(refresh(client, cid, token), 400, "invalid_grant", "AADB2C90080")


def test_a_sign_in_older_than_the_sliding_window_is_refused_even_if_the_token_row_has_not_expired(
    client, user, policy, cid
):
    """The token was issued under a 14/90-day policy; the admin then shortened it to 1/1 day.

    SPEC §4.2: "past the policy's sliding-window lifetime: invalid_grant (AADB2C90080)".
    """
    token = sign_in(client, cid)["refresh_token"]
    policies.policy_create_or_update(
        actor=ACTOR, policy_id=ROPC_POLICY, refresh_token_lifetime_days=1, rolling_refresh_token_lifetime_days=1
    )
    backdate(token, timedelta(days=2))
    assert_error(refresh(client, cid, token), 400, "invalid_grant", "AADB2C90080")


def test_refresh_token_expires_in_never_exceeds_what_remains_of_the_sliding_window(client, user, policy, cid):
    policy, _ = policies.policy_create_or_update(
        actor=ACTOR, policy_id=ROPC_POLICY, refresh_token_lifetime_days=14, rolling_refresh_token_lifetime_days=15
    )
    token = sign_in(client, cid)["refresh_token"]
    ten_days_ago = backdate(token, timedelta(days=10)).auth_time
    body = ok(refresh(client, cid, token))
    assert 5 * DAY - 60 <= body["refresh_token_expires_in"] <= 5 * DAY
    new_row = row(body["refresh_token"])
    assert new_row.expires_at <= ten_days_ago + timedelta(days=15)
    verify_all(client, body, policy=policy, cid=cid)


def test_a_policy_without_a_sliding_window_gives_each_token_the_full_lifetime(client, user, policy, cid):
    policies.policy_create_or_update(actor=ACTOR, policy_id=ROPC_POLICY, no_sliding_expiry=True)
    token = sign_in(client, cid)["refresh_token"]
    backdate(token, timedelta(days=400))
    body = ok(refresh(client, cid, token))
    assert body["refresh_token_expires_in"] == 1209600


# --- Scope on refresh -----------------------------------------------------------------------------------


def test_a_narrower_scope_on_refresh_is_allowed(client, user, policy, cid):
    token = sign_in(client, cid)["refresh_token"]
    body = ok(post_token(client, {
        "grant_type": "refresh_token", "client_id": cid, "refresh_token": token, "scope": "openid offline_access",
    }))
    assert "id_token" in body and "access_token" not in body
    verify_all(client, body, policy=policy, cid=cid)
    body = ok(post_token(client, {
        "grant_type": "refresh_token", "client_id": cid, "refresh_token": body["refresh_token"], "scope": cid,
    }))
    assert "access_token" in body and "id_token" not in body
    verify_all(client, body, policy=policy, cid=cid)


def test_a_wider_scope_on_refresh_is_invalid_scope(client, user, policy, cid):
    token = sign_in(client, cid, scope="openid offline_access")["refresh_token"]
    response = post_token(client, {
        "grant_type": "refresh_token", "client_id": cid, "refresh_token": token,
        "scope": f"openid {cid} offline_access",
    })
    assert_error(response, 400, "invalid_scope")
    verify_all(client, ok(refresh(client, cid, token, resource=None)), policy=policy, cid=cid)


# --- Storage --------------------------------------------------------------------------------------------


def test_refresh_tokens_are_stored_only_as_a_checksum(client, user, policy, cid):
    first = sign_in(client, cid)["refresh_token"]
    second = ok(refresh(client, cid, first))["refresh_token"]
    values = (first, second)
    table = RefreshToken._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - our own table name
        rows = cursor.fetchall()
    assert len(rows) == 2
    for db_row in rows:
        for column in db_row:
            for value in values:
                assert value not in str(column)
    for value in values:
        stored = row(value)
        assert stored.token == ""
        assert stored.token_checksum == hashlib.sha256(value.encode()).hexdigest()


# --- Client authentication on refresh -------------------------------------------------------------------


def test_a_confidential_client_must_authenticate_to_refresh(client, user, policy, confidential_ropc_app):
    app, secret = confidential_ropc_app
    token = sign_in(client, app.client_id, client_secret=secret)["refresh_token"]
    assert_error(refresh(client, app.client_id, token), 401, "invalid_client", "AADB2C90079")
    assert_error(refresh(client, app.client_id, token, client_secret="wrong"), 401, "invalid_client", "AADB2C90081")
    body = ok(refresh(client, app.client_id, token, client_secret=secret))
    verify_all(client, body, policy=policy, cid=app.client_id)
    data = refresh_data(app.client_id, body["refresh_token"])
    del data["client_id"]
    body = ok(post_token(client, data, headers=basic_auth(app.client_id, secret)))
    verify_all(client, body, policy=policy, cid=app.client_id)


def test_a_confidential_client_failing_basic_auth_on_refresh_gets_www_authenticate_basic(
    client, user, policy, confidential_ropc_app
):
    app, secret = confidential_ropc_app
    token = sign_in(client, app.client_id, client_secret=secret)["refresh_token"]
    data = refresh_data(app.client_id, token)
    del data["client_id"]
    response = post_token(client, data, headers=basic_auth(app.client_id, "wrong"))
    assert_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic")


def test_a_public_client_sending_a_secret_on_refresh_is_refused(client, user, policy, cid):
    token = sign_in(client, cid)["refresh_token"]
    assert_error(refresh(client, cid, token, client_secret="anything"), 400, "invalid_request", "AADB2C90084")
    verify_all(client, ok(refresh(client, cid, token)), policy=policy, cid=cid)


def test_a_disabled_app_cannot_refresh(client, user, policy, native_app, cid):
    token = sign_in(client, cid)["refresh_token"]
    native_app.enabled = False
    native_app.save(update_fields=["enabled"])
    assert_error(refresh(client, cid, token), 401, "invalid_client")


# --- Failures do not consume the token; unknown tokens --------------------------------------------------


def test_a_refresh_the_journey_refuses_does_not_consume_the_token(client, user, policy, cid):
    token = sign_in(client, cid)["refresh_token"]
    User.objects.filter(pk=user.pk).update(is_active=False)  # directly: refreshTokensValidFrom unchanged
    assert_error(refresh(client, cid, token), 400, "invalid_grant")
    assert row(token).revoked is None
    User.objects.filter(pk=user.pk).update(is_active=True)
    verify_all(client, ok(refresh(client, cid, token)), policy=policy, cid=cid)


def test_a_refresh_refused_for_a_bad_scope_does_not_consume_the_token(client, user, policy, cid):
    token = sign_in(client, cid)["refresh_token"]
    assert_error(refresh(client, cid, token, resource="https://contoso.onmicrosoft.com/nope"), 400, "invalid_scope")
    verify_all(client, ok(refresh(client, cid, token)), policy=policy, cid=cid)


def test_an_unknown_refresh_token_is_invalid_grant(client, user, policy, cid):
    sign_in(client, cid)
    body = assert_error(refresh(client, cid, "not-a-token-we-issued"), 400, "invalid_grant")
    assert "not-a-token-we-issued" not in body["error_description"]


def test_a_missing_refresh_token_is_invalid_request(client, user, policy, cid):
    data = refresh_data(cid, "x")
    del data["refresh_token"]
    assert_error(post_token(client, data), 400, "invalid_request", "AADB2C90083")


# --- Sign-in events -------------------------------------------------------------------------------------


@pytest.mark.spec("SPEC.md", "§5")
def test_each_refresh_outcome_writes_a_sign_in_event(client, user, policy, cid):
    token = sign_in(client, cid)["refresh_token"]
    new = ok(refresh(client, cid, token))["refresh_token"]
    event = SignInEvent.objects.order_by("-id").first()
    assert (event.grant_type, event.client_id, event.policy_id, event.succeeded) == (
        "refresh_token", cid, ROPC_POLICY, True
    )
    assert event.user_id == user.pk and event.error == "" and event.result_code == ""
    accounts.user_revoke_sessions(user=user, actor=ACTOR)
    refresh(client, cid, new)
    event = SignInEvent.objects.order_by("-id").first()
    assert (event.grant_type, event.succeeded, event.error, event.result_code) == (
        "refresh_token", False, "invalid_grant", "AADB2C90129"
    )
    for stored in SignInEvent.objects.all():
        for field in SignInEvent._meta.concrete_fields:
            assert token not in str(getattr(stored, field.attname))
            assert new not in str(getattr(stored, field.attname))
