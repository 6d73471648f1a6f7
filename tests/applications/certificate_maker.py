"""Test certificates, keys and client assertions, made with `cryptography` and PyJWT.

    from tests.applications.certificate_maker import rsa_key, certificate, pem, assertion

Keys are made once per process (2048-bit RSA takes a while) and named, so tests share them.
"""

import base64
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


@cache
def rsa_key(name: str = "daemon", bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@cache
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def certificate(key=None, *, common_name: str = "daemon.contoso.test", days: int = 365,
                not_before: datetime | None = None, not_after: datetime | None = None) -> x509.Certificate:
    """A self-signed certificate for `key` (default: the "daemon" RSA key), valid from an hour ago."""
    key = key or rsa_key()
    start = not_before or datetime.now(UTC) - timedelta(hours=1)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start)
        .not_valid_after(not_after or start + timedelta(days=days)).sign(key, hashes.SHA256())
    )


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def private_pem(key, fmt=serialization.PrivateFormat.PKCS8) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def sha1_hex(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - x5t is SHA-1 by definition


def sha256_hex(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex().upper()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def assertion(cert: x509.Certificate, *, client_id: str, aud: str, key=None, alg: str = "RS256",
              thumbprint: str = "x5t", lifetime: int = 600, headers: dict | None = None, **claims) -> str:
    """A client assertion as MSAL signs one: `x5t` (SHA-1) with RS256, or `x5t#S256` with PS256.

    `claims` override or add claims; a claim given as None is left out.
    """
    now = int(time.time())
    payload = {"aud": aud, "iss": client_id, "sub": client_id, "jti": str(uuid.uuid4()), "iat": now,
               "nbf": now, "exp": now + lifetime}
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    digest = hashes.SHA1() if thumbprint == "x5t" else hashes.SHA256()  # noqa: S303 - x5t is SHA-1
    header = {thumbprint: b64url(cert.fingerprint(digest)), **(headers or {})}
    return jwt.encode(payload, key or rsa_key(), algorithm=alg, headers=header)
