"""The issuer, the endpoint URLs and the OIDC discovery document of a policy (SPEC §2, §3).

Every URL starts with settings.IDENTITY_BASE_URL, never with the request's Host header: a client
that reaches us through another name (or an attacker's Host header) must still be told our public
origin. Like B2C's metadata, the paths use the tenant *name* and the policy id in lower case.

The document advertises only endpoints that answer (SPEC §9: "until then discovery advertises only what
is served"). `authorization_endpoint` stays although interactive sign-in is a later milestone: OIDC
Discovery §3 marks it REQUIRED and MSAL Python reads it unconditionally (msal/authority.py,
`openid_config['authorization_endpoint']`: a KeyError without it), so it names a real endpoint that says
interactive sign-in is not available (identity/views/authorize.py). `end_session_endpoint` (optional,
OIDC RP-Initiated Logout) and `response_modes_supported` (optional, about authorization responses) are
left out until there is a logout and an authorization response.
"""

from django.conf import settings
from django.http import HttpRequest

from identity.tenant import tenant_id, tenant_name
from policies.models import Policy, PolicyOutputClaim

# Claims every token or ID token may carry whatever the policy lists (SPEC §3 "Common claims").
STANDARD_CLAIMS = ("iss", "sub", "aud", "exp", "nbf", "iat", "auth_time", "ver", "oid", "idp")
GRANT_TYPES = ("password", "refresh_token", "client_credentials")
CLIENT_AUTH_METHODS = ("client_secret_post", "client_secret_basic", "private_key_jwt")
# What a private_key_jwt client assertion may be signed with (identity/oauth/client_assertion.py).
CLIENT_ASSERTION_ALGORITHMS = ("RS256", "PS256")
# OIDC Discovery §3 requires response_types_supported. These are the `response_type` values the ROPC
# grant honours (SPEC §4.1); `code` joins them when the authorization endpoint issues codes.
RESPONSE_TYPES = ("id_token", "token id_token")
# MSAL adds `profile` to every request, so it is accepted and advertised (notes/msal-python.md).
SCOPES = ("openid", "offline_access", "profile")


def _base() -> str:
    return settings.IDENTITY_BASE_URL.rstrip("/")


def policy_url(policy: Policy) -> str:
    """`{base}/{tenant name}/{policy id, lower case}`: the prefix of every per-policy endpoint."""
    return f"{_base()}/{tenant_name()}/{policy.policy_id.lower()}"


def issuer_for(policy: Policy) -> str:
    """The `iss` of tokens minted under this policy, by its token compatibility setting (SPEC §3, §5)."""
    if policy.issuer_pattern == Policy.IssuerPattern.AUTHORITY_WITH_TFP:
        return f"{_base()}/tfp/{tenant_id()}/{policy.policy_id.lower()}/v2.0/"
    return f"{_base()}/{tenant_id()}/v2.0/"


def token_endpoint_url(policy: Policy) -> str:
    return f"{policy_url(policy)}/oauth2/v2.0/token"


def authorization_endpoint_url(policy: Policy) -> str:
    return f"{policy_url(policy)}/oauth2/v2.0/authorize"


def revocation_endpoint_url(policy: Policy) -> str:
    return f"{policy_url(policy)}/oauth2/v2.0/revoke"


def introspection_endpoint_url(policy: Policy) -> str:
    return f"{policy_url(policy)}/oauth2/v2.0/introspect"


def jwks_uri(policy: Policy) -> str:
    return f"{policy_url(policy)}/discovery/v2.0/keys"


def discovery_url(policy: Policy) -> str:
    return f"{policy_url(policy)}/v2.0/.well-known/openid-configuration"


def authority_url(policy: Policy) -> str:
    """What MSAL takes as `authority`: the policy id as registered (MSAL knows B2C by its `B2C_1` prefix)."""
    return f"{_base()}/{tenant_name()}/{policy.policy_id}"


def origin_mismatch(request: HttpRequest) -> str | None:
    """Why the configured public origin must not be advertised to this request, or None.

    A request that arrived over TLS while IDENTITY_BASE_URL is http: typically a TLS server started in
    development without IDENTITY_BASE_URL, which then defaults to http://127.0.0.1:8000. Advertising that
    would send an https-only client (MSAL) to an http endpoint, on another port; the caller answers 421
    (RFC 9110 §15.5.20: not configured for this scheme and authority) with this text instead. The reverse
    (https origin, plain request) is a TLS-terminating proxy and is fine.
    """
    if not (request.is_secure() and _base().startswith("http://")):
        return None
    return (f"This server was reached over https, but its public origin (IDENTITY_BASE_URL) is {_base()}: "
            f"set IDENTITY_BASE_URL=https://{request.get_host()} (or use `make run-tls`, which does).")


def claims_supported(policy: Policy) -> list[str]:
    """The standard claims, the policy's claim (`tfp` or `acr`), then its output claims, without repeats."""
    output = [PolicyOutputClaim.JWT_NAMES[c] for c in policy.output_claim_types() if c in PolicyOutputClaim.JWT_NAMES]
    return list(dict.fromkeys([*STANDARD_CLAIMS, policy.policy_claim, *output]))


def discovery_document(policy: Policy) -> dict:
    """OpenID Provider metadata in B2C's shape (SPEC §2; OIDC Discovery §3, RFC 8414 §2)."""
    return {
        "issuer": issuer_for(policy),
        "authorization_endpoint": authorization_endpoint_url(policy),
        "token_endpoint": token_endpoint_url(policy),
        "jwks_uri": jwks_uri(policy),
        "revocation_endpoint": revocation_endpoint_url(policy),
        "introspection_endpoint": introspection_endpoint_url(policy),
        "revocation_endpoint_auth_methods_supported": [*CLIENT_AUTH_METHODS, "none"],  # public clients too
        "introspection_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        # RFC 8414 §2: required alongside private_key_jwt, for each endpoint that accepts it.
        "revocation_endpoint_auth_signing_alg_values_supported": list(CLIENT_ASSERTION_ALGORITHMS),
        "introspection_endpoint_auth_signing_alg_values_supported": list(CLIENT_ASSERTION_ALGORITHMS),
        "response_types_supported": list(RESPONSE_TYPES),
        "scopes_supported": list(SCOPES),
        # "public" (OIDC Discovery §3, Core §8): `sub` is the user's object id for every client. B2C's own
        # metadata says "pairwise" though its user flows issue the object id too; a relying party that
        # trusted "pairwise" to keep users unlinkable across apps would be misled, and MSAL ignores the field.
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": list(CLIENT_ASSERTION_ALGORITHMS),
        "grant_types_supported": list(GRANT_TYPES),
        "claims_supported": claims_supported(policy),
    }
