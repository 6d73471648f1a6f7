"""Minting tokens (SPEC §3): RS256 JWTs signed with the active database key, and the B2C response fields.

Access tokens are not stored anywhere: they are self-contained JWTs.
"""

import base64
import json
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import jwt

from applications.models import Application
from identity.discovery import issuer_for
from identity.keys.selectors import active_signing_key
from identity.keys.services import signing_key_ensure_once
from identity.oauth import errors
from identity.tenant import tenant_id
from policies.models import Policy

VERSION = "1.0"


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    """RFC 9562 UUID version 7: 48 bits of Unix milliseconds, then random bits."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    random_bits = int.from_bytes(secrets.token_bytes(10), "big")
    value = (ms & (2**48 - 1)) << 80 | 0x7 << 76 | (random_bits >> 68 & 0xFFF) << 64 | 0b10 << 62
    return uuid.UUID(int=value | random_bits & (2**62 - 1))


def issued_at_ms(claims: Mapping[str, Any]) -> int:
    """When a token of ours was issued, to the millisecond: from its UUIDv7 jti when it agrees with iat."""
    iat_ms = int(claims.get("iat", 0)) * 1000
    try:
        jti = uuid.UUID(str(claims.get("jti", "")))
    except ValueError:
        return iat_ms
    ms = jti.int >> 80
    return ms if jti.version == 7 and iat_ms <= ms < iat_ms + 1000 else iat_ms


def b64url_json(value: Mapping[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def sign(claims: Mapping[str, Any]) -> str:
    key = active_signing_key()
    if key is None:  # a fresh deployment: the first token creates the first key
        signing_key_ensure_once(actor="system (first token request)")
        key = active_signing_key()
    if key is None:
        raise errors.TemporarilyUnavailable("No signing key could be created; run `manage.py rotatekeys`.")
    kid, private_key = key
    return jwt.encode(dict(claims), private_key, algorithm="RS256", headers={"kid": kid, "typ": "JWT"})


def _common(policy: Policy, *, aud: str, now: float, lifetime: int) -> dict[str, Any]:
    """`now` is the issue instant as a Unix time with its fraction: whole seconds go in iat/nbf/exp,
    milliseconds in the jti."""
    issued = int(now)
    claims: dict[str, Any] = {
        "iss": issuer_for(policy), "exp": issued + lifetime, "nbf": issued, "aud": aud, "iat": issued,
        "ver": VERSION,
        "tid": str(tenant_id()),
        # A unique id (RFC 9068 §2.2), time-ordered (UUIDv7): it also carries the issue time in
        # milliseconds, which `iat` (whole seconds) cannot; introspection needs it (issued_at_ms).
        "jti": str(uuid7(int(now * 1000))),
    }
    # tfp (or acr, the legacy choice) carries the policy id in lower case, as B2C does.
    claims[policy.policy_claim] = policy.policy_id.lower()
    return claims


def app_access_token(
    policy: Policy, *, client: Application, api: Application, roles: list[str], now: float
) -> str:
    """Client credentials (SPEC §3): aud = API, azp = client, sub = oid = the client's service principal."""
    principal = str(client.service_principal_id)
    claims = _common(policy, aud=api.client_id, now=now, lifetime=policy.access_token_lifetime_minutes * 60)
    claims.update(sub=principal, oid=principal, azp=client.client_id, scp=" ".join(roles), roles=roles)
    return sign(claims)


def user_access_token(
    policy: Policy, *, client: Application, resource: Application, subject: str, object_id: str,
    scopes: Iterable[str], now: float, auth_time: int | None, roles: Sequence[str] = (),
) -> str:
    """User access token (SPEC §3): aud = the resource, `roles` = the app roles assigned to the user on it."""
    claims = _common(policy, aud=resource.client_id, now=now, lifetime=policy.access_token_lifetime_minutes * 60)
    claims.update(sub=subject, oid=object_id, azp=client.client_id)
    scp = " ".join(scopes)
    if scp:
        claims["scp"] = scp
    if roles:
        claims["roles"] = list(roles)
    if auth_time is not None:
        claims["auth_time"] = auth_time
    return sign(claims)


def id_token(
    policy: Policy, *, client: Application, subject: str, output_claims: Mapping[str, Any], now: float,
    auth_time: int | None, roles: Sequence[str] = (),
) -> str:
    """ID token (SPEC §3): aud = the client, sub per the policy, the policy's output claims, and (as Entra
    does) `roles` = the app roles assigned to the user on the client itself."""
    claims = _common(policy, aud=client.client_id, now=now, lifetime=policy.id_token_lifetime_minutes * 60)
    claims["sub"] = subject
    if auth_time is not None:
        claims["auth_time"] = auth_time
    claims.update(output_claims)
    if roles:
        claims["roles"] = list(roles)
    return sign(claims)


def profile_info(*, subject: str | None, name: str | None, preferred_username: str | None, idp: str) -> str:
    """B2C's `profile_info`: base64url JSON of ver, tid, sub, name, preferred_username, idp."""
    return b64url_json({
        "ver": VERSION, "tid": str(tenant_id()), "sub": subject, "name": name,
        "preferred_username": preferred_username, "idp": idp,
    })


def client_info(*, object_id: str, policy: Policy) -> str:
    """MSAL's `client_info` (asked with client_info=1): B2C's uid is `{oid}-{policy}`, utid the tenant id."""
    return b64url_json({"uid": f"{object_id}-{policy.policy_id.lower()}", "utid": str(tenant_id())})
