"""Client credentials (RFC 6749 §4.4; SPEC §4.3; seed b2c-client-credentials.md).

The scope names one API, `{App ID URI}/.default` or `{API client id}/.default`; the token carries the
app roles admin consent granted the client on that API, in `scp` and `roles`. No database write.
"""

from oauthlib.oauth2.rfc6749.grant_types import ClientCredentialsGrant as OAuthlibClientCredentialsGrant

from applications.models import Application
from applications.selectors import api_find_cached
from identity.oauth import errors, tokens
from identity.oauth.context import context_of
from identity.oauth.grants.base import B2CGrantMixin
from identity.text import echo
from policies.engine import PolicyRequest, evaluate

DEFAULT_SUFFIX = "/.default"


class ClientCredentialsGrant(B2CGrantMixin, OAuthlibClientCredentialsGrant):
    grant_type = "client_credentials"

    def issue(self, request) -> dict:
        self.request_validator.request_client(request)
        self.check_grant_type(request)  # public clients: unauthorized_client, before any secret check
        self.authenticate_client(request)
        api = resolve_default_scope(request.scopes or [])
        policy = context_of(request).policy
        result = evaluate(PolicyRequest(policy=policy, grant_type=self.grant_type, client=request.client, api=api))
        epoch = int(request.now.timestamp())
        lifetime = policy.access_token_lifetime_minutes * 60
        return {
            "access_token": tokens.app_access_token(
                policy, client=request.client, api=api, roles=result.claims["roles"], now=request.now.timestamp()
            ),
            "token_type": "Bearer",
            "not_before": epoch,
            "expires_in": lifetime,
            "expires_on": epoch + lifetime,
            "resource": api.client_id,
        }


def resolve_default_scope(scopes: list[str]) -> Application:
    """The API a `{resource}/.default` scope names (App ID URI or client id)."""
    if not scopes:
        raise errors.InvalidScope("The scope parameter is required; use '{App ID URI}/.default'.")
    if len(scopes) != 1 or not scopes[0].endswith(DEFAULT_SUFFIX):
        raise errors.InvalidScope(
            f"The scope '{echo(' '.join(scopes))}' is not valid for the client credentials flow; use exactly one "
            "'{App ID URI}/.default' or '{API client id}/.default'.", b2c_code="AADB2C90012",
        )
    resource = scopes[0][: -len(DEFAULT_SUFFIX)]
    api = api_find_cached(resource)
    if api is None:
        raise errors.InvalidScope(f"The resource '{echo(resource)}' is not an API registered in this tenant.",
                                  b2c_code="AADB2C90012")
    return api
