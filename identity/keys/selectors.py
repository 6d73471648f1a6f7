"""Reading keys: the JWKS to publish, and the active key to sign with."""

from datetime import datetime
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
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
    """(kid, private key) of the active key, or None when there is none yet."""
    row = directory.get(("active_signing_key",), lambda: (
        SigningKey.objects.filter(active=True).values_list("kid", "private_key_encrypted").first()
    ))
    if row is None:
        return None
    return row[0], _load_private_key(*row)
