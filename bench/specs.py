"""The requests each scenario sends to each server (stdlib only; shared by bench.py, mint.py, sqlcount.py).

A scenario is a `Req` (one fixed request) or a `Refresh` (a fixed body prefix; the refresh token is
appended per request, because refresh tokens rotate).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from urllib.parse import quote_plus, urlencode

SCENARIOS = ("cc_basic", "cc_post", "ropc", "refresh", "jwks", "discovery")
DEFAULT_SCENARIOS = ("cc_basic", "cc_post", "ropc", "refresh", "jwks")
NODE_RESOURCE = "https://api.bench.test"
NODE_SCOPE = "app.read app.write"
MINT_USERNAME = "bench-refresh"


@dataclass(frozen=True)
class Req:
    method: str
    path: str
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Refresh:
    path: str
    prefix: str  # the body up to and including "refresh_token="
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)

    def body(self, token: str) -> str:
        return self.prefix + quote_plus(token)


def basic(client_id: str, secret: str) -> dict[str, str]:
    """RFC 6749 §2.3.1: form-encode id and secret, then HTTP Basic."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def form(**params: str) -> str:
    return urlencode(params)


def trustframe(creds: dict) -> dict[str, Req | Refresh]:
    """Trustframe's demo tenant (manage.py demotenant --json): policy, native app, API, daemon, user."""
    base = f"/{creds['tenant']}/{creds['policy_id']}"
    token = f"{base}/oauth2/v2.0/token"
    native, daemon, secret = creds["native_client_id"], creds["daemon_client_id"], creds["daemon_client_secret"]
    cc_scope = f"{creds['api_app_id_uri']}/.default"
    ropc_scope = f"openid {native} offline_access"
    return {
        "cc_basic": Req("POST", token, form(grant_type="client_credentials", scope=cc_scope), basic(daemon, secret)),
        "cc_post": Req("POST", token, form(grant_type="client_credentials", client_id=daemon,
                                           client_secret=secret, scope=cc_scope)),
        "ropc": Req("POST", token, form(grant_type="password", client_id=native, username=creds["username"],
                                        password=creds["password"], scope=ropc_scope,
                                        response_type="token id_token")),
        # As MSAL redeems it: the same scopes as the sign-in; a new access, ID and refresh token.
        "refresh": Refresh(token, form(grant_type="refresh_token", client_id=native, scope=ropc_scope)
                           + "&refresh_token="),
        "jwks": Req("GET", f"{base}/discovery/v2.0/keys"),
        "discovery": Req("GET", f"{base}/v2.0/.well-known/openid-configuration"),
        # Not a scenario: how mint.py obtains the refresh-token pool (the cheap-hash mint user).
        "_mint": Req("POST", token, form(grant_type="password", client_id=native, username=MINT_USERNAME,
                                         password=creds.get("mint_password", ""), scope=ropc_scope,
                                         response_type="token id_token")),
    }


def dot(creds: dict) -> dict[str, Req | Refresh]:
    """django-oauth-toolkit's default token endpoint (/o/token/); no OIDC, so no discovery or JWKS."""
    token = "/o/token/"
    cc, secret, native = creds["cc_client_id"], creds["cc_client_secret"], creds["ropc_client_id"]
    return {
        "cc_basic": Req("POST", token, form(grant_type="client_credentials"), basic(cc, secret)),
        "cc_post": Req("POST", token, form(grant_type="client_credentials", client_id=cc, client_secret=secret)),
        "ropc": Req("POST", token, form(grant_type="password", client_id=native, username=creds["username"],
                                        password=creds["password"])),
        "refresh": Refresh(token, form(grant_type="refresh_token", client_id=native) + "&refresh_token="),
        "_mint": Req("POST", token, form(grant_type="password", client_id=native, username=MINT_USERNAME,
                                         password=creds.get("mint_password", ""))),
    }


def node(creds: dict) -> dict[str, Req | Refresh]:
    """node-oidc-provider (peers/node/server.mjs): client credentials, discovery and JWKS only."""
    return {
        **ceiling(creds),
        "jwks": Req("GET", "/jwks"),
        "discovery": Req("GET", "/.well-known/openid-configuration"),
    }


def ceiling(creds: dict) -> dict[str, Req | Refresh]:
    """Client credentials as node is asked them (clients bench-basic and bench-post, one secret); the bare
    signing app (peers/ceiling/app.py) is asked the very same."""
    secret = creds["secret"]
    return {
        "cc_basic": Req("POST", "/token", form(grant_type="client_credentials", scope=NODE_SCOPE),
                        basic("bench-basic", secret)),
        "cc_post": Req("POST", "/token", form(grant_type="client_credentials", client_id="bench-post",
                                              client_secret=secret, scope=NODE_SCOPE)),
    }


BUILDERS = {"trustframe": trustframe, "dot": dot, "node": node, "ceiling": ceiling}
