"""A local certificate authority and a server certificate for `make run-tls` (development only).

MSAL Python accepts only an https authority, so a developer needs TLS on their own machine. This makes
what `openssl` would, with the `cryptography` package Trustframe already depends on:

    ca.pem          the CA certificate: what clients trust (`curl --cacert`, requests' `verify=`)
    ca-key.pem      the CA's private key (0600)
    server.pem      the server certificate for localhost, 127.0.0.1 and ::1, signed by the CA
    server-key.pem  its private key (0600, PKCS#8: granian reads no other format)

The CA is kept for as long as it is valid and is never replaced unless asked (`new_ca=True`): a
developer may have told their browser or system to trust it. The CA may only vouch for loopback names
(a critical name constraint), so trusting it, or losing its key, exposes nothing but this machine's
loopback. The server certificate is renewed freely: nobody trusts it directly.
"""

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.exceptions import ValidationError

DNS_NAMES = ("localhost",)
IP_ADDRESSES = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
CA_VALIDITY = datetime.timedelta(days=3650)
SERVER_VALIDITY = datetime.timedelta(days=365)
# A server certificate this close to its end is renewed; a CA this close to its end is reported.
RENEW_BEFORE = datetime.timedelta(days=30)
BACKDATE = datetime.timedelta(minutes=5)  # tolerate a client clock slightly behind

CA_FILE, CA_KEY_FILE, CERT_FILE, KEY_FILE = "ca.pem", "ca-key.pem", "server.pem", "server-key.pem"
PrivateKey = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class LocalTls:
    directory: Path
    ca_created: bool
    server_created: bool
    ca_not_after: datetime.datetime
    server_not_after: datetime.datetime
    ca_sha256: str

    @property
    def ca_file(self) -> Path:
        return self.directory / CA_FILE

    @property
    def cert_file(self) -> Path:
        return self.directory / CERT_FILE

    @property
    def key_file(self) -> Path:
        return self.directory / KEY_FILE

    @property
    def names(self) -> list[str]:
        return [*DNS_NAMES, *(str(ip) for ip in IP_ADDRESSES)]


def local_tls_ensure(directory: Path, *, new_ca: bool = False, now: datetime.datetime | None = None) -> LocalTls:
    """The CA and server certificate in `directory`: reused while valid, made when missing (see module doc).

    ValidationError when the CA there cannot be used (expired, unreadable, key missing): it is never
    replaced silently; `new_ca=True` replaces it.
    """
    now = now or datetime.datetime.now(datetime.UTC)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_created = new_ca or not ((directory / CA_FILE).exists() or (directory / CA_KEY_FILE).exists())
    if ca_created:
        ca_key = _new_key()
        ca_cert = _ca_certificate(ca_key, now)
        _write(directory / CA_KEY_FILE, _key_pem(ca_key), private=True)
        _write(directory / CA_FILE, ca_cert.public_bytes(serialization.Encoding.PEM))
    else:
        ca_cert, ca_key = _existing_ca(directory, now)
    server_cert = None if ca_created else _reusable_server_certificate(directory, ca_cert, now)
    server_created = server_cert is None
    if server_cert is None:
        server_key = _new_key()
        server_cert = _server_certificate(server_key, ca_cert, ca_key, now)
        _write(directory / KEY_FILE, _key_pem(server_key), private=True)
        _write(directory / CERT_FILE, server_cert.public_bytes(serialization.Encoding.PEM))
    return LocalTls(
        directory=directory, ca_created=ca_created, server_created=server_created,
        ca_not_after=ca_cert.not_valid_after_utc, server_not_after=server_cert.not_valid_after_utc,
        ca_sha256=ca_cert.fingerprint(hashes.SHA256()).hex(":").upper(),
    )


def _existing_ca(directory: Path, now: datetime.datetime) -> tuple[x509.Certificate, PrivateKey]:
    """The CA on disk, if it can still sign; otherwise a ValidationError that says how to replace it."""
    replace = f"run `manage.py localtls --new-ca` to replace it (then trust the new {directory / CA_FILE})"
    try:
        ca_cert = x509.load_pem_x509_certificate((directory / CA_FILE).read_bytes())
        ca_key = serialization.load_pem_private_key((directory / CA_KEY_FILE).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ValidationError(f"The local CA in {directory} cannot be read ({_reason(exc)}): {replace}.") from None
    if not isinstance(ca_key, PrivateKey) or ca_key.public_key() != ca_cert.public_key():
        raise ValidationError(f"The local CA's key in {directory} does not match {CA_FILE}: {replace}.")
    if ca_cert.not_valid_after_utc - RENEW_BEFORE <= now:
        raise ValidationError(f"The local CA in {directory} expires on {ca_cert.not_valid_after_utc:%Y-%m-%d}: "
                              f"{replace}.")
    return ca_cert, ca_key


def _reusable_server_certificate(directory: Path, ca_cert: x509.Certificate,
                                 now: datetime.datetime) -> x509.Certificate | None:
    """The server certificate on disk if it is this CA's, for our names, with its key, and not near its end."""
    try:
        cert = x509.load_pem_x509_certificate((directory / CERT_FILE).read_bytes())
        key = serialization.load_pem_private_key((directory / KEY_FILE).read_bytes(), password=None)
        cert.verify_directly_issued_by(ca_cert)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return None
    covered = set(names.get_values_for_type(x509.DNSName)) >= set(DNS_NAMES) and set(
        names.get_values_for_type(x509.IPAddress)) >= set(IP_ADDRESSES)
    fresh = cert.not_valid_before_utc <= now < cert.not_valid_after_utc - RENEW_BEFORE
    return cert if covered and fresh and key.public_key() == cert.public_key() else None


def _new_key() -> PrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _ca_certificate(key: PrivateKey, now: datetime.datetime) -> x509.Certificate:
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Trustframe development"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"Trustframe local CA {now:%Y-%m-%d %H:%M:%S}"),
    ])
    # Loopback only: RFC 5280 §4.2.1.10 (a DNS constraint also admits subdomains, *.localhost).
    loopback = x509.NameConstraints(permitted_subtrees=[
        *(x509.DNSName(dns) for dns in DNS_NAMES),
        x509.IPAddress(ipaddress.ip_network("127.0.0.0/8")), x509.IPAddress(ipaddress.ip_network("::1/128")),
    ], excluded_subtrees=None)
    return (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE).not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(loopback, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _server_certificate(key: PrivateKey, ca_cert: x509.Certificate, ca_key: PrivateKey,
                        now: datetime.datetime) -> x509.Certificate:
    not_after = min(now + SERVER_VALIDITY, ca_cert.not_valid_after_utc)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DNS_NAMES[0])]))
        .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE).not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([
            *(x509.DNSName(dns) for dns in DNS_NAMES), *(x509.IPAddress(ip) for ip in IP_ADDRESSES),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write through a temporary file and a rename, so a reader never sees half a file; keys 0600 from the
    start (the mode is set at creation, never widened then narrowed)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def _reason(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
