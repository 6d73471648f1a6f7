"""Signing-key rotation (SPEC §3): a new active key; old ones stay published until their tokens expire."""

import logging
import time
from datetime import timedelta

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
    private_key = crypto.generate_rsa_private_key(key_size)
    kid, public_jwk = crypto.public_jwk_for(private_key)
    now = timezone.now()
    SigningKey.objects.filter(pk__in=[k.pk for k in retiring]).update(
        active=False, retired_at=now, published_until=now + RETIRED_KEY_PUBLISHED_FOR
    )
    key = SigningKey.objects.create(
        kid=kid, key_size=key_size, public_jwk=public_jwk, active=True, created_at=now,
        private_key_encrypted=crypto.encrypt_private_pem(crypto.private_key_to_pem(private_key)),
    )
    audit_record(actor=actor, action="signing_key.rotate", target=key, details={
        "kid": kid, "retired": [k.kid for k in retiring],
    })
    return key


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
