"""`private_key_jwt` client authentication (RFC 7523 §2.2 and §3, OIDC Core §9) as Entra accepts it
("certificate credentials"): a JWT the client signs with the private key of a certificate registered on
its app registration (applications/certificates.py), sent as `client_assertion` with
`client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`.

The assertion names its certificate by thumbprint in the header, `x5t` (base64url SHA-1 of the DER
certificate; MSAL with a "thumbprint") and/or `x5t#S256` (SHA-256; MSAL with a "public_certificate"),
is signed RS256 or PS256 (nothing else: never `none`, never an HMAC keyed with the public key), and
carries `aud` = this policy's token endpoint URL, `iss` = `sub` = the client id, `jti`, `exp` at most
MAX_LIFETIME_SECONDS ahead, optionally `nbf` and `iat`; all times with CLOCK_SKEW_SECONDS of tolerance.

Reuse of an assertion within its lifetime: accepted by default, as Entra accepts it and as MSAL relies
on (MSAL Python signs one assertion and sends it with every token request for 9 minutes). With
CLIENT_ASSERTION_SINGLE_USE each `jti` is accepted once (OIDC Core §9's "MUST only be used once"),
remembered in the Django cache until the assertion could no longer be accepted anyway; when the cache
cannot answer, the request is refused with 503 rather than let a possible replay through unchecked.
"""

import base64
import binascii
import hashlib
import time

import jwt
from django.conf import settings
from django.core.cache import cache

from applications.client_auth import CertificateKey, client_certificate_keys
from applications.models import Application
from identity import cache_guard
from identity.discovery import CLIENT_ASSERTION_ALGORITHMS, token_endpoint_url
from identity.oauth import errors
from identity.tenant import tenant_id, tenant_name
from policies.models import Policy

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = CLIENT_ASSERTION_ALGORITHMS
MAX_LIFETIME_SECONDS = 600  # Entra's documentation: "keep it short - 5-10 minutes"; MSAL signs for 10
CLOCK_SKEW_SECONDS = 60
REQUIRED_CLAIMS = ["exp", "iss", "sub", "aud", "jti"]


def token_endpoint_audiences(policy: Policy) -> frozenset[str]:
    """The `aud` values accepted for this policy, compared exactly: its token endpoint URL in both shapes of
    SPEC §2 (`/{tenant}/{policy}/oauth2/v2.0/token` and `/{tenant}/oauth2/v2.0/token?p={policy}`), with the
    tenant's name or id and the policy id as discovery writes it (lower case) or as registered."""
    advertised = token_endpoint_url(policy)
    base = settings.IDENTITY_BASE_URL.rstrip("/")
    urls = {advertised}
    for tenant in (tenant_name(), str(tenant_id())):
        for policy_id in (policy.policy_id.lower(), policy.policy_id):
            urls.add(f"{base}/{tenant}/{policy_id}/oauth2/v2.0/token")
            urls.add(f"{base}/{tenant}/oauth2/v2.0/token?p={policy_id}")
    return frozenset(urls)


def assertion_client_id(assertion: str) -> str:
    """The client id an assertion claims (`sub`, else `iss`), unverified: for a request without client_id
    (RFC 7523 §3 lets the assertion identify the client). The signature check comes after, with that app's keys."""
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise errors.assertion_malformed("The client_assertion is not a JWT.") from None
    client_id = claims.get("sub") or claims.get("iss")
    if not isinstance(client_id, str) or not client_id:
        raise errors.assertion_malformed("Neither the request's client_id nor the assertion's sub names the client.")
    return client_id


def client_assertion_verify(*, application: Application, assertion: str, policy: Policy) -> None:
    """Return if `assertion` authenticates `application` at `policy`'s token endpoint; else raise invalid_client."""
    header = _header(assertion)
    key = _certificate(application, header)
    now = time.time()
    if now < key.not_before.timestamp():
        raise errors.assertion_invalid_signature("The key is not yet valid.")
    if now >= key.not_after.timestamp():
        raise errors.assertion_invalid_signature("The key used is expired.")
    claims = _decode(assertion, key, header["alg"])
    client_id = application.client_id.lower()
    if not all(isinstance(claims[name], str) and claims[name].lower() == client_id for name in ("iss", "sub")):
        raise errors.assertion_wrong_client()
    if not (isinstance(claims["aud"], str) and claims["aud"] in token_endpoint_audiences(policy)):
        raise errors.assertion_wrong_audience(token_endpoint_url(policy))
    expires = int(claims["exp"])  # PyJWT has checked it is one
    if expires > now + MAX_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS:
        raise errors.assertion_time_range(f"Its exp is more than {MAX_LIFETIME_SECONDS // 60} minutes ahead; "
                                          "keep client assertions short-lived.")
    if not isinstance(claims["jti"], str) or not claims["jti"]:
        raise errors.assertion_malformed("The client assertion's jti is empty.")
    if settings.CLIENT_ASSERTION_SINGLE_USE:
        _use_once(client_id, claims["jti"], seconds=expires - now + CLOCK_SKEW_SECONDS)


def _header(assertion: str) -> dict:
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        raise errors.assertion_malformed("The client_assertion is not a JWT.") from None
    if header.get("alg") not in ALGORITHMS:
        raise errors.assertion_malformed(f"The client assertion must be signed with {' or '.join(ALGORITHMS)} "
                                         "using the certificate's private key.")
    return header


def _thumbprint(header: dict, name: str, size: int) -> bytes | None:
    value = header.get(name)
    if value is None:
        return None
    try:
        digest = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)) if isinstance(value, str) else b""
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != size:
        raise errors.assertion_malformed(f"The header's {name} is not a base64url {size * 8}-bit thumbprint.")
    return digest


def _certificate(application: Application, header: dict) -> CertificateKey:
    """The app's certificate every thumbprint in the header names."""
    sha256, sha1 = _thumbprint(header, "x5t#S256", 32), _thumbprint(header, "x5t", 20)
    if sha256 is None and sha1 is None:
        raise errors.assertion_malformed("No certificate thumbprint (x5t or x5t#S256) specified in token header.")
    for key in client_certificate_keys(application):
        if sha256 in (None, key.sha256) and sha1 in (None, key.sha1):
            return key
    raise errors.assertion_key_not_found((sha1 or sha256).hex().upper())


def _decode(assertion: str, key: CertificateKey, algorithm: str) -> dict:
    try:
        return jwt.decode(assertion, key.public_key, algorithms=[algorithm], leeway=CLOCK_SKEW_SECONDS, options={
            "require": REQUIRED_CLAIMS, "verify_aud": False, "verify_iss": False,
        })
    except jwt.InvalidSignatureError:
        raise errors.assertion_invalid_signature(
            "The provided signature value did not match the expected signature value.") from None
    except jwt.ExpiredSignatureError:
        raise errors.assertion_time_range("It has expired (exp).") from None
    except jwt.ImmatureSignatureError:
        raise errors.assertion_time_range("It is not valid yet (nbf or iat in the future).") from None
    except jwt.MissingRequiredClaimError as exc:
        raise errors.assertion_malformed(f"The client assertion has no '{exc.claim}' claim.") from None
    except jwt.PyJWTError:
        raise errors.assertion_malformed("The client assertion's claims are not valid.") from None


def _use_once(client_id: str, jti: str, *, seconds: float) -> None:
    """Remember the jti until the assertion would be refused anyway; a second use is a replay."""
    key = "client_assertion_jti:" + hashlib.sha256(f"{client_id}\x00{jti}".encode()).hexdigest()
    added = cache_guard.cache_call(cache.add, key, 1, timeout=max(1, int(seconds) + 1), default=None)
    if added is None:  # the cache did not answer: the replay check cannot be made
        raise errors.TemporarilyUnavailable("The client assertion cannot be checked for reuse at the moment.")
    if not added:
        raise errors.assertion_replayed()
