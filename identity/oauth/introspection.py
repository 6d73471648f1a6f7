"""RFC 7662 introspection of our tokens (SPEC §2, beyond B2C).

RFC 7662 §2.2: `active` means this authorization server considers the token valid now. In B2C's model
every policy (user flow) is an authority of its own — its own metadata, JWKS URL and, with the `tfp`
issuer pattern, its own issuer — and a refresh token is redeemed only at its own policy's endpoint
(AADB2C90088). So a token is active only when asked at **its own policy's** introspection endpoint, and
only while that policy is enabled (a disabled policy's endpoints answer 404, so its tokens are active
nowhere). Asked at another policy's endpoint, a token is `{"active": false}`, as a token of another
authorization server would be: a resource server that accepts several policies asks each token's own
(its `tfp`/`acr` claim names it).

An access token is active when, besides, its signature verifies against a published key, its issuer is
the one its policy gives (so a token minted before the policy's issuer setting changed is not), it has
not expired, its client is still registered and enabled, and — for a user's token — the user still
exists, is enabled and has not had sessions revoked since it was issued (the valid-from cutoff that
refresh enforces, applied here too). A refresh token is active exactly when redeeming it at this
endpoint would pass the same binding, expiry, window and account rules. Only the token's audience or
the client it was issued to may learn about it; anyone else is told "not active".
"""

import json
from datetime import UTC, datetime
from functools import lru_cache

import jwt

from accounts.selectors import directory_users
from applications.models import Application
from applications.refresh_tokens import expiry_error, refresh_token_find
from applications.selectors import application_find
from identity.discovery import issuer_for
from identity.keys.models import SigningKey
from identity.keys.selectors import published_keys
from identity.oauth.tokens import issued_at_ms
from policies.models import Policy
from policies.selectors import policy_find


@lru_cache(maxsize=16)
def _public_key(kid: str, jwk_json: str):
    return jwt.PyJWK.from_json(jwk_json).key


def _key_for(kid: str):
    key: SigningKey | None = next((k for k in published_keys() if k.kid == kid), None)
    if key is None:
        return None
    return _public_key(kid, json.dumps(key.public_jwk, sort_keys=True))


def access_token_claims(token: str) -> dict | None:
    """The claims of a valid access token we issued under a policy that is still enabled, or None."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = _key_for(kid) if isinstance(kid, str) else None
        if key is None:
            return None
        claims = jwt.decode(token, key, algorithms=["RS256"], options={
            "verify_aud": False, "require": ["exp", "iat", "iss", "aud"],
        })
    except jwt.PyJWTError:
        return None
    policy = policy_find(str(claims.get("tfp") or claims.get("acr") or ""))
    if policy is None or not policy.enabled or claims["iss"] != issuer_for(policy):
        return None
    return claims


def _minted_under(claims: dict, policy: Policy) -> bool:
    return str(claims.get("tfp") or claims.get("acr") or "").lower() == policy.policy_id.lower()


def _user_still_valid(object_id: str, issued_at_ms: int) -> bool:
    # Admin accounts are not directory users: no token of theirs is active.
    user = directory_users().filter(object_id=object_id).only("is_active", "refresh_tokens_valid_from").first()
    return bool(user and user.is_active and issued_at_ms > user.refresh_tokens_valid_from.timestamp() * 1000)


def access_token_introspect(token: str, client: Application, policy: Policy) -> dict | None:
    """The RFC 7662 fields of an active access token, asked at `policy`'s endpoint by `client`; else None."""
    claims = access_token_claims(token)
    if claims is None or not _minted_under(claims, policy):
        return None
    if client.client_id not in (claims.get("aud"), claims.get("azp")):
        return None
    issued_to = application_find(str(claims.get("azp", "")))
    if issued_to is None or not issued_to.enabled:
        return None
    # An app-only token's subject is its client's service principal; any other subject is a user, whose
    # token may carry `roles` too (app roles assigned to the user), so `roles` does not tell them apart.
    app_only = claims.get("oid") == str(issued_to.service_principal_id)
    if not app_only and not _user_still_valid(claims.get("oid", ""), issued_at_ms(claims)):
        return None
    return {
        "scope": claims.get("scp", ""), "client_id": claims.get("azp"), "token_type": "Bearer",
        "exp": claims["exp"], "iat": claims["iat"], "nbf": claims.get("nbf"), "sub": claims.get("sub"),
        "aud": claims["aud"], "iss": claims["iss"],
    }


def refresh_token_introspect(value: str, client: Application, policy: Policy) -> dict | None:
    """Active exactly when redeeming it at `policy`'s token endpoint would pass the same binding (client
    and policy), expiry, window and account rules."""
    token = refresh_token_find(value)
    now = datetime.now(UTC)
    if token is None or token.application_id != client.pk or token.revoked is not None or token.user is None:
        return None
    if token.policy_id != policy.pk or not token.policy.enabled or expiry_error(token, policy=token.policy, now=now):
        return None
    if token.user.is_staff or not token.user.is_active or token.created <= token.user.refresh_tokens_valid_from:
        return None
    return {
        "scope": token.scope, "client_id": client.client_id, "token_type": "refresh_token",
        "exp": int(token.expires_at.timestamp()) if token.expires_at else None, "iat": int(token.created.timestamp()),
        "sub": str(token.user.object_id),
    }


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2
