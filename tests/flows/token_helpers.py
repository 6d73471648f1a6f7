"""Shared helpers for token-endpoint flow tests: post a form to the token endpoint, verify a JWT.

Plain functions (and a few fixtures) that any flow test may import:

    from tests.flows.token_helpers import post_token, verify_jwt, token_url, b64url_json
"""

import base64
import json
import time
from urllib.parse import urlencode

import jwt
import pytest

from identity.discovery import issuer_for
from policies.models import Policy

TENANT = "contoso.onmicrosoft.com"
FORM = "application/x-www-form-urlencoded"
ROPC_POLICY = "B2C_1_ROPC_Auth"
# Tolerance for clocks: the test and the server run in the same process, so a few seconds is plenty.
LEEWAY = 5


def token_url(policy: str = ROPC_POLICY, *, shape: str = "path", tenant: str = TENANT) -> str:
    """The token endpoint for `policy` in one of its URL shapes.

    shape: "path" → /{tenant}/{policy}/oauth2/v2.0/token; "query" → /{tenant}/oauth2/v2.0/token?p={policy};
    "bare" → /{tenant}/oauth2/v2.0/token?{policy} (the B2C ROPC document's example request).
    """
    if shape == "path":
        return f"/{tenant}/{policy}/oauth2/v2.0/token"
    if shape in ("query", "p"):
        return f"/{tenant}/oauth2/v2.0/token?p={policy}"
    if shape == "bare":
        return f"/{tenant}/oauth2/v2.0/token?{policy}"
    raise ValueError(f"unknown URL shape {shape!r}")


def jwks_url(policy: str = ROPC_POLICY, *, tenant: str = TENANT) -> str:
    return f"/{tenant}/{policy}/discovery/v2.0/keys"


def post_token(client, data, *, policy: str = ROPC_POLICY, headers: dict | None = None, shape: str = "path"):
    """POST `data` form-encoded to the token endpoint; returns the Django test response.

    `data` may be a dict or a list of pairs (to repeat a parameter). `headers` are WSGI META keys
    (e.g. {"HTTP_AUTHORIZATION": "Basic ..."}).
    """
    return client.post(token_url(policy, shape=shape), urlencode(data), content_type=FORM, **(headers or {}))


def basic_auth(client_id: str, secret: str) -> dict:
    """HTTP Basic per RFC 6749 §2.3.1: id and secret form-encoded, then base64."""
    from urllib.parse import quote_plus

    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(raw).decode()}


def b64url_json(value: str) -> dict:
    """Decode a base64url (padding optional) JSON object such as profile_info or client_info."""
    padded = value + "=" * (-len(value) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode()))


def fetch_jwks(client, policy: str = ROPC_POLICY) -> dict:
    response = client.get(jwks_url(policy))
    assert response.status_code == 200, response.content
    return response.json()


def _policy_object(policy) -> Policy:
    if isinstance(policy, Policy):
        return policy
    return Policy.objects.get(policy_id__iexact=policy)


def verify_jwt(client, token: str, *, policy, audience: str) -> dict:
    """Verify `token` against the JWKS published over HTTP and return its claims.

    Checks: RS256 header with a `kid` found in the JWKS; signature; `iss` == issuer_for(policy);
    `aud` == audience; `exp` in the future; `nbf` and `iat` present and not in the future.
    """
    policy_obj = _policy_object(policy)
    header = jwt.get_unverified_header(token)
    assert header.get("alg") == "RS256", header
    assert header.get("kid"), header
    keyset = jwt.PyJWKSet.from_dict(fetch_jwks(client, policy_obj.policy_id))
    kids = [key.key_id for key in keyset.keys]
    assert header["kid"] in kids, (header["kid"], kids)
    key = next(key for key in keyset.keys if key.key_id == header["kid"])
    claims = jwt.decode(
        token,
        key=key.key,
        algorithms=["RS256"],
        audience=audience,
        issuer=issuer_for(policy_obj),
        leeway=LEEWAY,
        options={"require": ["exp", "iat", "nbf", "iss", "aud"], "verify_signature": True},
    )
    now = time.time()
    assert claims["exp"] > now, claims
    assert claims["nbf"] <= now + LEEWAY, claims
    assert claims["iat"] <= now + LEEWAY, claims
    assert claims["nbf"] <= claims["exp"] and claims["iat"] <= claims["exp"], claims
    assert claims["iat"] > now - 3600, claims  # freshly minted
    return claims


def ropc_data(client_id: str, *, username: str = "alice", password: str | None = None,
              scope: str | None = None, **extra) -> dict:
    """A password-grant body in the seed's shape: openid {client_id} offline_access, token id_token."""
    from tests.conftest import DEMO_PASSWORD

    data = {
        "grant_type": "password",
        "username": username,
        "password": DEMO_PASSWORD if password is None else password,
        "client_id": client_id,
        "scope": f"openid {client_id} offline_access" if scope is None else scope,
        "response_type": "token id_token",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def sign_in(client, app, *, policy: str = ROPC_POLICY, **kwargs) -> dict:
    """Run a successful ROPC request and return its JSON body (fails the test otherwise)."""
    response = post_token(client, ropc_data(str(app.client_id), **kwargs), policy=policy)
    assert response.status_code == 200, response.content
    return response.json()


def refresh_data(client_id: str, refresh_token: str, **extra) -> dict:
    """The seed's refresh request: grant_type, response_type=id_token, client_id, resource, refresh_token."""
    data = {
        "grant_type": "refresh_token",
        "response_type": "id_token",
        "client_id": client_id,
        "resource": client_id,
        "refresh_token": refresh_token,
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def assert_error(response, status: int, error: str, code: str | None = None, *, contains: str | None = None) -> dict:
    """Assert a JSON error response; returns the body."""
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == error, body
    if code is not None:
        assert body["error_description"].startswith(code + ":"), body
    if contains is not None:
        assert contains in body["error_description"], body
    return body


@pytest.fixture
def ropc_setup(db, user, policy, native_app):
    """Signing key + user + ROPC policy + public ROPC app: the smallest world a password grant succeeds in."""
    from identity.keys.services import signing_key_rotate
    from tests.conftest import ACTOR

    signing_key_rotate(actor=ACTOR)
    return {"user": user, "policy": policy, "app": native_app}
