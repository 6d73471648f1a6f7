"""Signing-key rotation (SPEC §3): a new active key; old ones stay published until their tokens expire.

In an emergency (a private key leaked) a key is withdrawn instead: out of the JWKS at once, so tokens it
signed stop validating, with a new active key in the same transaction when it was the active one.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from audit.services import Actor, audit_record
from identity.keys import crypto
from identity.keys.models import SigningKey
from policies.models import TOKEN_MINUTES_MAX

logger = logging.getLogger(__name__)

# A retired key signed tokens that live at most B2C's longest token lifetime; five minutes of slack
# cover clock skew between us and the resource servers.
RETIRED_KEY_PUBLISHED_FOR = timedelta(minutes=TOKEN_MINUTES_MAX + 5)


@transaction.atomic
def signing_key_rotate(*, actor: Actor, key_size: int = crypto.RSA_KEY_SIZE) -> SigningKey:
    """Create a new active key and retire the previous one (still published for a while)."""
    retired = list(SigningKey.objects.select_for_update().filter(active=True))
    return _create_active_key(actor=actor, key_size=key_size, retiring=retired)


@transaction.atomic
def signing_key_ensure(*, actor: Actor) -> SigningKey:
    """The active key, created on first use.

    Checked and created in one transaction, and creating retires nothing: when two processes race on
    a fresh database, the later insert fails on the one-active-key constraint (IntegrityError, or
    "database is locked" on SQLite) instead of rotating the winner's key away. Callers may retry.
    """
    existing = SigningKey.objects.select_for_update().filter(active=True).first()
    return existing or _create_active_key(actor=actor, key_size=crypto.RSA_KEY_SIZE, retiring=[])


def _create_active_key(*, actor: Actor, key_size: int, retiring: list[SigningKey]) -> SigningKey:
    now = timezone.now()
    SigningKey.objects.filter(pk__in=[k.pk for k in retiring]).update(
        active=False, retired_at=now, published_until=now + RETIRED_KEY_PUBLISHED_FOR
    )
    key = _new_active_key(key_size, now)
    audit_record(actor=actor, action="signing_key.rotate", target=key, details={
        "kid": key.kid, "retired": [k.kid for k in retiring],
    })
    return key


def _new_active_key(key_size: int, now: datetime) -> SigningKey:
    private_key = crypto.generate_rsa_private_key(key_size)
    kid, public_jwk = crypto.public_jwk_for(private_key)
    return SigningKey.objects.create(
        kid=kid, key_size=key_size, public_jwk=public_jwk, active=True, created_at=now,
        private_key_encrypted=crypto.encrypt_private_pem(crypto.private_key_to_pem(private_key)),
    )


@dataclass(frozen=True)
class Withdrawal:
    withdrawn: SigningKey
    replacement: SigningKey | None  # the new active key, made because the withdrawn one was active
    changed: bool  # False: the key was no longer published, nothing was done


@transaction.atomic
def signing_key_withdraw(*, actor: Actor, kid: str, key_size: int = crypto.RSA_KEY_SIZE) -> Withdrawal:
    """Withdraw a (compromised) key from the JWKS now, not when its tokens expire: tokens it signed stop
    validating wherever the JWKS is read. The active key is replaced by a new one in the same transaction,
    and nothing signs with the withdrawn key again (it is no longer a signing candidate, even during the
    window after a rotation). Every process sees it within DIRECTORY_CACHE_SECONDS (the save stamps the
    directory); a resource server that cached our JWKS may accept its tokens until that copy expires."""
    kid = kid.strip()
    keys = {key.kid: key for key in SigningKey.objects.select_for_update().order_by("pk")}
    key = keys.get(kid)
    if key is None:
        raise ValidationError(f"No signing key has the kid '{kid[:64]}'.", code="unknown_key")
    now = timezone.now()
    if not key.is_published:
        return Withdrawal(withdrawn=key, replacement=None, changed=False)
    if not key.active and not any(k.active for k in keys.values()):
        raise ValidationError(f"Withdrawing {kid} would leave the tenant without an active signing key: run "
                              "`manage.py rotatekeys` first, then withdraw it.", code="no_active_key")
    was_active = key.active
    key.active, key.retired_at, key.published_until = False, key.retired_at or now, now
    key.save(update_fields=["active", "retired_at", "published_until"])  # post_save stamps the directory
    replacement = _new_active_key(key_size, now) if was_active else None
    audit_record(actor=actor, action="signing_key.withdraw", target=key, details={
        "kid": kid, "was_active": was_active, "new_active_kid": replacement.kid if replacement else None,
    })
    return Withdrawal(withdrawn=key, replacement=replacement, changed=True)


FIRST_KEY_ATTEMPTS = 3


def signing_key_ensure_once(*, actor: Actor) -> None:
    """Make sure an active key exists, when several processes may be asking at once.

    The loser of a race fails on the one-active-key constraint (IntegrityError, or "database is locked"
    on SQLite), waits a little and looks again, which finds the winner's key once it is committed.
    """
    for attempt in range(FIRST_KEY_ATTEMPTS):
        try:
            signing_key_ensure(actor=actor)
            return
        except (IntegrityError, OperationalError) as exc:
            logger.info("another process is creating the first signing key (%s)", type(exc).__name__)
            time.sleep(0.05 * (attempt + 1))
