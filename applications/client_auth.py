"""Client authentication against the app's credentials (SPEC §4.3): any unexpired secret may match;
any registered certificate may have signed a client assertion.

Both come from the directory cache (identity/directory_cache.py), so a token request reads no credential
from the database in steady state: a removed secret or certificate stops working within
DIRECTORY_CACHE_SECONDS; an expired one at once.
"""

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from django.contrib.auth.hashers import check_password
from django.utils import timezone

from applications.models import Application
from identity.directory_cache import directory


def client_secret_matches(*, application: Application, secret: str) -> bool:
    """True when `secret` is one of the app's unexpired secrets. Several may be valid at once (rotation)."""
    stored = directory.get(("secrets", application.pk),
                           lambda: tuple(application.secrets.values_list("secret_hash", "expires_at")))
    now = timezone.now()
    # Checked against every candidate, so the time taken does not say which one matched.
    return sum(check_password(secret, encoded) for encoded, expires_at in stored if expires_at > now) > 0


@dataclass(frozen=True)
class CertificateKey:
    """A registered certificate as the token endpoint needs it: thumbprints, validity, the parsed public key."""

    key_id: str
    sha1: bytes
    sha256: bytes
    not_before: datetime
    not_after: datetime
    public_key: RSAPublicKey  # immutable, so shared between threads


def client_certificate_keys(application: Application) -> tuple[CertificateKey, ...]:
    """The app's certificates, parsed once per directory-cache load rather than once per request."""
    def load() -> tuple[CertificateKey, ...]:
        rows = application.certificates.values_list(
            "key_id", "thumbprint_sha1", "thumbprint_sha256", "not_before", "not_after", "certificate")
        return tuple(
            CertificateKey(str(key_id), bytes.fromhex(sha1), bytes.fromhex(sha256), not_before, not_after,
                           x509.load_pem_x509_certificate(pem.encode("ascii")).public_key())
            for key_id, sha1, sha256, not_before, not_after, pem in rows
        )

    return directory.get(("certificates", application.pk), load)
