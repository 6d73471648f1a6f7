"""Certificate credentials of app registrations: the writes (services) and reads (selectors).

An admin uploads the *public* certificate (PEM or DER: .cer, .crt, .pem) whose private key signs the
client's `private_key_jwt` assertions (RFC 7523 §2.2, OIDC Core §9), as in Entra's "Certificates &
secrets" → Certificates. The token endpoint verifies those assertions (identity/oauth/client_assertion.py)
against the certificates read through the directory cache (applications/client_auth.py).
"""

import re
import uuid
from datetime import UTC

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from applications.models import Application, ClientCertificate
from audit.services import Actor, audit_record

MIN_RSA_BITS = 2048
# A certificate is a few KiB; anything much larger is not one (and is not read further).
MAX_CERTIFICATE_BYTES = 64 * 1024
PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----\s+([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----")
# PKCS#12 (.pfx/.p12) begins SEQUENCE { INTEGER 3, SEQUENCE { OID pkcs7-data | pkcs7-signedData ...
PKCS12_VERSION = b"\x02\x01\x03"
PKCS7_OID_PREFIX = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07"

PRIVATE_KEY_REFUSED = (
    "This file contains a private key, and was not stored. Upload only the public certificate "
    "(.cer, .crt or .pem, '-----BEGIN CERTIFICATE-----'); the private key stays with the client that signs. "
    "If this key was copied anywhere it should not be, make a new key pair."
)


def certificate_load(data: bytes | str) -> x509.Certificate:
    """The one X.509 certificate in `data` (PEM or DER); ValidationError for anything else.

    A private key in any form (a PEM PRIVATE KEY block, DER PKCS#8, a .pfx/.p12) is refused outright.
    """
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_CERTIFICATE_BYTES:
        raise ValidationError(f"The file is larger than {MAX_CERTIFICATE_BYTES // 1024} KiB: not a certificate.")
    if b"PRIVATE KEY-----" in raw or _is_binary_private_key(raw):
        raise ValidationError(PRIVATE_KEY_REFUSED, code="private_key")
    if b"-----BEGIN" in raw:
        blocks = PEM_CERTIFICATE.findall(raw)
        if len(blocks) != 1:
            raise ValidationError(
                "The file holds no PEM certificate." if not blocks else
                f"The file holds {len(blocks)} certificates; upload the client's own certificate alone, not a chain."
            )
        loader, raw = x509.load_pem_x509_certificate, PEM_CERTIFICATE.search(raw).group(0)
    else:
        loader = x509.load_der_x509_certificate
    try:
        return loader(raw)
    except ValueError:
        raise ValidationError("The file is not an X.509 certificate (PEM or DER: .cer, .crt, .pem).") from None


def _is_binary_private_key(raw: bytes) -> bool:
    """DER PKCS#8/PKCS#1 keys (encrypted ones too) and PKCS#12 files."""
    try:
        serialization.load_der_private_key(raw, password=None)
        return True
    except TypeError:  # an encrypted key, asking for its password
        return True
    except ValueError:
        pass
    # An encrypted .pfx cannot be opened without its password: recognised by its first fields instead.
    looks_like_pkcs12 = raw[:1] == b"\x30" and PKCS12_VERSION in raw[2:8] and PKCS7_OID_PREFIX in raw[5:24]
    return looks_like_pkcs12 or _pkcs12_opens(raw)


def _pkcs12_opens(raw: bytes) -> bool:
    try:
        pkcs12.load_key_and_certificates(raw, password=None)
        return True
    except ValueError:
        return False


def _hex(digest: bytes) -> str:
    return digest.hex().upper()


@transaction.atomic
def client_certificate_add(
    *, application: Application, certificate: bytes | str, actor: Actor, description: str = ""
) -> ClientCertificate:
    """Register a public certificate on a confidential app; its key may then sign client assertions.

    Refused: public clients, private keys (never stored), non-certificates, expired certificates,
    non-RSA keys and RSA keys under 2048 bits (assertions are RS256 or PS256), a certificate already on the app.
    """
    if application.is_public:
        raise ValidationError(f"'{application.name}' is a public client; public clients do not use certificates "
                              "or secrets (AADSTS700025).")
    cert = certificate_load(certificate)
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValidationError("The certificate's key is not RSA; client assertions are signed RS256 or PS256.")
    if key.key_size < MIN_RSA_BITS:
        raise ValidationError(
            f"The certificate's RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} are required."
        )
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    if not_after <= timezone.now():
        raise ValidationError(f"The certificate expired on {not_after.astimezone(UTC).isoformat()}.")
    if not_after <= not_before:
        raise ValidationError("The certificate's validity period is empty.")
    sha256 = _hex(cert.fingerprint(hashes.SHA256()))
    if application.certificates.filter(thumbprint_sha256=sha256).exists():
        raise ValidationError("This certificate is already registered on the app.")
    row = ClientCertificate(
        application=application, description=description.strip()[:256],
        certificate=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        thumbprint_sha1=_hex(cert.fingerprint(hashes.SHA1())),  # noqa: S303 - Entra's x5t is SHA-1 by definition
        thumbprint_sha256=sha256, subject=cert.subject.rfc4514_string()[:512],
        not_before=not_before, not_after=not_after,
    )
    row.save()
    audit_record(actor=actor, action="client_certificate.add", target=application, details=_details(row))
    return row


@transaction.atomic
def client_certificate_remove(*, certificate: ClientCertificate, actor: Actor) -> None:
    """Remove a certificate: assertions it signs stop working within DIRECTORY_CACHE_SECONDS."""
    audit_record(actor=actor, action="client_certificate.remove", target=certificate.application,
                 details=_details(certificate))
    certificate.delete()


def _details(row: ClientCertificate) -> dict:
    return {"certificate_id": str(row.key_id), "thumbprint": row.thumbprint_sha1, "subject": row.subject,
            "expires_at": row.not_after.astimezone(UTC).isoformat()}


# --- selectors ---------------------------------------------------------------------------------------


def client_certificates_of(application: Application) -> QuerySet[ClientCertificate]:
    """The app's certificates, newest first."""
    return application.certificates.order_by("-created_at")


def client_certificate_get(*, application: Application, identifier: str) -> ClientCertificate:
    """One of the app's certificates by its id (keyId), or its SHA-1 or SHA-256 thumbprint (hex, colons allowed)."""
    value = identifier.strip()
    query = Q(pk__in=[])
    try:
        query = Q(key_id=uuid.UUID(value))
    except ValueError:
        thumbprint = value.replace(":", "").upper()
        if re.fullmatch(r"[0-9A-F]{40}|[0-9A-F]{64}", thumbprint):
            query = Q(thumbprint_sha1=thumbprint) | Q(thumbprint_sha256=thumbprint)
    found = application.certificates.filter(query).first()
    if found is None:
        raise ValidationError(f"'{application.name}' has no certificate '{identifier}' (give its id or thumbprint).",
                              code="unknown_certificate")
    return found
