"""Key generation and encryption at rest: cryptography's RSA and Fernet, nothing hand-rolled."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from jwcrypto import jwk

RSA_KEY_SIZE = 2048
_HKDF_INFO = b"trustframe signing-key encryption v1"


class KeyDecryptionError(Exception):
    """The stored key cannot be decrypted with the configured IDENTITY_KEY_SECRET."""


def fernet_for(info: bytes) -> Fernet:
    """A Fernet key of its own for each purpose (`info`), derived from IDENTITY_KEY_SECRET with HKDF."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        settings.IDENTITY_KEY_SECRET.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _fernet() -> Fernet:
    return fernet_for(_HKDF_INFO)


def generate_rsa_private_key(key_size: int = RSA_KEY_SIZE) -> rsa.RSAPrivateKey:
    if key_size < RSA_KEY_SIZE:
        raise ValueError(f"RSA keys must have at least {RSA_KEY_SIZE} bits")
    return rsa.generate_private_key(public_exponent=65537, key_size=key_size)


def private_key_to_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def encrypt_private_pem(pem: bytes) -> str:
    return _fernet().encrypt(pem).decode("ascii")


def decrypt_private_pem(token: str) -> bytes:
    try:
        return _fernet().decrypt(token.encode("ascii"))
    except InvalidToken as exc:
        raise KeyDecryptionError("signing key cannot be decrypted: was IDENTITY_KEY_SECRET changed?") from exc


def public_jwk_for(key: rsa.RSAPrivateKey) -> tuple[str, dict]:
    """The kid (RFC 7638 thumbprint) and the public JWK as published in the JWKS."""
    public = jwk.JWK.from_pyca(key.public_key())
    kid = public.thumbprint(hashes.SHA256())
    data = public.export_public(as_dict=True)
    data.update(kid=kid, use="sig", alg="RS256")
    return kid, data


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]
