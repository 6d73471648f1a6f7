"""Reading keys: the JWKS to publish, and the active key to sign with."""

from datetime import datetime, timedelta
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from identity.directory_cache import directory
from identity.keys import crypto
from identity.keys.models import SigningKey


def published_keys() -> list[SigningKey]:
    """Every key that may have signed a live token: the active one and recently retired ones."""
    now = timezone.now()
    return list(SigningKey.objects.filter(Q(active=True) | Q(published_until__gt=now)).order_by("-created_at"))


def jwks() -> dict:
    """The published key set, from the directory cache while no retired key's publication has ended."""
    cached = directory.get(("jwks",), _load_jwks)
    if cached is not None and cached[1] is not None and timezone.now() >= cached[1]:
        directory.forget(("jwks",))
        cached = directory.get(("jwks",), _load_jwks)
    return cached[0] if cached is not None else {"keys": []}


def _load_jwks() -> tuple[dict, datetime | None] | None:
    """(JWKS, when a retired key in it stops being published); None while there is no key (not cached)."""
    keys = published_keys()
    if not keys:
        return None
    retired_until = [key.published_until for key in keys if not key.active and key.published_until]
    return {"keys": [key.public_jwk for key in keys]}, min(retired_until, default=None)


@lru_cache(maxsize=8)
def _load_private_key(kid: str, encrypted: str) -> rsa.RSAPrivateKey:
    # Decrypting and parsing a PEM costs tens of milliseconds: once per key per process.
    key = serialization.load_pem_private_key(crypto.decrypt_private_pem(encrypted), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise crypto.KeyDecryptionError(f"signing key {kid} is not an RSA key")
    return key


def active_signing_key() -> tuple[str, rsa.RSAPrivateKey] | None:
    """(kid, private key) to sign with, or None when there is no key yet.

    The active key, once every process can be publishing it: each process caches the JWKS for up to
    DIRECTORY_CACHE_SECONDS, so for that long after a rotation another worker may still serve a key set
    without the new kid, and a resource server that refetches on the unknown kid could get (and cache)
    that one. Until then tokens are signed with the key it replaced, which every JWKS still lists.
    """
    rows = directory.get(("signing_keys",), _signing_candidates)
    if not rows:
        return None
    kid, encrypted, created_at, _ = rows[0]
    window = settings.DIRECTORY_CACHE_SECONDS
    if window > 0 and timezone.now() - created_at < timedelta(seconds=window + 1):
        previous = next((row for row in rows[1:] if not row[3]), None)
        if previous is not None:
            kid, encrypted = previous[0], previous[1]
    return kid, _load_private_key(kid, encrypted)


def _signing_candidates() -> tuple[tuple[str, str, datetime, bool], ...] | None:
    """The active key first, then the retired ones still published, newest first; None if no key."""
    active = list(SigningKey.objects.filter(active=True).values_list("kid", "private_key_encrypted", "created_at",
                                                                      "active")[:1])
    if not active:
        return None
    retired = SigningKey.objects.filter(active=False, published_until__gt=timezone.now()).order_by("-retired_at")
    return tuple(active + list(retired.values_list("kid", "private_key_encrypted", "created_at", "active")[:1]))
