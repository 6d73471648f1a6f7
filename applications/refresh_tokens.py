"""Refresh tokens (SPEC §4.2): opaque, stored as a checksum, bound to client and policy, rotated on
every use, with reuse detection over the whole family.

Redemption is optimistic first: the presented token is read without a lock and, if it is usable, its
successor is inserted and it is marked rotated in one step that happens only if it is still live
(`refresh_token_rotate_live`). If it is not — rotated or revoked before or meanwhile — redemption or
rotation raises `RotationContended`, and the grant redeems it again with its row locked (`SELECT … FOR
UPDATE` on PostgreSQL) inside a transaction, so parallel redemptions of one token serialise: one rotates
it, the others see it rotated. A rotated token presented again revokes its whole family — unless it is
the immediate predecessor of the family's live token and was rotated less than
REFRESH_TOKEN_REUSE_GRACE_SECONDS ago (a client's own retry after a lost response): then the live
successor is replaced instead.
"""

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from oauth2_provider.models import set_token_value

from accounts.models import User
from applications.models import Application, RefreshToken
from applications.refresh_token_statements import (
    refresh_token_current,
    refresh_token_for_update,
    refresh_token_insert,
    refresh_token_mark_rotated,
    refresh_token_rotate_live,
)
from identity.oauth import errors
from policies.models import Policy

FAMILY_REVOKE_PASSES = 20


class RotationContended(Exception):
    """A token read without a lock was not live (any more): redeem it again with its row locked."""


def _checksum(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def expiry_for(*, policy: Policy, auth_time: datetime, now: datetime) -> datetime:
    """Each token lives the policy's lifetime, but never past the sliding window from the sign-in."""
    expires = now + timedelta(days=policy.refresh_token_lifetime_days)
    if policy.rolling_refresh_token_lifetime_days is not None:
        expires = min(expires, auth_time + timedelta(days=policy.rolling_refresh_token_lifetime_days))
    return expires


def _new(*, client: Application, user: User, policy: Policy, scope: str, auth_time: datetime, now: datetime,
         family: uuid.UUID) -> tuple[str, RefreshToken]:
    value = secrets.token_urlsafe(48)
    token = RefreshToken(
        user=user, application=client, policy=policy, scope=scope, auth_time=auth_time, created=now,
        expires_at=expiry_for(policy=policy, auth_time=auth_time, now=now), token_family=family,
    )
    set_token_value(token, value)
    return value, token


def refresh_token_issue(
    *, client: Application, user: User, policy: Policy, scope: str, auth_time: datetime, now: datetime,
) -> tuple[str, RefreshToken]:
    """A new refresh token of a new family; the value is returned once and only its checksum is stored."""
    value, token = _new(client=client, user=user, policy=policy, scope=scope, auth_time=auth_time, now=now,
                        family=uuid.uuid4())
    refresh_token_insert(token)
    return value, token


def refresh_token_redeem(
    *, value: str, client: Application, policy: Policy, now: datetime, lock: bool,
) -> RefreshToken:
    """The still-usable token to rotate from, or a typed invalid_grant.

    With `lock`, inside a transaction, the row stays locked until it ends. Without, a token that is not
    live raises RotationContended: whether it is a retry or a theft is judged under the lock only.
    """
    checksum = _checksum(value)
    token = refresh_token_for_update(checksum) if lock else refresh_token_current(checksum)
    if token is None:
        raise errors.InvalidGrant("The provided refresh token is invalid or malformed.")
    try:
        _check_redeemable(token, client=client, policy=policy, now=now, lock=lock)
    except errors.TokenError as exc:
        exc.user = token.user  # the presented token names its user: the sign-in event records whose it was
        raise
    return token


def _check_redeemable(token: RefreshToken, *, client: Application, policy: Policy, now: datetime, lock: bool) -> None:
    if token.application_id != client.pk:
        raise errors.InvalidGrant(
            f"The provided client ID '{client.client_id}' does not match the client ID that issued the grant.",
            b2c_code="AADB2C90279",
        )
    if token.policy_id != policy.pk:
        issued_for = token.policy.policy_id if token.policy else "(deleted policy)"
        raise errors.InvalidGrant(
            f"The provided grant has not been issued for this endpoint. Actual Value : {policy.policy_id} "
            f"and Expected Value : {issued_for}", b2c_code="AADB2C90088",
        )
    if token.revoked is not None:
        if not lock:
            raise RotationContended
        _reuse(token, now)
    expired = expiry_error(token, policy=policy, now=now)
    if expired is not None:
        raise expired


def expiry_error(token: RefreshToken, *, policy: Policy, now: datetime) -> errors.InvalidGrant | None:
    """AADB2C90080 when the token is past its own lifetime or the policy's sliding window (which the
    policy may have shortened since the token was issued), else None."""
    window = policy.rolling_refresh_token_lifetime_days
    if window is not None and token.auth_time is not None and token.auth_time + timedelta(days=window) <= now:
        return errors.grant_expired(
            f" Current time: {int(now.timestamp())}, Grant issued time: {int(token.auth_time.timestamp())}, "
            f"Grant sliding window expiration time: {int((token.auth_time + timedelta(days=window)).timestamp())}."
        )
    if token.expires_at is not None and token.expires_at <= now:
        return errors.grant_expired(
            f" Current time: {int(now.timestamp())}, Grant issued time: {int(token.created.timestamp())}, "
            f"Grant expiration time: {int(token.expires_at.timestamp())}."
        )
    return None


def _reuse(token: RefreshToken, now: datetime) -> None:
    """A rotated token came back: allow the grace-window retry, else revoke the family."""
    grace = timedelta(seconds=settings.REFRESH_TOKEN_REUSE_GRACE_SECONDS)
    successor = (
        RefreshToken.objects.select_for_update().filter(pk=token.successor_id).first()
        if token.successor_id else None
    )
    # Judged by the clock now, after the row lock: a request that started before the winner's rotation
    # but waited for the lock is a concurrent duplicate, not a retry of a lost response.
    if (
        grace > timedelta(0) and successor is not None and successor.revoked is None
        and token.revoked + grace > timezone.now()
    ):
        # The client retried with the token it just rotated: its successor was never received.
        successor.revoked = now
        successor.save(update_fields=["revoked", "updated"])
        return
    # The request's transaction rolls back with this refusal; the grant revokes the family after it.
    error = errors.grant_revoked("A rotated refresh token was presented again: its whole family is revoked.")
    error.effects.append(lambda: refresh_token_revoke_family(family=token.token_family))
    raise error


def refresh_token_rotate(
    *, old: RefreshToken, client: Application, user: User, policy: Policy, auth_time: datetime, now: datetime,
) -> tuple[str, RefreshToken]:
    """`old`'s successor (same family and scope, RFC 6749 §6), with `old` marked rotated into it.

    A live `old` (locked or not) is rotated only if it is still live: else RotationContended and nothing
    is written. A rotated one is the grace-window retry, under the lock from refresh_token_redeem: it
    stays rotated, now into the new token.
    """
    value, new = _new(client=client, user=user, policy=policy, scope=old.scope, auth_time=auth_time, now=now,
                      family=old.token_family)
    if old.revoked is None:
        if not refresh_token_rotate_live(old, new, revoked=now, updated=timezone.now()):
            raise RotationContended
    else:
        if transaction.get_autocommit():  # before the insert, which would otherwise commit on its own
            raise TransactionManagementError("Rotating a rotated token must run under its row lock.")
        refresh_token_insert(new)
        refresh_token_mark_rotated(old, revoked=old.revoked, successor=new, updated=timezone.now())
    return value, new


def refresh_token_revoke_family(*, family: uuid.UUID | None) -> int:
    """Revoke every live token of a family (reuse detection, revocation endpoint).

    Repeated until a fresh statement sees no live token: under READ COMMITTED one UPDATE cannot see a
    successor that a concurrent refresh inserts while the UPDATE waits for that refresh's row lock.
    Each pass waits out the refreshes in flight (they hold a lock on a live row), the next sees their
    successors; no new refresh can start on a revoked token, so this ends.
    """
    if family is None:
        return 0
    total = 0
    live = RefreshToken.objects.filter(token_family=family, revoked__isnull=True)
    for _ in range(FAMILY_REVOKE_PASSES):
        now = timezone.now()
        total += live.update(revoked=now, updated=now)
        if not live.exists():
            break
    return total


@transaction.atomic
def refresh_token_revoke(*, value: str, client: Application) -> bool:
    """RFC 7009: revoke a refresh token (and its family) presented by the client it was issued to."""
    # Lock first: a refresh of this token in progress commits its successor before we go on, and the
    # family UPDATE (a new statement) then sees that successor too.
    token = (
        RefreshToken.objects.select_for_update(of=("self",))
        .filter(token_checksum=_checksum(value), application=client).first()
    )
    if token is None:
        return False
    refresh_token_revoke_family(family=token.token_family)
    return True


def refresh_token_find(value: str) -> RefreshToken | None:
    return RefreshToken.objects.select_related("user", "application", "policy").filter(
        token_checksum=_checksum(value)
    ).first()
