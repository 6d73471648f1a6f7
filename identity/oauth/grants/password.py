"""Resource owner password credentials (RFC 6749 §4.3; SPEC §4.1; seed b2c-ropc-custom-policy.md).

oauthlib checks the password before the client's permission to use the grant; B2C and we check the
client first, so a client without the ROPC capability learns nothing about passwords.
"""

from oauthlib.oauth2.rfc6749.grant_types import ResourceOwnerPasswordCredentialsGrant

from identity.oauth import errors
from identity.oauth.context import context_of
from identity.oauth.grants.base import B2CGrantMixin, require
from identity.oauth.responses import user_token_response
from identity.oauth.scopes import parse_user_scopes
from policies.models import Policy

RESPONSE_TYPES = {"token", "id_token"}
# Policies that run the ROPC journey: the ROPC user flow, and custom policies.
ROPC_POLICY_KINDS = {Policy.Kind.ROPC, Policy.Kind.CUSTOM}


class PasswordGrant(B2CGrantMixin, ResourceOwnerPasswordCredentialsGrant):
    grant_type = "password"

    def issue(self, request) -> dict:
        self.authenticate_client(request)
        self.check_grant_type(request)
        if context_of(request).policy.kind not in ROPC_POLICY_KINDS:
            raise errors.UnsupportedGrantType(
                f"The supplied grant_type [password] is not supported by policy '{context_of(request).policy}'."
            )
        require(request, "username", "password")
        if request.response_type and not set(request.response_type.split()) <= RESPONSE_TYPES:
            raise errors.InvalidRequest(f"Unsupported response_type '{request.response_type}'.")
        request.user_scopes = parse_user_scopes(request.scopes or ["openid"], request.client)
        self.request_validator.validate_user(request.username, request.password, request.client, request)
        # Its one write, the refresh token's INSERT, is atomic by itself: no transaction, no BEGIN/COMMIT.
        return user_token_response(request, request.user_scopes, auth_time=request.now)
