"""Refresh token redemption (RFC 6749 §6; SPEC §4.2): rotation, revocation, the refresh journey."""

from oauthlib.oauth2.rfc6749.grant_types import RefreshTokenGrant as OAuthlibRefreshTokenGrant

from identity.oauth import errors
from identity.oauth.context import body_param
from identity.oauth.grants.base import B2CGrantMixin, require
from identity.oauth.responses import user_token_response
from identity.oauth.scopes import parse_user_scopes


class RefreshTokenGrant(B2CGrantMixin, OAuthlibRefreshTokenGrant):
    grant_type = "refresh_token"

    def issue(self, request) -> dict:
        self.authenticate_client(request)
        require(request, "refresh_token")
        self.request_validator.validate_refresh_token(request.refresh_token, request.client, request)
        token = request.refresh_token_instance
        original = token.scope.split()
        requested = request.scopes or original
        if not set(requested) <= set(original):
            raise errors.InvalidScope("The requested scope exceeds the scope originally granted.")
        scopes = parse_user_scopes(requested, request.client, resource_param=body_param(request, "resource"))
        return user_token_response(request, scopes, auth_time=token.auth_time or token.created, predecessor=token)
